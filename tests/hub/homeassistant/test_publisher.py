"""The hub announcing its locations and kiosks to Home Assistant, against a real Mosquitto: what
a Home Assistant subscribed to the broker would read, retained, and what it is told to remove."""

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import delete
from sqlalchemy.orm import Session

from hub.app import Hub
from hub.config import HomeAssistantSettings, HubSettings, MqttSettings
from hub.db import make_engine, session_factory
from hub.fleet.broker_files import hash_password, render_hub_acl
from hub.homeassistant.discovery import HaTopics
from hub.homeassistant.figures import local_midnight
from hub.ingest import store
from hub.ingest.broker import free_port
from hub.models import Device, Location, Placement
from hub.reporting.scores import ButtonCounts, happy_index, positive_share
from lab.mosquitto import MosquittoProcess, mosquitto_binary
from protocol.broker_url import BrokerAddress
from protocol.messages import Button
from protocol.mqtt import Message, MqttConnection, MqttOptions
from tests.helpers import connect_client, service_missing, wait_until
from tests.hub.factories import place, press, status

TOPICS = HaTopics("homeassistant", "seed/ha", "seed")
ENABLED = HomeAssistantSettings(enabled=True, publish_s=0.2)
GATE_1 = ButtonCounts(very_happy=3, happy=2, unhappy=1, very_unhappy=1)
GATE_2 = ButtonCounts(happy=1, very_unhappy=2)


class Listener:
    """What a Home Assistant would see: the latest payload on each topic, and whether the
    broker handed it over as retained."""

    def __init__(self) -> None:
        self.latest: dict[str, Message] = {}
        self._lock = threading.Lock()

    def __call__(self, message: Message) -> None:
        with self._lock:
            self.latest[message.topic] = message

    def document(self, topic: str) -> dict[str, Any] | None:
        """The JSON on `topic`; None while nothing (or an empty payload) is there."""
        with self._lock:
            message = self.latest.get(topic)
        return json.loads(message.payload) if message and message.payload else None

    def payload(self, topic: str) -> bytes | None:
        with self._lock:
            message = self.latest.get(topic)
        return None if message is None else message.payload

    def configs(self) -> dict[str, dict[str, Any]]:
        """unique_id -> config, of every config now announced."""
        with self._lock:
            messages = list(self.latest.values())
        return {
            config["unique_id"]: config
            for message in messages
            if TOPICS.is_announcement(message.topic) and message.payload
            for config in [json.loads(message.payload)]
        }


@pytest.fixture
def listen(mosquitto: MosquittoProcess) -> Iterator[Callable[[], Listener]]:
    """listen() -> a Listener subscribed, like Home Assistant, to discovery and the states."""
    clients: list[MqttConnection] = []

    def start() -> Listener:
        listener = Listener()
        clients.append(
            connect_client(
                mosquitto.address,
                f"home-assistant-{len(clients)}",
                subscriptions=("homeassistant/#", "seed/ha/#"),
                on_message=listener,
            )
        )
        return listener

    yield start
    for client in clients:
        client.stop()


def _buttons(counts: ButtonCounts) -> list[Button]:
    return [b for b in Button for _ in range(getattr(counts, b.value))]


def _airport(db: str, now: datetime) -> None:
    """hel (site) -> gate-1 with kiosk k-1 (online, 3 in its outbox), gate-2 with kiosk k-2;
    today's presses at both gates, one of gate-1's in the last hour."""
    at = max(now - timedelta(hours=2), local_midnight(now, "UTC") + timedelta(seconds=1))
    with session_factory(make_engine(db)).begin() as session:
        place(session, "hel", kind="site", time_zone="UTC")
        place(session, "gate-1", parent="hel", time_zone="UTC")
        place(session, "gate-2", parent="hel", time_zone="UTC")
        for device_id, location_id in (("k-1", "gate-1"), ("k-2", "gate-2")):
            store.register_device(session, device_id=device_id, location_id=location_id, now=now)
        events = [
            press(button, device_id="k-1", location_id="gate-1", at=at)
            for button in _buttons(GATE_1)
        ] + [
            press(button, device_id="k-2", location_id="gate-2", at=at)
            for button in _buttons(GATE_2)
        ]
        events[0] = events[0].model_copy(update={"occurred_at": now - timedelta(minutes=5)})
        events = [e.model_copy(update={"seq": i + 1}) for i, e in enumerate(events)]
        store.store_events(session, events=events, received_at=now)
        store.apply_status(
            session, status=status(device_id="k-1", sent_at=now, outbox_depth=3), received_at=now
        )


def _edit(db: str, change: Callable[[Session], object]) -> None:
    engine = make_engine(db)
    with session_factory(engine).begin() as session:
        change(session)
    engine.dispose()


def _figures(counts: ButtonCounts) -> tuple[float | None, float | None]:
    index, share = happy_index(counts), positive_share(counts)
    assert index is not None and share is not None
    return round(index, 1), round(100 * share, 1)


def test_locations_and_kiosks_appear_with_their_figures_retained(
    mosquitto: MosquittoProcess,
    sqlite_url: str,
    start_hub: Callable[..., Hub],
    listen: Callable[[], Listener],
) -> None:
    _airport(sqlite_url, datetime.now(UTC))
    home = listen()
    hub = start_hub(mosquitto.url, db=sqlite_url, homeassistant=ENABLED)
    assert hub.wait_connected(10)
    expected = {
        f"seed_location_{loc}_{sensor}"
        for loc in ("hel", "gate-1", "gate-2")
        for sensor in ("happy_index", "positive", "responses_last_hour")
    } | {f"seed_kiosk_{k}_{e}" for k in ("k-1", "k-2") for e in ("online", "outbox_depth")}
    wait_until(lambda: set(home.configs()) == expected, 10, "every entity's config")
    wait_until(lambda: home.payload(TOPICS.availability) == b"online", 10, "the hub online")
    configs = home.configs()
    assert configs["seed_location_hel_happy_index"]["device"] == {
        "identifiers": ["seed_location_hel"],
        "name": "Hel",
        "manufacturer": "Seed",
        "model": "Site",
        "sw_version": configs["seed_location_hel_happy_index"]["origin"]["sw_version"],
    }
    kiosk = configs["seed_kiosk_k-1_online"]["device"]
    assert kiosk["identifiers"] == ["seed_kiosk_k-1"]
    assert kiosk["via_device"] == "seed_location_gate-1"
    assert all(c["availability_topic"] == TOPICS.availability for c in configs.values())

    wait_until(lambda: home.document(TOPICS.location_state("hel")) is not None, 10, "states")
    gate_1, site = _figures(GATE_1), _figures(GATE_1 + GATE_2)
    assert home.document(TOPICS.location_state("gate-1")) == {
        "happy_index": gate_1[0],
        "positive_percent": gate_1[1],
        "responses_last_hour": 1,
    }
    assert home.document(TOPICS.location_state("hel")) == {
        "happy_index": site[0],
        "positive_percent": site[1],
        "responses_last_hour": 1,
    }, "a site counts its touchpoints' presses"
    assert home.document(TOPICS.kiosk_state("k-1")) == {"online": True, "outbox_depth": 3}
    assert home.document(TOPICS.kiosk_state("k-2")) == {"online": False, "outbox_depth": None}

    later = listen()  # Home Assistant restarting: the broker hands everything over again
    wait_until(lambda: set(later.configs()) == expected, 10, "the retained configs")
    wait_until(lambda: later.payload(TOPICS.availability) == b"online", 10, "retained online")
    assert later.document(TOPICS.location_state("gate-1")) is not None
    assert all(message.retained for message in later.latest.values())


def test_a_revoked_kiosk_and_a_deleted_location_are_removed(
    mosquitto: MosquittoProcess,
    sqlite_url: str,
    start_hub: Callable[..., Hub],
    listen: Callable[[], Listener],
) -> None:
    now = datetime.now(UTC)
    _airport(sqlite_url, now)
    _edit(sqlite_url, lambda s: place(s, "lounge", parent="hel", time_zone="UTC"))
    home = listen()
    hub = start_hub(mosquitto.url, db=sqlite_url, homeassistant=ENABLED)
    assert hub.wait_connected(10)
    wait_until(lambda: "seed_location_lounge_positive" in home.configs(), 10, "the lounge")
    wait_until(lambda: "seed_kiosk_k-2_online" in home.configs(), 10, "kiosk k-2")
    lounge_topics = [t for t in home.latest if "seed_location_lounge_" in t]
    assert len(lounge_topics) == 3

    _edit(sqlite_url, lambda s: s.get(Device, "k-2").__setattr__("revoked_at", now))
    _edit(sqlite_url, lambda s: s.execute(delete(Location).where(Location.location_id == "lounge")))
    wait_until(lambda: "seed_kiosk_k-2_online" not in home.configs(), 10, "k-2 removed")
    wait_until(lambda: "seed_location_lounge_positive" not in home.configs(), 10, "lounge gone")
    for topic in lounge_topics + [t for t in home.latest if "seed_kiosk_k-2_" in t]:
        assert home.payload(topic) == b"", f"{topic}: an empty payload removes it"
    assert home.payload(TOPICS.location_state("lounge")) == b"", "its state is cleared too"
    assert home.payload(TOPICS.kiosk_state("k-2")) == b""
    assert "seed_kiosk_k-1_online" in home.configs(), "the others stay"

    after = listen()  # nothing of them is left on the broker
    wait_until(lambda: "seed_kiosk_k-1_online" in after.configs(), 10, "the retained configs")
    assert not [t for t in after.latest if "lounge" in t or "k-2" in t]


def test_a_config_announced_before_a_restart_is_removed_by_the_next_hub(
    mosquitto: MosquittoProcess,
    sqlite_url: str,
    start_hub: Callable[..., Hub],
    listen: Callable[[], Listener],
) -> None:
    _airport(sqlite_url, datetime.now(UTC))
    home = listen()
    first = start_hub(mosquitto.url, db=sqlite_url, homeassistant=ENABLED)
    wait_until(lambda: "seed_kiosk_k-2_online" in home.configs(), 10, "kiosk k-2")
    first.stop()
    assert home.payload(TOPICS.availability) == b"offline", "a stopping hub says so"

    def remove_k2(session: Session) -> None:
        session.execute(delete(Placement).where(Placement.device_id == "k-2"))
        session.execute(delete(Device).where(Device.device_id == "k-2"))

    _edit(sqlite_url, remove_k2)
    start_hub(mosquitto.url, db=sqlite_url, client_id="test-hub-again", homeassistant=ENABLED)
    wait_until(lambda: "seed_kiosk_k-2_online" not in home.configs(), 10, "k-2 removed")
    wait_until(lambda: home.payload(TOPICS.availability) == b"online", 10, "online again")
    assert "seed_kiosk_k-1_online" in home.configs()


def test_without_turning_it_on_nothing_is_published(
    mosquitto: MosquittoProcess,
    sqlite_url: str,
    start_hub: Callable[..., Hub],
    listen: Callable[[], Listener],
) -> None:
    _airport(sqlite_url, datetime.now(UTC))
    home = listen()
    hub = start_hub(mosquitto.url, db=sqlite_url)
    assert hub.wait_connected(10)
    time.sleep(1.5)  # turned on, the first round is published at once (well within 1 s)
    hub.stop()
    assert hub.homeassistant is None
    assert not home.latest, sorted(home.latest)


@dataclass(frozen=True)
class FleetBroker:
    """A Mosquitto with accounts: the hub's under the ACL it is given, Home Assistant's
    reading discovery and states, and an admin's that may do anything."""

    address: BrokerAddress
    passwords: dict[str, str]

    @property
    def url(self) -> str:
        return self.address.url

    def client(
        self, user: str, *, subscriptions: tuple[str, ...] = (), on_message: Listener | None = None
    ) -> MqttConnection:
        connection = MqttConnection(
            MqttOptions(
                address=self.address,
                client_id=f"{user}-{secrets.token_hex(4)}",
                username=user,
                password=self.passwords[user],
                subscriptions=subscriptions,
            ),
            on_message=on_message or Listener(),
        )
        connection.start()
        assert connection.wait_connected(10), f"{user} could not log in"
        return connection


@pytest.fixture
def fleet_broker(tmp_path: Path) -> Iterator[FleetBroker]:
    if mosquitto_binary() is None:
        service_missing("mosquitto binary not found (apt-get install mosquitto)")
    passwords = {
        user: secrets.token_urlsafe(16) for user in ("seed-hub", "home-assistant", "admin")
    }
    password_file, acl_file = tmp_path / "passwd", tmp_path / "acl"
    password_file.write_text("".join(f"{u}:{hash_password(p)}\n" for u, p in passwords.items()))
    acl_file.write_bytes(
        render_hub_acl(topic_prefix="seed", hub_username="seed-hub", homeassistant=TOPICS)
        + b"\nuser home-assistant\ntopic read homeassistant/#\ntopic read seed/ha/#\n"
        + b"\nuser admin\ntopic readwrite #\n"
    )
    for path in (password_file, acl_file):
        path.chmod(0o600)
    port = free_port()
    config = (
        f"listener {port} 127.0.0.1\nallow_anonymous false\npersistence false\n"
        f"password_file {password_file}\nacl_file {acl_file}\n"
    )
    with MosquittoProcess(port, config_text=config) as broker:
        yield FleetBroker(broker.address, passwords)


def test_the_hubs_acl_lets_it_announce_read_back_and_clear(
    tmp_path: Path, sqlite_url: str, fleet_broker: FleetBroker
) -> None:
    """Under the ACL its broker account gets (hub.fleet.broker_files), the hub announces, hears
    what an earlier hub announced, and removes what is gone."""
    _airport(sqlite_url, datetime.now(UTC))
    stale = TOPICS.config("sensor", "seed_location_gone_positive")
    admin = fleet_broker.client("admin")
    stale_config = b'{"unique_id":"gone","state_topic":"seed/ha/locations/gone/state"}'
    assert admin.publish_and_wait(stale, stale_config, retain=True)
    home = Listener()
    watcher = fleet_broker.client(
        "home-assistant", subscriptions=("homeassistant/#", "seed/ha/#"), on_message=home
    )
    wait_until(lambda: home.payload(stale) is not None, 10, "the stale config")
    hub = Hub(
        HubSettings(
            db=sqlite_url,
            data_dir=tmp_path,
            mqtt=MqttSettings(
                broker=fleet_broker.url,
                client_id="acl-hub",
                username="seed-hub",
                password=SecretStr(fleet_broker.passwords["seed-hub"]),
            ),
            homeassistant=ENABLED,
        )
    )
    hub.start()
    try:
        assert hub.wait_connected(10), "the hub logs in"
        wait_until(lambda: "seed_kiosk_k-1_online" in home.configs(), 10, "its configs")
        wait_until(lambda: home.payload(stale) == b"", 10, "the stale config cleared")
        wait_until(lambda: home.document(TOPICS.location_state("hel")) is not None, 10, "states")
        assert home.payload(TOPICS.availability) == b"online"
    finally:
        hub.stop()
        watcher.stop()
        admin.stop()
