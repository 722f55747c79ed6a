"""The hub's wiring against an in-memory MQTT link: no broker needed."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.app import Hub, HubRole
from hub.config import HubSettings, MqttSettings
from protocol.messages import Button, PressEvent, encode
from protocol.topics import Topics
from tests.fake_mqtt import FakeMqttFactory
from tests.helpers import wait_until

TOPICS = Topics("seed")


@pytest.fixture
def links(tmp_path: Path) -> Iterator[FakeMqttFactory]:
    factory = FakeMqttFactory()
    hub = Hub(
        HubSettings(
            db=f"sqlite:///{tmp_path / 'hub.sqlite3'}",
            data_dir=tmp_path,
            mqtt=MqttSettings(broker="mqtt://broker.invalid:1883", client_id="test-hub"),
        ),
        role=HubRole.INGEST,
        link=factory,
    )
    hub.start()
    yield factory
    hub.stop()


def test_the_hub_subscribes_stores_and_acknowledges_through_the_link(
    links: FakeMqttFactory,
) -> None:
    link = links.link
    assert link.started and link.connected
    event = PressEvent(
        event_id="event-1",
        device_id="k-1",
        location_id="loc",
        seq=1,
        occurred_at=datetime.now(UTC),
        button=Button.HAPPY,
    )
    assert link.fire_message(TOPICS.events("k-1"), encode(event))
    wait_until(lambda: bool(link.published_to(TOPICS.ack("k-1"))), 10, "the hub's ack")
    acks = [json.loads(payload) for payload in link.published_to(TOPICS.ack("k-1"))]
    assert acks[0]["stored"] == ["event-1"]
    assert not link.fire_message("elsewhere/k-1/events", encode(event))
