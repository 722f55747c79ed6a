"""Item 12: a webhook URL's secrets reach neither a log line nor the database; credentials are
sent as they should be; webhooks do not reach into the hub's own network unless allowed."""

import base64
import ipaddress
import logging
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from hub.alerts.engine import AlertEngine
from hub.alerts.records import add_rule
from hub.alerts.rules import Rule, RuleKind
from hub.alerts.webhook import Webhook, redacted, refusal
from hub.config import AlertSettings, HubSettings
from hub.fleet.pki import FleetCA
from hub.ingest import store
from hub.models import AlertDelivery
from protocol.errors import ConfigError
from protocol.messages import Button
from tests.hub.factories import NOON, press

SECRETS = ("s3cr3t-t0ken", "path-key-42", "query-key-77")


class Recorder(BaseHTTPRequestHandler):
    """Answers every POST with `status` (and `location`), keeping the request's headers."""

    status = 200
    location = ""
    seen: list[dict[str, str]]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append(dict(self.headers))
        self.send_response(self.status)
        if self.location:
            self.send_header("Location", self.location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


class Trickler(BaseHTTPRequestHandler):
    """Takes the POST, then answers a byte at a time: each one in time, the answer never."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        with suppress(OSError):  # the hub hung up
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.2)

    def log_message(self, *_args: Any) -> None:
        pass


Serve = Callable[..., tuple[int, list[dict[str, str]]]]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """serve(status=200, location="", tls=PEM) -> (port, the headers of each request it got)."""
    servers: list[ThreadingHTTPServer] = []

    def start(
        status: int = 200, location: str = "", tls: Path | None = None
    ) -> tuple[int, list[dict[str, str]]]:
        seen: list[dict[str, str]] = []
        handler = type("Hook", (Recorder,), {"status": status, "location": location, "seen": seen})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(tls)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1], seen

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def trickler() -> Iterator[int]:
    """The port of a webhook receiver that trickles its answer."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Trickler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def one_alert(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """A rule that fires at `hel` on the next evaluation at NOON."""
    with sessions.begin() as session:
        store.add_location(session, location_id="hel", name="Helsinki", time_zone="UTC")
        rule = Rule(0, "hel", RuleKind.ANSWER_COUNT, 1, 15, button=Button.UNHAPPY)
        add_rule(session, rule=rule, created_by="admin", now=NOON)
        unhappy = press(Button.UNHAPPY, location_id="hel", at=NOON - timedelta(seconds=1))
        store.store_events(session, events=[unhappy], received_at=NOON)
    return sessions


def _deliver(sessions: sessionmaker[Session], tmp_path: Path, **alerts: Any) -> AlertDelivery:
    """Open the alert with these alert settings, try its webhook delivery once; its row."""
    engine = AlertEngine(
        sessions,
        HubSettings(data_dir=tmp_path, alerts=AlertSettings(mqtt=False, **alerts)),
        lambda _topic, _payload: True,
    )
    engine.evaluate(NOON)
    engine.deliveries.deliver_due(NOON)
    with sessions() as session:
        [row] = session.scalars(select(AlertDelivery)).all()
        session.expunge(row)
        return row


def test_a_failing_webhook_leaks_no_secret_to_logs_or_the_database(
    one_alert: sessionmaker[Session],
    tmp_path: Path,
    serve: Serve,
    caplog: pytest.LogCaptureFixture,
) -> None:
    port, seen = serve(status=500)
    url = f"http://hub:{SECRETS[0]}@127.0.0.1:{port}/hooks/{SECRETS[1]}?key={SECRETS[2]}"
    with caplog.at_level(logging.DEBUG):
        row = _deliver(one_alert, tmp_path, webhook_url=url, webhook_allow_private=True)
    assert row.state == "pending" and row.last_error
    assert f"http://***@127.0.0.1:{port}/…" in row.last_error
    assert "500" in row.last_error
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in SECRETS:
        assert secret not in row.last_error
        assert secret not in logged
    [headers] = seen  # the credentials of the URL went out as Basic authentication
    assert headers["Authorization"] == "Basic " + base64.b64encode(
        f"hub:{SECRETS[0]}".encode()
    ).decode("ascii")


def test_an_unreachable_webhook_leaks_no_secret_either(
    one_alert: sessionmaker[Session], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://hub:{SECRETS[0]}@127.0.0.1:9/hooks/{SECRETS[1]}?key={SECRETS[2]}"
    row = _deliver(one_alert, tmp_path, webhook_url=url, webhook_allow_private=True)
    assert row.last_error
    for secret in SECRETS:
        assert secret not in row.last_error
        assert secret not in caplog.text


def test_a_receiver_that_trickles_its_answer_fails_the_attempt_at_the_deadline(
    one_alert: sessionmaker[Session],
    tmp_path: Path,
    trickler: int,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(Webhook, "deadline_s", 1)  # 15 s in service
    url = f"http://hub:{SECRETS[0]}@127.0.0.1:{trickler}/hooks/{SECRETS[1]}?key={SECRETS[2]}"
    started = time.monotonic()
    row = _deliver(one_alert, tmp_path, webhook_url=url, webhook_allow_private=True)
    assert time.monotonic() - started < 3, "the whole answer would take 7.6 s"
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.next_attempt_at is not None and row.next_attempt_at > NOON  # retried later
    assert row.last_error == (
        f"webhook http://***@127.0.0.1:{trickler}/…: no complete answer within 1 s"
    )
    for secret in SECRETS:
        assert secret not in caplog.text


def test_a_configured_token_is_sent_as_a_bearer(
    one_alert: sessionmaker[Session], tmp_path: Path, serve: Serve
) -> None:
    port, seen = serve()
    row = _deliver(
        one_alert,
        tmp_path,
        webhook_url=f"http://127.0.0.1:{port}/hook",
        webhook_token=SECRETS[0],
        webhook_allow_private=True,
    )
    assert row.state == "delivered"
    assert [h["Authorization"] for h in seen] == [f"Bearer {SECRETS[0]}"]


def test_an_https_webhook_is_verified_and_authenticated(
    one_alert: sessionmaker[Session],
    tmp_path: Path,
    serve: Serve,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ca = FleetCA.create(tmp_path / "ca")
    issued = ca.issue_server(["127.0.0.1"])
    (tmp_path / "server.pem").write_bytes(issued.certificate_pem + issued.key_pem)
    port, seen = serve(tls=tmp_path / "server.pem")
    url = f"https://hub:{SECRETS[0]}@127.0.0.1:{port}/hook"
    untrusted = _deliver(one_alert, tmp_path, webhook_url=url, webhook_allow_private=True)
    assert "CERTIFICATE_VERIFY_FAILED" in (untrusted.last_error or "")
    assert seen == []
    (tmp_path / "ca.pem").write_bytes(ca.certificate_pem)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    with one_alert.begin() as session:
        session.execute(update(AlertDelivery).values(next_attempt_at=NOON))
    trusted = _deliver(one_alert, tmp_path, webhook_url=url, webhook_allow_private=True)
    assert trusted.state == "delivered"
    assert [h["Authorization"].split()[0] for h in seen] == ["Basic"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/hook",
        "http://[::1]/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "http://10.0.0.5/hook",
        "http://[::ffff:127.0.0.1]/hook",
    ],
)
def test_a_webhook_to_an_inside_address_is_refused_at_start(
    sessions: sessionmaker[Session], tmp_path: Path, url: str
) -> None:
    settings = HubSettings(data_dir=tmp_path, alerts=AlertSettings(webhook_url=url))
    with pytest.raises(ConfigError, match="SEED_HUB_WEBHOOK_ALLOW_PRIVATE"):
        AlertEngine(sessions, settings, lambda _topic, _payload: True)


def test_a_name_is_checked_where_it_resolves_at_delivery(
    one_alert: sessionmaker[Session], tmp_path: Path, serve: Serve
) -> None:
    port, seen = serve()
    row = _deliver(one_alert, tmp_path, webhook_url=f"http://localhost:{port}/hook")
    assert row.state == "pending"
    assert "loopback" in (row.last_error or "")
    assert seen == []  # nothing reached the inside server


def test_a_redirect_is_not_followed(
    one_alert: sessionmaker[Session], tmp_path: Path, serve: Serve
) -> None:
    inside_port, inside = serve()
    inside_url = f"http://127.0.0.1:{inside_port}/admin/{SECRETS[1]}"
    port, seen = serve(status=307, location=inside_url)
    row = _deliver(
        one_alert,
        tmp_path,
        webhook_url=f"http://127.0.0.1:{port}/hook",
        webhook_allow_private=True,
    )
    assert len(seen) == 1 and inside == []
    assert row.state == "pending"
    assert "redirects are not followed" in (row.last_error or "")
    assert SECRETS[1] not in (row.last_error or "")


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.2", "loopback"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("239.1.2.3", "multicast"),
        ("ff02::1", "multicast"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("100.64.0.1", "non-public"),
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::7f00:1", "loopback"),
        ("93.184.215.14", None),
        ("2606:4700::1111", None),
    ],
)
def test_the_addresses_a_webhook_may_reach(address: str, why: str | None) -> None:
    assert refusal(ipaddress.ip_address(address)) == why


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://u:p@hooks.example.org:8443/a/b?k=v", "https://***@hooks.example.org:8443/…"),
        ("https://hooks.example.org", "https://hooks.example.org"),
        ("http://[::1]:8080/x", "http://[::1]:8080/…"),
        ("/elsewhere?key=secret", "(a URL without a host)"),
    ],
)
def test_redaction_keeps_the_host_only(url: str, shown: str) -> None:
    assert redacted(url) == shown
