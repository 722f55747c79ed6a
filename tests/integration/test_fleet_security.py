"""A provisioned fleet against a real Mosquitto with TLS, passwords, certificates and an ACL.

The fixture sets the fleet up as a technician does: `seed-hub fleet init`, the hub.env it
writes, and Mosquitto run on the config it writes. Every kiosk here is provisioned with
`seed-hub devices add` and runs on the bundle that command writes.
"""

import dataclasses
import json
import logging
import shlex
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from edge.app import Kiosk
from edge.config import KioskConfig, load_config
from edge.panel import mock_pin_factory
from edge.selftest import Outcome, SelftestPlan, run_selftest
from edge.uplink import kiosk_mqtt_options
from hub.app import Hub
from hub.cli import main as seed_hub
from hub.config import HubSettings, MqttSettings
from hub.db import open_session
from hub.ingest.broker import free_port
from hub.models import DeadLetter, Device, Event
from lab.mosquitto import MosquittoProcess, mosquitto_binary
from protocol.broker_url import parse_broker_url
from protocol.messages import Button, PressEvent, encode
from protocol.mqtt import Message, MqttConnection, MqttOptions, probe_access
from protocol.topics import Topics
from tests.helpers import service_missing, wait_until

pytestmark = pytest.mark.mosquitto

AUTHS = ["password", "certificate"]


@dataclass
class FleetEnv:
    root: Path
    broker: MosquittoProcess
    db_url: str
    bundles: Path

    def provision(self, device_id: str, *, auth: str, location: str = "hel-t2-security") -> Path:
        code = seed_hub(
            [
                *("devices", "add", device_id, "--site", "hel", "--area", "hel-t2"),
                *("--location", location, "--tz", "Europe/Helsinki"),
                *("--auth", auth, "--out", str(self.bundles)),
            ]
        )
        assert code == 0
        return self.bundles / device_id

    def kiosk_config(self, bundle: Path) -> KioskConfig:
        config = load_config(bundle / "kiosk.toml")
        mqtt = config.mqtt.model_copy(update={"reconnect_min_s": 1, "reconnect_max_s": 2})
        return config.model_copy(
            update={"data_dir": self.root / "kiosks" / bundle.name, "mqtt": mqtt}
        )

    def options(self, bundle: Path, client_id: str) -> MqttOptions:
        return kiosk_mqtt_options(self.kiosk_config(bundle).mqtt, client_id=client_id)

    def device(self, device_id: str) -> Device | None:
        with open_session(self.db_url) as session:
            return session.get(Device, device_id)

    def stored(self, device_id: str) -> int:
        with open_session(self.db_url) as session:
            query = select(func.count()).select_from(Event).where(Event.device_id == device_id)
            return int(session.scalar(query) or 0)

    def dead_letters(self, reason: str) -> int:
        with open_session(self.db_url) as session:
            query = select(func.count()).select_from(DeadLetter).where(DeadLetter.reason == reason)
            return int(session.scalar(query) or 0)


@contextmanager
def provisioned_fleet(root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FleetEnv]:
    """`seed-hub fleet init` in `root`, its hub.env in the environment, Mosquitto on its config."""
    if mosquitto_binary() is None:
        service_missing("mosquitto binary not found (apt-get install mosquitto)")
    hub_port, password_port, certificate_port = free_port(), free_port(), free_port()
    db_url = f"sqlite:///{root / 'hub.sqlite3'}"
    monkeypatch.setenv("SEED_HUB_DATA_DIR", str(root / "hub"))
    monkeypatch.setenv("SEED_HUB_FLEET_DIR", str(root / "fleet"))
    monkeypatch.setenv("SEED_HUB_DB", db_url)
    assert (
        seed_hub(
            [
                *("fleet", "init", "--host", "localhost", "--host", "127.0.0.1"),
                *("--hub-port", str(hub_port), "--password-port", str(password_port)),
                *("--certificate-port", str(certificate_port)),
            ]
        )
        == 0
    )
    for line in (root / "fleet" / "hub.env").read_text().splitlines():
        if line and not line.startswith("#"):
            key, value = line.split("=", 1)
            monkeypatch.setenv(key, " ".join(shlex.split(value)))  # as systemd reads it
    config_text = (root / "fleet" / "mosquitto.conf").read_text()
    with MosquittoProcess(hub_port, config_text=config_text) as broker:
        monkeypatch.setenv("SEED_HUB_BROKER_RELOAD_COMMAND", f"kill -HUP {broker.pid}")
        monkeypatch.setenv("SEED_HUB_CONFIG_PUBLISH_S", "0.2")
        yield FleetEnv(root, broker, db_url, root / "bundles")


@contextmanager
def running_hub(client_id: str = "fleet-test-hub") -> Iterator[Hub]:
    """The hub, logged in on loopback with the account `fleet init` made."""
    hub = Hub(HubSettings(mqtt=MqttSettings(client_id=client_id)))
    hub.start()
    try:
        assert hub.wait_connected(10), "the hub could not log in with what fleet init made"
        yield hub
    finally:
        hub.stop()


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FleetEnv]:
    with provisioned_fleet(tmp_path, monkeypatch) as env:
        yield env


@pytest.fixture
def hub(fleet: FleetEnv) -> Iterator[Hub]:
    with running_hub() as running:
        yield running


@pytest.fixture
def run_kiosk(fleet: FleetEnv) -> Iterator[Callable[[Path], Kiosk]]:
    kiosks: list[Kiosk] = []

    def run(bundle: Path) -> Kiosk:
        kiosk = Kiosk(fleet.kiosk_config(bundle), pin_factory=mock_pin_factory())
        kiosk.start()
        kiosks.append(kiosk)
        return kiosk

    yield run
    for kiosk in kiosks:
        kiosk.stop()


def press(kiosk: Kiosk, button: Button = Button.HAPPY) -> None:
    pin = kiosk.panel.button_pins()[button]
    pin.drive_low()
    pin.drive_high()
    time.sleep(0.1)  # past the panel's debounce


@dataclass
class Session:
    connection: MqttConnection
    received: list[Message]
    drops: list[float]


@contextmanager
def session_of(options: MqttOptions) -> Iterator[Session]:
    """A connected MQTT session, the messages it receives and the times it was dropped."""
    received: list[Message] = []
    drops: list[float] = []
    connection = MqttConnection(
        options,
        on_message=received.append,
        on_disconnected=lambda: drops.append(time.monotonic()),
    )
    session = Session(connection, received, drops)
    connection.start()
    try:
        assert session.connection.wait_connected(10), f"{options.client_id} could not connect"
        yield session
    finally:
        session.connection.stop()


def hub_options(client_id: str, subscriptions: tuple[str, ...] = ()) -> MqttOptions:
    """The hub's account on its loopback listener, with the credentials `fleet init` made."""
    mqtt = MqttSettings()
    return MqttOptions(
        address=parse_broker_url(mqtt.broker or ""),
        client_id=client_id,
        username=mqtt.username,
        password=mqtt.password.get_secret_value() if mqtt.password else None,
        subscriptions=subscriptions,
    )


@contextmanager
def hub_connection() -> Iterator[MqttConnection]:
    """Logged in as the hub."""
    with session_of(hub_options("test-as-hub")) as session:
        yield session.connection


def unhappy_press(event_id: str, *, device_id: str) -> PressEvent:
    """An event as a kiosk at the first touchpoint would send it, for publishing by hand."""
    return PressEvent(
        event_id=event_id,
        device_id=device_id,
        location_id="hel-t2-security",
        seq=1,
        occurred_at="2026-11-23T10:00:00Z",  # type: ignore[arg-type]
        button=Button.VERY_UNHAPPY,
    )


def can_connect(fleet: FleetEnv, bundle: Path) -> bool:
    return probe_access(
        fleet.options(bundle, "probe"), foreign_topic="seed/devices/x/events", timeout_s=5
    ).connected


@pytest.mark.parametrize("auth", AUTHS)
def test_a_provisioned_kiosk_connects_over_tls_and_its_presses_reach_the_hub(
    fleet: FleetEnv, hub: Hub, run_kiosk: Callable[[Path], Kiosk], auth: str
) -> None:
    bundle = fleet.provision("kiosk-1", auth=auth)
    assert fleet.kiosk_config(bundle).mqtt.url.startswith("mqtts://localhost:")
    kiosk = run_kiosk(bundle)
    wait_until(lambda: kiosk.uplink.connected, 15, "the kiosk to connect over TLS")
    for _ in range(3):
        press(kiosk)
    wait_until(lambda: fleet.stored("kiosk-1") == 3, 20, "3 presses stored")
    wait_until(lambda: kiosk.outbox.depth() == 0, 10, "the hub's acks")


def test_the_bundle_holds_what_the_pi_needs_and_keeps_secrets_private(fleet: FleetEnv) -> None:
    bundle = fleet.provision("kiosk-1", auth="certificate")
    names = {p.name for p in bundle.iterdir()}
    assert {"kiosk.toml", "ca.crt", "device.crt", "device.key", "seed-kiosk.service"} <= names
    assert {"install_kiosk.sh", "README.txt"} <= names
    assert (bundle / "device.key").stat().st_mode & 0o077 == 0
    assert (bundle / "kiosk.toml").stat().st_mode & 0o077 == 0
    password_bundle = fleet.provision("kiosk-2", auth="password")
    assert fleet.kiosk_config(password_bundle).mqtt.password is not None
    assert not (password_bundle / "device.key").exists()


def test_a_device_cannot_publish_on_another_devices_topics(
    fleet: FleetEnv, hub: Hub, run_kiosk: Callable[[Path], Kiosk]
) -> None:
    alice = fleet.provision("alice", auth="password")
    fleet.provision("bob", auth="certificate")
    probe = probe_access(
        fleet.options(alice, "alice-probe"), foreign_topic=Topics().events("bob"), timeout_s=5
    )
    assert probe.connected and probe.foreign_publish_refused is True


def test_the_hub_refuses_an_event_whose_device_differs_from_its_topic(
    fleet: FleetEnv, hub: Hub
) -> None:
    """Were a forged event to get past the broker, the hub still would not take it."""
    alice = fleet.provision("alice", auth="password")
    fleet.provision("bob", auth="password")
    forged = unhappy_press("forged-1", device_id="bob")
    connection = MqttConnection(fleet.options(alice, "alice-forger"), on_message=lambda _m: None)
    connection.start()
    try:
        assert connection.wait_connected(10)
        assert connection.publish_and_wait(Topics().events("alice"), encode(forged))
        wait_until(lambda: fleet.dead_letters("device_mismatch") == 1, 10, "a dead letter")
    finally:
        connection.stop()
    assert fleet.stored("bob") == 0


@pytest.mark.parametrize("auth", AUTHS)
def test_a_revoked_device_is_refused_and_an_open_connection_is_closed(
    fleet: FleetEnv, hub: Hub, run_kiosk: Callable[[Path], Kiosk], auth: str
) -> None:
    bundle = fleet.provision("kiosk-1", auth=auth)
    kiosk = run_kiosk(bundle)
    press(kiosk)
    wait_until(lambda: fleet.stored("kiosk-1") == 1, 20, "the press before revocation")
    assert seed_hub(["devices", "revoke", "kiosk-1"]) == 0
    wait_until(lambda: not kiosk.uplink.connected, 10, "the broker to close the connection")
    assert not can_connect(fleet, bundle)
    press(kiosk)
    kiosk.uplink.drain(timeout_s=2)
    assert fleet.stored("kiosk-1") == 1, "its past data stays, nothing new arrives"
    revoked = fleet.device("kiosk-1")
    assert revoked is not None and revoked.revoked_at is not None


@pytest.mark.parametrize("auth", AUTHS)
def test_a_rotated_device_works_with_its_new_credentials_only(
    fleet: FleetEnv, hub: Hub, auth: str, tmp_path: Path
) -> None:
    old = fleet.provision("kiosk-1", auth=auth)
    kept = tmp_path / "old-bundle"
    kept.mkdir()
    for item in old.iterdir():
        (kept / item.name).write_bytes(item.read_bytes())
    assert can_connect(fleet, kept)
    assert seed_hub(["devices", "rotate", "kiosk-1", "--out", str(fleet.bundles)]) == 0
    assert can_connect(fleet, old), "the new bundle connects"
    assert not can_connect(fleet, kept), "the old credentials are refused"


def test_a_session_still_open_on_revoked_credentials_can_publish_nothing(
    fleet: FleetEnv, hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = fleet.provision("kiosk-1", auth="certificate")
    event = unhappy_press("after-revocation", device_id="kiosk-1")
    with session_of(fleet.options(bundle, "kiosk-1")) as session:
        monkeypatch.delenv("SEED_HUB_BROKER")  # no eviction: the ACL alone must hold
        assert seed_hub(["devices", "revoke", "kiosk-1"]) == 0
        time.sleep(0.5)  # the reload
        session.connection.publish_and_wait(Topics().events("kiosk-1"), encode(event))
        time.sleep(1)
    assert fleet.stored("kiosk-1") == 0
    assert fleet.dead_letters("revoked_device") == 0, "the broker stopped it, not the hub"


def test_a_kiosk_cannot_take_over_another_kiosks_session(fleet: FleetEnv) -> None:
    alice, bob = (fleet.provision(d, auth="password") for d in ("alice", "bob"))
    with session_of(fleet.options(bob, "bob")) as bobs:
        with session_of(fleet.options(alice, "bob")):  # alice asks for bob's client id
            time.sleep(1)
        assert bobs.drops == [] and bobs.connection.connected


def test_a_kiosk_reads_only_its_own_acks_and_configs(fleet: FleetEnv) -> None:
    alice, bob = (fleet.provision(d, auth="password") for d in ("alice", "bob"))
    for_bob = ("seed/devices/bob/ack", "seed/devices/bob/config")
    snooping = dataclasses.replace(fleet.options(alice, "alice"), subscriptions=for_bob)
    listening = dataclasses.replace(fleet.options(bob, "bob"), subscriptions=for_bob)
    with session_of(snooping) as alices, session_of(listening) as bobs:
        with hub_connection() as as_hub:
            for topic in for_bob:
                assert as_hub.publish_and_wait(topic, b"{}")
        wait_until(lambda: len(bobs.received) == 2, 10, "bob's messages")
        time.sleep(0.5)
    assert alices.received == []


def test_rotation_closes_a_session_open_on_the_old_certificate(fleet: FleetEnv, hub: Hub) -> None:
    old = fleet.provision("kiosk-1", auth="certificate")
    kept = fleet.root / "old"
    kept.mkdir()
    for item in old.iterdir():
        (kept / item.name).write_bytes(item.read_bytes())
    with session_of(fleet.options(kept, "kiosk-1")) as old_session:
        assert seed_hub(["devices", "rotate", "kiosk-1", "--out", str(fleet.bundles)]) == 0
        wait_until(lambda: bool(old_session.drops), 10, "the old session to be closed")
        time.sleep(2)
        assert not old_session.connection.connected, "and it cannot come back"


def test_unknown_clients_and_wrong_passwords_are_refused(fleet: FleetEnv) -> None:
    bundle = fleet.provision("kiosk-1", auth="password")
    good = fleet.options(bundle, "probe")
    for username, password in (("kiosk-1", "not-its-password"), ("nobody", "x"), (None, None)):
        options = MqttOptions(
            address=good.address,
            client_id="probe",
            username=username,
            password=password,
            ca_file=good.ca_file,
        )
        probe = probe_access(options, foreign_topic="seed/devices/x/events", timeout_s=5)
        assert not probe.connected, f"{username!r} got in"


def test_remote_config_is_applied_persisted_and_a_bad_one_refused(
    fleet: FleetEnv, hub: Hub, run_kiosk: Callable[[Path], Kiosk]
) -> None:
    bundle = fleet.provision("kiosk-1", auth="password")
    kiosk = run_kiosk(bundle)
    assert seed_hub(["devices", "configure", "kiosk-1", "--response-interval", "9"]) == 0
    wait_until(lambda: kiosk.config.response_interval_s == 9, 15, "the kiosk to apply v1")
    wait_until(
        lambda: getattr(fleet.device("kiosk-1"), "applied_config_version", None) == 1,
        15,
        "the kiosk to report v1 in its status",
    )

    assert seed_hub(["devices", "configure", "kiosk-1", "--camera", "on"]) == 2, "no camera"
    bad = b'{"v":1,"device_id":"kiosk-1","version":2,"issued_at":"2026-11-23T10:00:00Z",'
    with hub_connection() as connection:
        payload = bad + b'"heartbeat_s":-1}'
        assert connection.publish_and_wait(Topics().config("kiosk-1"), payload, retain=True)
    wait_until(
        lambda: "invalid_payload" in (fleet.device("kiosk-1").config_error or ""),
        15,
        "the kiosk to report the refusal",
    )
    assert kiosk.config.response_interval_s == 9, "it keeps its last good config"
    assert kiosk.remote.version == 1

    kiosk.stop()
    restarted = Kiosk(fleet.kiosk_config(bundle), pin_factory=mock_pin_factory())
    try:
        assert restarted.config.response_interval_s == 9, "v1 survives a restart"
        assert restarted.remote.version == 1
    finally:
        restarted.outbox.close()


def test_a_moved_kiosk_reports_from_its_new_touchpoint(
    fleet: FleetEnv, hub: Hub, run_kiosk: Callable[[Path], Kiosk]
) -> None:
    kiosk = run_kiosk(fleet.provision("kiosk-1", auth="password"))
    press(kiosk)
    wait_until(lambda: fleet.stored("kiosk-1") == 1, 20, "a press at the first place")
    move = ["devices", "move", "kiosk-1", "--site", "hel", "--location", "hel-t2-washroom-b"]
    assert seed_hub(move) == 0
    wait_until(lambda: kiosk.config.location_id == "hel-t2-washroom-b", 15, "the move")
    press(kiosk, Button.UNHAPPY)
    wait_until(lambda: fleet.stored("kiosk-1") == 2, 20, "a press at the new place")
    with open_session(fleet.db_url) as session:
        places = dict(session.execute(select(Event.button, Event.location_id)).all())
    assert places == {"happy": "hel-t2-security", "unhappy": "hel-t2-washroom-b"}


def test_no_secret_reaches_a_log_line_or_the_console(
    fleet: FleetEnv,
    hub: Hub,
    run_kiosk: Callable[[Path], Kiosk],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    password_bundle = fleet.provision("kiosk-1", auth="password")
    certificate_bundle = fleet.provision("kiosk-2", auth="certificate")
    for bundle in (password_bundle, certificate_bundle):
        press(run_kiosk(bundle))
    wait_until(lambda: fleet.stored("kiosk-1") + fleet.stored("kiosk-2") == 2, 20, "presses")
    assert seed_hub(["devices", "rotate", "kiosk-1", "--out", str(fleet.bundles)]) == 0
    capsys.readouterr()
    assert seed_hub(["devices", "list", "--json"]) == 0
    listing = capsys.readouterr().out
    assert "$7$" not in listing and {d["device_id"] for d in json.loads(listing)} == {
        "kiosk-1",
        "kiosk-2",
    }

    secrets = [
        fleet.kiosk_config(password_bundle).mqtt.password.get_secret_value(),  # type: ignore[union-attr]
        _pem_body(certificate_bundle / "device.key"),
        _pem_body(fleet.root / "fleet" / "private" / "ca.key"),
        _env(fleet.root / "fleet" / "hub.env")["SEED_HUB_MQTT_PASSWORD"],
    ]
    console = capsys.readouterr()
    seen = [r.getMessage() for r in caplog.records] + [console.out, console.err, listing]
    seen.append(fleet.broker.log_file.read_text())
    for secret in secrets:
        assert not any(secret in line for line in seen)


def _pem_body(path: Path) -> str:
    """The key's own bytes (a PEM's first characters are the same ASN.1 header in every key)."""
    lines = path.read_text().splitlines()
    return "".join(line for line in lines if not line.startswith("-----"))[-40:]


def _env(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key: value for key, value in pairs if not key.startswith("#")}


@pytest.mark.parametrize("auth", AUTHS)
def test_selftest_passes_on_a_provisioned_kiosk(fleet: FleetEnv, hub: Hub, auth: str) -> None:
    config = fleet.kiosk_config(fleet.provision("kiosk-1", auth=auth))
    plan = SelftestPlan(interactive=False, broker_timeout_s=10)
    checks = {c.name: c for c in run_selftest(config, plan, pin_factory=mock_pin_factory())}
    for name in ("config", "leds", "broker", "acl", "clock"):
        assert checks[name].outcome is Outcome.PASS, f"{name}: {checks[name].detail}"
