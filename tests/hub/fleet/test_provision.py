"""Provisioning in the database: hierarchy, credentials kept hashed, lifecycle rules."""

import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from edge.config import load_config
from hub.config import FleetSettings, HubSettings, IngestSettings, MqttSettings
from hub.fleet.broker_files import (
    PACKET_HEADROOM_BYTES,
    BrokerLayout,
    broker_gid,
)
from hub.fleet.pki import CLOCK_SLACK
from hub.fleet.provision import (
    UNSET,
    Fleet,
    Site,
    apply_changes,
    devices_overview,
    init_fleet,
)
from hub.models import Device, Location, RevokedCertificate
from lab.mosquitto import password_matches
from protocol.errors import ConfigError
from protocol.messages import decode_remote_config
from tests.hub.camera.factories import approve

SITE = Site(site="hel", area="hel-t2", location="hel-t2-security", time_zone="Europe/Helsinki")


def committed(
    sessions: sessionmaker[Session], settings: HubSettings, change: Callable[[Fleet], object]
) -> object:
    """Run `change` in a transaction, then do what it leaves for after the commit."""
    with sessions.begin() as session:
        fleet = Fleet(session, settings)
        result = change(fleet)
    apply_changes(fleet.pending, settings, sessions)
    return result


@pytest.fixture
def settings(tmp_path: Path) -> HubSettings:
    settings = HubSettings(
        data_dir=tmp_path,
        fleet=FleetSettings(
            kiosk_broker_url="mqtts://hub.example.net:8883",
            kiosk_certificate_broker_url="mqtts://hub.example.net:8884",
        ),
    )
    init_fleet(settings, hosts=["hub.example.net"], layout=BrokerLayout(settings.fleet_folder))
    return settings


def test_add_builds_the_hierarchy_and_keeps_only_a_hash(
    sessions: sessionmaker[Session], settings: HubSettings, tmp_path: Path
) -> None:
    bundle = committed(
        sessions, settings, lambda f: f.add("k1", SITE, auth="password", out_dir=tmp_path / "b")
    )
    assert isinstance(bundle, Path)
    password = next(
        line.split('"')[1]
        for line in (bundle / "kiosk.toml").read_text().splitlines()
        if line.startswith("password")
    )
    with sessions() as session:
        device = session.get(Device, "k1")
        assert device is not None and device.password_hash is not None
        assert password not in device.password_hash
        assert password_matches(password, device.password_hash)
        touchpoint = session.get(Location, "hel-t2-security")
        area = session.get(Location, "hel-t2")
        assert touchpoint is not None and area is not None
        assert (touchpoint.kind, touchpoint.parent_id) == ("touchpoint", "hel-t2")
        assert (area.kind, area.parent_id) == ("area", "hel")
    kiosks = (settings.fleet_folder / "mosquitto.passwd").read_text()
    assert kiosks.count("k1:$7$") == 1 and "seed-hub:" not in kiosks
    hub = (settings.fleet_folder / "hub.passwd").read_text()
    assert hub.startswith("seed-hub:$7$") and "k1:" not in hub


def test_a_device_is_not_provisioned_twice_nor_revived_after_revocation(
    sessions: sessionmaker[Session], settings: HubSettings, tmp_path: Path
) -> None:
    committed(sessions, settings, lambda f: f.add("k1", SITE, auth="password", out_dir=tmp_path))
    assert "k1:" in (settings.fleet_folder / "mosquitto.passwd").read_text()
    with sessions.begin() as session:
        fleet = Fleet(session, settings)
        with pytest.raises(ConfigError, match="devices rotate k1"):
            fleet.add("k1", SITE, auth="password", out_dir=tmp_path)
    committed(sessions, settings, lambda f: f.revoke("k1"))
    with sessions.begin() as session:
        fleet = Fleet(session, settings)
        with pytest.raises(ConfigError, match="new device id"):
            fleet.add("k1", SITE, auth="password", out_dir=tmp_path)
        with pytest.raises(ConfigError, match="revoked"):
            fleet.rotate("k1", out_dir=tmp_path)
    assert "k1:" not in (settings.fleet_folder / "mosquitto.passwd").read_text()
    assert "user k1\ntopic deny #" in (settings.fleet_folder / "mosquitto.acl").read_text()


def test_a_refused_command_leaves_no_bundle_and_no_broker_change(
    sessions: sessionmaker[Session], settings: HubSettings, tmp_path: Path
) -> None:
    before = _files(settings.fleet_folder)

    def two_then_a_bad_one(fleet: Fleet) -> None:
        fleet.add("k1", SITE, auth="password", out_dir=tmp_path / "b")
        fleet.add("k2", SITE, auth="certificate", out_dir=tmp_path / "b")
        fleet.add("K3", SITE, auth="password", out_dir=tmp_path / "b")

    with pytest.raises(ConfigError, match="lowercase"):
        committed(sessions, settings, two_then_a_bad_one)
    assert not (tmp_path / "b").exists()
    assert _files(settings.fleet_folder) == before


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.mark.parametrize("name", ["seed-hub", "seed-hub-gate-host", "seed-hub-gate-host-4242"])
def test_the_hubs_own_account_cannot_be_provisioned_as_a_kiosk(
    sessions: sessionmaker[Session], settings: HubSettings, tmp_path: Path, name: str
) -> None:
    with sessions.begin() as session, pytest.raises(ConfigError, match="hub's broker account"):
        Fleet(session, settings).add(name, SITE, auth="certificate", out_dir=tmp_path)


def test_no_kiosk_takes_the_hubs_own_client_id(
    sessions: sessionmaker[Session], settings: HubSettings, tmp_path: Path
) -> None:
    """On the kiosk listeners a kiosk's client id is its device id; the hub's must not be one."""
    hub_a = HubSettings(data_dir=settings.data_dir, mqtt=MqttSettings(client_id="hub-a"))
    with sessions.begin() as session, pytest.raises(ConfigError, match="client id"):
        Fleet(session, hub_a).add("hub-a", SITE, auth="password", out_dir=tmp_path)


@pytest.mark.parametrize(
    ("site", "message"),
    [
        (Site(site="HEL Airport", location="gate-1"), "location id 'HEL Airport'"),
        (Site(site="hel", location="Gate 1"), "location id 'Gate 1'"),
        (Site(site="ams", location="hel-t2-security"), "under hel-t2, not a touchpoint under ams"),
    ],
)
def test_places_are_checked_and_never_silently_moved(
    sessions: sessionmaker[Session], settings: HubSettings, tmp_path: Path, site: Site, message: str
) -> None:
    committed(sessions, settings, lambda f: f.add("k1", SITE, auth="password", out_dir=None))
    with sessions.begin() as session, pytest.raises(ConfigError, match=message):
        Fleet(session, settings).add("k2", site, auth="password", out_dir=None)


@pytest.mark.parametrize("bad", ["K1", "k 1", "-k1", "k1/events", "k+", "x" * 65])
def test_device_ids_that_would_break_topics_are_refused(
    sessions: sessionmaker[Session], settings: HubSettings, tmp_path: Path, bad: str
) -> None:
    with sessions.begin() as session, pytest.raises(ConfigError, match="lowercase"):
        Fleet(session, settings).add(bad, SITE, auth="password", out_dir=tmp_path)


def test_configure_merges_settings_under_a_new_version(
    sessions: sessionmaker[Session], settings: HubSettings, tmp_path: Path
) -> None:
    with sessions.begin() as session:
        fleet = Fleet(session, settings)
        fleet.add("k1", SITE, auth="certificate", out_dir=tmp_path)
        approve(session, "hel")
        fleet.configure("k1", response_interval_s=8.0, camera_enabled=True)
        fleet.configure("k1", heartbeat_s=30.0)
        second = fleet.configure("k1", camera_enabled=UNSET)
        with pytest.raises(ConfigError, match="heartbeat_s"):
            fleet.configure("k1", heartbeat_s=1.0)
    assert second.version == 3
    assert second.settings() == {
        "location_id": "hel-t2-security",
        "response_interval_s": 8.0,
        "heartbeat_s": 30.0,
    }
    with sessions() as session:
        device = session.get(Device, "k1")
        assert device is not None and device.desired_config is not None
        assert decode_remote_config(device.desired_config.encode()) == second


def test_the_listing_carries_no_secret(
    sessions: sessionmaker[Session], settings: HubSettings, tmp_path: Path
) -> None:
    committed(sessions, settings, lambda f: f.add("k1", SITE, auth="password", out_dir=tmp_path))
    with sessions() as session:
        (row,) = devices_overview(session)
    assert row["auth"] == "password" and row["state"] == "unknown"
    assert not any("$7$" in str(value) for value in row.values())


def test_without_a_broker_address_for_kiosks_the_technician_is_told_what_to_set(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = HubSettings(data_dir=tmp_path)
    init_fleet(settings, hosts=["hub"], layout=BrokerLayout(settings.fleet_folder))
    with pytest.raises(ConfigError, match="SEED_HUB_KIOSK_BROKER_URL"):
        committed(
            sessions, settings, lambda f: f.add("k1", SITE, auth="password", out_dir=tmp_path)
        )


def test_the_broker_can_read_its_files_and_nothing_more(
    sessions: sessionmaker[Session], settings: HubSettings, tmp_path: Path
) -> None:
    committed(sessions, settings, lambda f: f.add("k1", SITE, auth="password", out_dir=tmp_path))
    folder = settings.fleet_folder
    group = broker_gid(settings.fleet.broker_group)
    for name in ("mosquitto.passwd", "mosquitto.acl", "hub.passwd", "hub.acl", "broker.key"):
        info = (folder / name).stat()
        assert stat.S_IMODE(info.st_mode) == 0o640, name
        assert group is None or info.st_gid == group, name
    assert stat.S_IMODE(folder.stat().st_mode) == 0o750
    assert stat.S_IMODE((folder / "private").stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "hub.env").stat().st_mode) == 0o600


def test_fleet_init_limits_the_brokers_packets_to_what_the_hub_takes(tmp_path: Path) -> None:
    settings = HubSettings(data_dir=tmp_path, ingest=IngestSettings(max_payload_bytes=8192))
    layout = BrokerLayout(settings.fleet_folder)
    init_fleet(settings, hosts=["hub"], layout=layout)
    expected = f"\nmax_packet_size {8192 + PACKET_HEADROOM_BYTES}\n"
    assert expected in layout.config_file.read_text()


def test_broker_files_are_not_rewritten_under_a_config_from_before_per_listener_accounts(
    sessions: sessionmaker[Session], settings: HubSettings, tmp_path: Path
) -> None:
    """That config reads the hub's account from the kiosks' file: the hub would be locked out."""
    config = BrokerLayout(settings.fleet_folder).config_file
    config.write_text(config.read_text().replace("per_listener_settings true", ""))

    def add(fleet: Fleet) -> object:
        return fleet.add("k1", SITE, auth="password", out_dir=tmp_path)

    with pytest.raises(ConfigError, match="seed-hub fleet init"):
        committed(sessions, settings, add)


def test_the_fleet_s_clock_dates_credentials_bundles_and_revocations(
    sessions: sessionmaker[Session], settings: HubSettings, tmp_path: Path
) -> None:
    issued = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    revoked = issued + timedelta(days=3)
    with sessions.begin() as session:
        fleet = Fleet(session, settings, clock=lambda: issued)
        fleet.add("k1", SITE, auth="certificate", out_dir=tmp_path)
    apply_changes(fleet.pending, settings, sessions, clock=lambda: issued)
    bundle = tmp_path / "k1"
    certificate = x509.load_pem_x509_certificate((bundle / "device.crt").read_bytes())
    assert certificate.not_valid_before_utc == issued - CLOCK_SLACK
    toml = (bundle / "kiosk.toml").read_text()
    assert toml.startswith("# Provisioned by seed-hub on 2026-11-02 09:00 UTC.\n")
    with sessions.begin() as session:
        Fleet(session, settings, clock=lambda: revoked).revoke("k1")
    with sessions() as session:
        device = session.get(Device, "k1")
        assert device is not None
        assert (device.credentials_issued_at, device.revoked_at) == (issued, revoked)
        [retired] = session.scalars(select(RevokedCertificate)).all()
        assert (retired.serial, retired.revoked_at) == (f"{certificate.serial_number:x}", revoked)


def test_a_kiosk_with_a_display_says_so_in_its_bundle_at_every_rotate(
    sessions: sessionmaker[Session], settings: HubSettings, tmp_path: Path
) -> None:
    out = tmp_path / "bundles"
    committed(
        sessions,
        settings,
        lambda f: f.add("k1", SITE, auth="password", out_dir=out, display=True),
    )
    committed(sessions, settings, lambda f: f.add("k2", SITE, auth="password", out_dir=out))
    first = load_config(out / "k1" / "kiosk.toml")
    assert first.display is not None and first.display.port == 8765
    assert load_config(out / "k2" / "kiosk.toml").display is None
    assert (out / "k1" / "seed-kiosk-display.service").is_file()
    committed(sessions, settings, lambda f: f.rotate("k1", out_dir=tmp_path / "rotated"))
    assert load_config(tmp_path / "rotated" / "k1" / "kiosk.toml").display is not None
