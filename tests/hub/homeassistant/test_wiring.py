"""The publisher in the hub's wiring, against the in-memory link: the connection's last will,
its subscription to the announced configs, and those configs kept away from ingest."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.app import Hub, HubRole
from hub.config import HomeAssistantSettings, HubSettings, MqttSettings
from hub.homeassistant.discovery import HaTopics
from protocol.messages import DeviceState, encode
from protocol.mqtt import Will
from protocol.topics import Topics
from tests.fake_mqtt import FakeMqtt, FakeMqttFactory
from tests.helpers import wait_until
from tests.hub.factories import status

TOPICS = HaTopics("homeassistant", "seed/ha", "seed")


def _hub(tmp_path: Path, links: FakeMqttFactory, **groups: object) -> Hub:
    return Hub(
        HubSettings(
            db=f"sqlite:///{tmp_path / 'hub.sqlite3'}",
            data_dir=tmp_path,
            mqtt=MqttSettings(broker="mqtt://broker.invalid:1883", client_id="test-hub"),
            **groups,  # type: ignore[arg-type]
        ),
        role=HubRole.INGEST,
        link=links,
    )


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Hub, FakeMqtt]]:
    links = FakeMqttFactory()
    hub = _hub(tmp_path, links, homeassistant=HomeAssistantSettings(enabled=True, publish_s=0.1))
    hub.start()
    yield hub, links.link
    hub.stop()


def test_the_hubs_last_will_says_it_is_offline(running: tuple[Hub, FakeMqtt]) -> None:
    link = running[1]
    assert link.options.will == Will(TOPICS.availability, b"offline", retain=True)
    assert TOPICS.announced in link.options.subscriptions
    wait_until(lambda: link.published_to(TOPICS.availability) != [], 10, "online")
    assert link.published_to(TOPICS.availability)[0] == b"online"
    assert all(
        p.retain for p in link.published if p.topic.startswith(("homeassistant/", "seed/ha"))
    )


def test_a_replayed_config_of_something_gone_is_cleared_not_ingested(
    running: tuple[Hub, FakeMqtt],
) -> None:
    hub, link = running
    stale = TOPICS.config("sensor", "seed_location_gone_positive")
    config = {"unique_id": "x", "state_topic": "seed/ha/locations/gone/state"}
    assert link.fire_message(stale, json.dumps(config).encode(), retained=True)
    wait_until(lambda: link.published_to(stale) == [b""], 10, "the config cleared")
    wait_until(lambda: link.published_to(config["state_topic"]) == [b""], 10, "its state cleared")
    alive = Topics("seed").status("k-1")
    assert link.fire_message(alive, encode(status(DeviceState.ONLINE, device_id="k-1")))
    wait_until(lambda: hub.ingestor.stats.statuses == 1, 10, "the kiosk's status ingested")
    assert hub.ingestor.stats.dead_letters == {}, "the config never reached ingest"


def test_a_foreign_state_topic_in_a_replayed_config_is_left_alone(
    running: tuple[Hub, FakeMqtt],
) -> None:
    link = running[1]
    stale = TOPICS.config("sensor", "odd")
    kiosk_config = Topics("seed").config("k-1")
    link.fire_message(stale, json.dumps({"state_topic": kiosk_config}).encode(), retained=True)
    wait_until(lambda: link.published_to(stale) == [b""], 10, "the config cleared")
    assert link.published_to(kiosk_config) == []


def test_turned_off_the_connection_is_as_it_was(tmp_path: Path) -> None:
    links = FakeMqttFactory()
    hub = _hub(tmp_path, links)
    hub.start()
    try:
        options = links.link.options
        assert options.will is None
        assert not [s for s in options.subscriptions if "homeassistant" in s]
    finally:
        hub.stop()
    assert not [p for p in links.link.published if p.topic.startswith(("homeassistant", "seed/ha"))]
