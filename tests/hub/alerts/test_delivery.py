"""Each alert reaches each channel once, across restarts: a real Mosquitto subscriber, a
local webhook that fails once, and aiosmtpd as the SMTP server."""

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.alerts.engine import AlertEngine
from hub.alerts.records import add_rule
from hub.alerts.rules import Rule, RuleKind
from hub.app import Hub
from hub.config import AlertSettings, HubSettings, SmtpSettings
from hub.ingest import store
from hub.mailer import Attachment, send_mail
from hub.models import AlertDelivery
from lab.mosquitto import MosquittoProcess
from protocol.broker_url import parse_broker_url
from protocol.messages import Button
from protocol.mqtt import Message, MqttConnection, MqttOptions
from tests.hub.alerts.conftest import Inbox, Presser, smtp_inbox
from tests.hub.factories import NOON, press

SECOND = timedelta(seconds=1)
UNHAPPY_FOUR = [Button.UNHAPPY] * 4


class Hook(BaseHTTPRequestHandler):
    answers: list[int]
    bodies: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status = self.answers.pop(0) if self.answers else 200
        if status == 200:
            self.bodies.append(body)
        self.send_response(status)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, type[Hook]]]:
    handler = type("OnceFailing", (Hook,), {"answers": [500], "bodies": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    server.shutdown()
    server.server_close()


def test_webhook_retries_with_backoff_and_delivers_once_across_a_restart(
    places: sessionmaker[Session],
    presses: Presser,
    make_rule: Callable[..., int],
    engine_for: Callable[..., AlertEngine],
    webhook: tuple[str, type[Hook]],
) -> None:
    url, hook = webhook
    make_rule(RuleKind.ANSWER_COUNT, 4, button=Button.UNHAPPY)
    presses(UNHAPPY_FOUR, at=[NOON - SECOND] * 4)
    settings = {
        "alerts": AlertSettings(
            webhook_url=url,
            webhook_allow_private=True,  # the test's webhook listens on loopback
            mqtt=False,
            retry_base_s=5,
        )
    }
    first = engine_for(**settings)
    [alert_id] = first.evaluate(NOON)
    assert first.deliveries.deliver_due(NOON) == 0  # the webhook answers 500
    assert first.deliveries.deliver_due(NOON + 4 * SECOND) == 0  # not due before 5 s
    with places() as session:
        row = session.get(AlertDelivery, (alert_id, "webhook"))
        assert row is not None
        assert (row.state, row.attempts, row.next_attempt_at) == ("pending", 1, NOON + 5 * SECOND)
        assert "500" in (row.last_error or "")
    restarted = engine_for(**settings)
    assert restarted.deliveries.deliver_due(NOON + 5 * SECOND) == 1
    assert engine_for(**settings).deliveries.deliver_due(NOON + timedelta(days=1)) == 0
    assert [b["id"] for b in hook.bodies] == [alert_id]
    assert hook.bodies[0]["location"] == "gate-a"


def test_a_delivery_is_given_up_after_its_last_attempt(
    places: sessionmaker[Session],
    presses: Presser,
    make_rule: Callable[..., int],
    engine_for: Callable[..., AlertEngine],
) -> None:
    make_rule(RuleKind.ANSWER_COUNT, 4, button=Button.UNHAPPY)
    presses(UNHAPPY_FOUR, at=[NOON - SECOND] * 4)
    engine = engine_for(
        alerts=AlertSettings(
            webhook_url="http://127.0.0.1:9/nothing-listens",
            webhook_allow_private=True,
            mqtt=False,
            max_attempts=2,
        )
    )
    engine.evaluate(NOON)
    engine.deliveries.deliver_due(NOON)
    engine.deliveries.deliver_due(NOON + timedelta(hours=2))
    with places() as session:
        assert session.scalars(select(AlertDelivery.state)).all() == ["failed"]


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    with smtp_inbox() as server:
        yield server


def test_email_is_sent_once_through_smtp(
    places: sessionmaker[Session],
    presses: Presser,
    make_rule: Callable[..., int],
    engine_for: Callable[..., AlertEngine],
    smtp_server: tuple[int, Inbox],
) -> None:
    port, inbox = smtp_server
    make_rule(RuleKind.ANSWER_COUNT, 4, button=Button.UNHAPPY)
    presses(UNHAPPY_FOUR, at=[NOON - SECOND] * 4)
    settings = {
        "alerts": AlertSettings(mqtt=False, email_to=["duty@example.org"]),
        "smtp": SmtpSettings(host="127.0.0.1", port=port, starttls=False),
    }
    engine = engine_for(**settings)
    [alert_id] = engine.evaluate(NOON)
    assert engine.deliveries.deliver_due(NOON) == 1
    assert engine_for(**settings).deliveries.deliver_due(NOON + timedelta(days=1)) == 0
    [raw] = inbox.messages
    mail = message_from_bytes(raw)
    assert mail["To"] == "duty@example.org"
    assert mail["Subject"].startswith(f"[Seed alert {alert_id}] GATE-A")


def test_send_mail_carries_attachments(tmp_path: Path, smtp_server: tuple[int, Inbox]) -> None:
    port, inbox = smtp_server
    settings = HubSettings(
        data_dir=tmp_path,
        smtp=SmtpSettings(host="127.0.0.1", port=port, starttls=False, from_="reports@example.org"),
    )
    send_mail(
        settings,
        ["a@example.org", "b@example.org"],
        "Weekly",
        "See attached.",
        attachments=(Attachment("week.pdf", b"%PDF-1.4", "application/pdf"),),
    )
    mail = message_from_bytes(inbox.messages[0])
    [part] = [p for p in mail.walk() if p.get_filename()]
    assert (part.get_filename(), part.get_content_type()) == ("week.pdf", "application/pdf")
    assert part.get_payload(decode=True) == b"%PDF-1.4"


def test_mqtt_alert_reaches_a_subscriber_once_across_a_hub_restart(
    mosquitto: MosquittoProcess, start_hub: Callable[..., Hub], tmp_path: Path
) -> None:
    received: list[Message] = []
    # subscriber: SUBSCRIBE seed/alerts/# at QoS 1, before any alert exists
    listener = MqttConnection(
        MqttOptions(
            parse_broker_url(mosquitto.url), "alert-listener", subscriptions=("seed/alerts/#",)
        ),
        on_message=received.append,
    )
    listener.start()
    assert listener.wait_connected(10)
    db = f"sqlite:///{tmp_path / 'alerts.sqlite3'}"
    hub = start_hub(mosquitto.url, db=db, alerts=AlertSettings(interval_s=0.2))
    now = datetime.now(UTC)
    with hub.sessions.begin() as session:
        store.add_location(session, location_id="gate-a", name="Gate A", time_zone="UTC")
        add_rule(
            session,
            rule=Rule(0, "gate-a", RuleKind.ANSWER_COUNT, 2, 15, button=Button.UNHAPPY),
            created_by="admin",
            now=now,
        )
        store.store_events(
            session,
            events=[press(Button.UNHAPPY, at=now - SECOND, seq=i) for i in (1, 2)],
            received_at=now,
        )
    _wait_for(lambda: len(received) >= 1)
    hub.stop()
    # hub publishes alert at QoS 1 and marks it delivered after the PUBACK; a restart sends nothing
    start_hub(
        mosquitto.url, db=db, client_id="test-hub-again", alerts=AlertSettings(interval_s=0.2)
    )
    time.sleep(2.5)
    listener.stop()
    assert [m.topic for m in received] == ["seed/alerts/gate-a"]
    assert json.loads(received[0].payload)["kind"] == "answer_count"


def _wait_for(condition: Callable[[], bool], timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
