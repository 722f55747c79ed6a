"""Issue 13, item 5: kiosk accounts work on the kiosk listeners only, the hub's on loopback only.

Against Mosquitto run on the config `seed-hub fleet init` writes, as in test_fleet_security.
"""

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.config import MqttSettings
from protocol.messages import encode
from protocol.mqtt import MqttOptions, probe_access
from protocol.topics import Topics
from tests.helpers import wait_until
from tests.integration.test_fleet_security import (
    FleetEnv,
    hub_options,
    provisioned_fleet,
    session_of,
    unhappy_press,
)

pytestmark = pytest.mark.mosquitto


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FleetEnv]:
    with provisioned_fleet(tmp_path, monkeypatch) as env:
        yield env


def logs_in(options: MqttOptions) -> bool:
    return probe_access(options, foreign_topic="seed/devices/x/events", timeout_s=5).connected


def on_the_hubs_listener(kiosk: MqttOptions, client_id: str) -> MqttOptions:
    """The kiosk's username and password, presented on the hub's loopback listener."""
    loopback = hub_options(client_id).address
    return dataclasses.replace(kiosk, address=loopback, client_id=client_id, ca_file=None)


def test_a_kiosks_password_is_refused_on_the_hubs_listener(fleet: FleetEnv) -> None:
    kiosk = fleet.options(fleet.provision("kiosk-1", auth="password"), "kiosk-1")
    assert logs_in(kiosk), "it works where it belongs"
    assert not logs_in(on_the_hubs_listener(kiosk, "kiosk-1"))


def test_the_hubs_account_is_refused_on_the_kiosks_listener(fleet: FleetEnv) -> None:
    kiosk = fleet.options(fleet.provision("kiosk-1", auth="password"), "probe")
    hub = hub_options("probe")
    assert logs_in(hub), "it works where it belongs"
    assert not logs_in(dataclasses.replace(kiosk, username=hub.username, password=hub.password))


def test_kiosk_credentials_cannot_take_over_the_hubs_session(fleet: FleetEnv) -> None:
    kiosk = fleet.options(fleet.provision("kiosk-1", auth="password"), "kiosk-1")
    hub_id = MqttSettings().client_id
    every_event = (Topics().every_device("events"),)
    with session_of(hub_options(hub_id, every_event)) as hub:
        # the kiosk asks for the hub's client id on loopback, then on its own listener
        probe_access(on_the_hubs_listener(kiosk, hub_id), foreign_topic="x", timeout_s=5)
        probe_access(dataclasses.replace(kiosk, client_id=hub_id), foreign_topic="x", timeout_s=5)
        time.sleep(0.5)  # a takeover drops the hub at once
        with session_of(kiosk) as sender:
            event = encode(unhappy_press("after-the-attempts", device_id="kiosk-1"))
            assert sender.connection.publish_and_wait(Topics().events("kiosk-1"), event)
        wait_until(lambda: len(hub.received) == 1, 10, "the hub to receive the kiosk's event")
        assert hub.drops == [] and hub.connection.connected
