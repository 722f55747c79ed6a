"""Renders the broker's password file, ACL and CRL from the database, which is the truth."""

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.clock import Clock, utc_now
from hub.config import HubSettings
from hub.fleet.broker_files import (
    PER_LISTENER,
    BrokerLayout,
    reload_broker,
    render_hub_acl,
    render_kiosk_acl,
    render_password_file,
    write_broker_readable,
)
from hub.fleet.pki import FleetCA
from hub.homeassistant.discovery import HaTopics
from hub.models import Device, RevokedCertificate
from protocol.errors import ConfigError
from protocol.files import write_public

SERVICE_PASSWORDS = "service.passwd"


def service_entries(folder: Path) -> dict[str, str]:
    """The hub's own broker account(s), kept apart from the devices'."""
    path = folder / SERVICE_PASSWORDS
    if not path.exists():
        return {}
    lines = [line.split(":", 1) for line in path.read_text().splitlines() if ":" in line]
    return {user: hashed for user, hashed in lines}


def device_entries(session: Session) -> dict[str, str]:
    rows = session.execute(
        select(Device.device_id, Device.password_hash)
        .where(Device.auth == "password")
        .where(Device.revoked_at.is_(None))
        .where(Device.password_hash.is_not(None))
    )
    return {device_id: hashed for device_id, hashed in rows if hashed}


def revoked_serials(session: Session) -> list[tuple[int, datetime]]:
    rows = session.execute(select(RevokedCertificate.serial, RevokedCertificate.revoked_at))
    return [(int(serial, 16), revoked_at) for serial, revoked_at in rows]


def revoked_devices(session: Session) -> list[str]:
    return list(session.scalars(select(Device.device_id).where(Device.revoked_at.is_not(None))))


def sync_broker_files(session: Session, settings: HubSettings, *, clock: Clock = utc_now) -> str:
    """Write the password files, ACLs and CRL (dated by `clock`) as the database has them;
    reload the broker.

    Holds a lock on the fleet folder, so two technicians' commands cannot interleave
    their writes; each renders everything from the database, so the last one is complete."""
    layout = BrokerLayout(settings.fleet_folder)
    _refuse_outdated_config(layout)
    ca = FleetCA.load(layout.folder, clock=clock)
    with _locked(layout.folder / ".lock"):
        devices, services = device_entries(session), service_entries(layout.folder)
        clash = sorted(set(devices) & set(services))
        if clash:
            raise ConfigError(f"devices named like the hub's own account: {clash}; revoke them")
        _write_hub_files(layout, settings, services)
        _write_kiosk_files(layout, settings, devices, revoked_devices(session))
        write_public(layout.crl_file, ca.revocation_list(revoked_serials(session)))
        return reload_broker(settings.fleet.broker_reload_command)


def _write_hub_files(layout: BrokerLayout, settings: HubSettings, services: dict[str, str]) -> None:
    group = settings.fleet.broker_group
    write_broker_readable(layout.hub_password_file, render_password_file(services), group=group)
    acl = render_hub_acl(
        topic_prefix=settings.mqtt.topic_prefix,
        hub_username=settings.mqtt.hub_username,
        homeassistant=HaTopics.of(settings) if settings.homeassistant.enabled else None,
    )
    write_broker_readable(layout.hub_acl_file, acl, group=group)


def _write_kiosk_files(
    layout: BrokerLayout, settings: HubSettings, devices: dict[str, str], revoked: list[str]
) -> None:
    group = settings.fleet.broker_group
    write_broker_readable(layout.password_file, render_password_file(devices), group=group)
    acl = render_kiosk_acl(topic_prefix=settings.mqtt.topic_prefix, revoked=revoked)
    write_broker_readable(layout.acl_file, acl, group=group)


def _refuse_outdated_config(layout: BrokerLayout) -> None:
    """A config from before per-listener accounts reads the hub's account from the kiosks'
    password file, which no longer holds it: writing now would lock the hub out."""
    config = layout.config_file
    if config.exists() and PER_LISTENER not in config.read_text():
        raise ConfigError(
            f"{config} predates per-listener accounts: run `seed-hub fleet init` again (same "
            "--host and ports), restart mosquitto, then repeat this command"
        )


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
