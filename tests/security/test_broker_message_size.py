"""Issue 13, item 2 (the broker's half): Mosquitto passes no message bigger than the hub takes.

`fleet init` sets Mosquitto's `max_packet_size` from the hub's `max_payload_bytes`, plus room
for topic and headers. Mosquitto 2.0.11 disconnects a client that sends a bigger packet,
whatever its MQTT version, and forwards nothing. (Its `message_size_limit` would instead
PUBACK an MQTT 3.1.1 client, as kiosks are, and drop the message unseen.)
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.app import Hub
from hub.config import IngestSettings
from protocol.messages import encode
from protocol.topics import Topics
from tests.helpers import wait_until
from tests.integration.test_fleet_security import (
    FleetEnv,
    provisioned_fleet,
    running_hub,
    session_of,
    unhappy_press,
)

pytestmark = pytest.mark.mosquitto

LONGEST_ID = "kiosk-" + "x" * 58  # 64 characters: the longest topic a kiosk publishes on


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FleetEnv]:
    with provisioned_fleet(tmp_path, monkeypatch) as env:
        yield env


@pytest.fixture
def hub(fleet: FleetEnv) -> Iterator[Hub]:
    with running_hub() as running:
        yield running


def padded_event(event_id: str, size: int) -> bytes:
    """A valid press event, padded with JSON whitespace to `size` bytes."""
    body = encode(unhappy_press(event_id, device_id=LONGEST_ID))
    return body + b" " * (size - len(body))


def test_a_payload_bigger_than_the_hub_takes_never_passes_the_broker(
    fleet: FleetEnv, hub: Hub
) -> None:
    limit = IngestSettings().max_payload_bytes
    kiosk = fleet.options(fleet.provision(LONGEST_ID, auth="password"), LONGEST_ID)
    topic = Topics().events(LONGEST_ID)
    with session_of(kiosk) as session:
        assert session.connection.publish_and_wait(topic, padded_event("at-the-limit", limit))
        wait_until(lambda: fleet.stored(LONGEST_ID) == 1, 10, "the largest event the hub takes")
        oversized = padded_event("oversized", 20_000)
        assert not session.connection.publish_and_wait(topic, oversized, timeout_s=3)
        wait_until(lambda: bool(session.drops), 5, "the broker to disconnect the sender")
    with session_of(kiosk) as session:  # a fresh one: paho would resend the oversized message
        assert session.connection.publish_and_wait(topic, padded_event("afterwards", 500))
    wait_until(lambda: fleet.stored(LONGEST_ID) == 2, 10, "the event sent afterwards")
    assert fleet.dead_letters("oversized_payload") == 0, "the hub never saw it"
