"""Who reads the metrics: on the dashboard's port, a scraper with the token (none configured:
no such page); on the port of their own, anyone on loopback (the default), and elsewhere
only with the token."""

import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError
from sqlalchemy.orm import Session, sessionmaker

from hub.config import HubSettings, MetricsSettings
from hub.metrics.access import bearer_matches
from hub.metrics.registry import scrape_registry
from hub.metrics.server import configured_server
from hub.web.app import create_app

TOKEN = "s3cret-token-for-prometheus"


def _client(sessions: sessionmaker[Session], tmp_path: Path, token: str | None) -> TestClient:
    metrics = MetricsSettings(token=SecretStr(token) if token else None)
    return TestClient(create_app(HubSettings(data_dir=tmp_path, metrics=metrics), sessions))


def _get(url: str, token: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10):
            return 200
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_web_port_serves_metrics_only_to_the_token(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    client = _client(sessions, tmp_path, TOKEN)
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert "seed_hub" not in refused.text
    for wrong in ("Bearer nope", f"Basic {TOKEN}", f"Bearer {TOKEN}x", TOKEN):
        assert client.get("/metrics", headers={"Authorization": wrong}).status_code == 401
    answered = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answered.status_code == 200
    assert answered.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "seed_hub_devices" in answered.text
    openmetrics = client.get(
        "/metrics",
        headers={"Authorization": f"bearer {TOKEN}", "Accept": "application/openmetrics-text"},
    )
    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
    assert openmetrics.text.endswith("# EOF\n")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_without_a_token_the_web_port_has_no_metrics_page(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    client = _client(sessions, tmp_path, None)
    for headers in ({}, {"Authorization": f"Bearer {TOKEN}"}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 404
        assert response.json() == client.get("/no-such-page").json()


def test_a_token_is_compared_whole() -> None:
    token = SecretStr(TOKEN)
    assert bearer_matches(f"Bearer {TOKEN}", token)
    assert bearer_matches(f"  bearer   {TOKEN} ", token)
    for header in (None, "", "Bearer", "Bearer ", f"Bearer {TOKEN[:-1]}", f"Token {TOKEN}"):
        assert not bearer_matches(header, token)


def test_the_port_of_its_own_listens_on_loopback_by_default() -> None:
    settings = MetricsSettings(port=0, token=SecretStr(TOKEN))  # for the web port only
    assert settings.host == "127.0.0.1" and settings.port_is_open
    server = configured_server(scrape_registry(), settings)
    server.start()
    try:
        assert server.url.startswith("http://127.0.0.1:")
        assert _get(server.url) == 200
    finally:
        server.stop()


def test_elsewhere_than_loopback_the_port_needs_the_token() -> None:
    with pytest.raises(ValidationError, match="SEED_HUB_METRICS_TOKEN"):
        MetricsSettings(port=9464, host="0.0.0.0")
    settings = MetricsSettings(port=0, host="0.0.0.0", token=SecretStr(TOKEN))
    assert not settings.port_is_open
    server = configured_server(scrape_registry(), settings)
    server.start()
    try:
        port = server.url.rsplit(":", 1)[1].split("/")[0]
        address = _an_address_of_this_machine()
        url = f"http://{address}:{port}/metrics"
        assert _get(url) == 401
        assert _get(url, "wrong-token-of-some-length") == 401
        assert _get(url, TOKEN) == 200
    finally:
        server.stop()


def test_a_short_or_placeholder_token_is_refused() -> None:
    with pytest.raises(ValidationError, match="16 characters"):
        MetricsSettings(token=SecretStr("short"))
    with pytest.raises(ValidationError, match="placeholder"):
        MetricsSettings(token=SecretStr("change-me"))


def _an_address_of_this_machine() -> str:
    """An address other than loopback if there is one (else loopback: 0.0.0.0 takes it too)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: it only picks a route
            address: str = probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"
    return address
