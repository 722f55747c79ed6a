"""A hub running in this process with its metrics on a port of their own and on the web port,
after some traffic of every kind: what a scraper of a live hub sees."""

import shutil
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from hub.app import Hub
from hub.config import MetricsSettings, WebSettings
from protocol.broker_url import parse_broker_url
from protocol.messages import encode
from protocol.topics import Topics
from tests.helpers import connect_client, service_missing, wait_until
from tests.hub.factories import press, status
from tests.hub.ingest.test_followups import answer
from tests.hub.metrics.samples import value

TOKEN = "s3cret-token-for-prometheus"


@dataclass(frozen=True)
class Scraped:
    own_port: str
    """/metrics from the port of its own."""
    web_port: str
    """/metrics from the dashboard's port, with the token."""


def fetch(url: str, token: str | None = None) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
        text: str = r.read().decode()
    return text


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        service_missing("promtool not found (apt-get install prometheus)")
    assert found is not None
    return found


@pytest.fixture
def scraped(embedded_broker: str, start_hub: Callable[..., Hub]) -> Scraped:
    """A hub after presses (one resent), a follow-up, a heartbeat, a refused message and a
    page of the dashboard."""
    hub = start_hub(
        embedded_broker,
        web=WebSettings(port=0),
        metrics=MetricsSettings(port=0, token=SecretStr(TOKEN)),
    )
    assert hub.wait_connected(10) and hub.web is not None and hub.metrics is not None
    topics = Topics(hub.settings.mqtt.topic_prefix)
    now = datetime.now(UTC)
    first, second = press(at=now), press(at=now, seq=2)
    stored = value("seed_hub_messages_stored_total", kind="press")
    kiosk = connect_client(parse_broker_url(embedded_broker), "k1")
    try:
        kiosk.publish(topics.status("k1"), encode(status(sent_at=now, outbox_depth=2)), qos=1)
        for message in (first, second, first, answer(first)):
            kiosk.publish(topics.events("k1"), encode(message), qos=1)
        kiosk.publish(topics.events("k1"), b"{not json", qos=1)
        wait_until(
            lambda: value("seed_hub_messages_stored_total", kind="press") - stored == 2,
            what="two presses stored",
        )
    finally:
        kiosk.stop()
    fetch(f"{hub.web.url}/login")
    return Scraped(fetch(hub.metrics.url), fetch(f"{hub.web.url}/metrics", TOKEN))
