"""What a technician does to the fleet: set it up, add, move, rotate, revoke, configure.

The database is the truth; after each change the broker's files are rendered from it
(`broker_sync`) and the broker reloaded. Secrets exist in memory only long enough to be
written into the kiosk's bundle: the hub keeps a password's hash, a certificate's serial.
"""

import dataclasses
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.camera.audit import REASON_MAX_CHARS, bounded_text, log_switch
from hub.camera.governance import (
    CameraRefused,
    approved_reason,
    camera_on,
    camera_refusal,
    check_camera_allowed,
    desired_camera,
    has_camera,
    reported_running,
    turn_off_refused,
)
from hub.clock import Clock, utc_now
from hub.config import FleetSettings, HubSettings
from hub.fleet.broker_files import (
    BrokerLayout,
    broker_gid,
    hash_password,
    new_password,
    render_mosquitto_conf,
    write_broker_readable,
)
from hub.fleet.broker_sync import SERVICE_PASSWORDS, service_entries, sync_broker_files
from hub.fleet.bundle import KioskIdentity, write_bundle
from hub.fleet.pki import FleetCA
from hub.fleet.remote_config import current_settings, write_config
from hub.ingest import store
from hub.models import DEFAULT_LANGUAGES, CameraApproval, Device, Location, RevokedCertificate
from hub.rollups.reasons import graft_reasons
from hub.rollups.write import graft
from hub.surveys.store import effective_survey, refresh_configs
from protocol.broker_url import parse_broker_url
from protocol.errors import ConfigError
from protocol.files import write_private, write_public
from protocol.messages import (
    DEVICE_ID_PATTERN,
    LOCATION_ID_PATTERN,
    RemoteConfig,
)
from protocol.mqtt import MqttOptions, take_over_session

log = logging.getLogger(__name__)

Auth = Literal["password", "certificate"]
Switch = Literal["on", "off", "default"]
HUB_CLIENT_ID_PREFIX = "seed-hub"
"""The hub's client ids (`seed-hub-<host>`, `-<pid>` per worker) start so; no device id may."""
UNSET = "unset"
BROKER_URL_SETTING: dict[Auth, str] = {
    "password": "kiosk_broker_url",
    "certificate": "kiosk_certificate_broker_url",
}
"""The fleet setting that holds where kiosks with each kind of credential dial the broker."""


@dataclass(frozen=True)
class Site:
    """Where a kiosk stands: site (an airport) -> optional area -> touchpoint."""

    site: str | None
    location: str
    area: str | None = None
    time_zone: str = "UTC"
    name: str | None = None


def init_fleet(
    settings: HubSettings, *, hosts: list[str], layout: BrokerLayout, clock: Clock = utc_now
) -> list[Path]:
    """Create the CA (once), the broker's certificate, the hub's broker account and a
    Mosquitto config. Run again to add a host name: the CA and passwords are kept."""
    folder = layout.folder
    folder.mkdir(parents=True, exist_ok=True)
    gid = broker_gid(settings.fleet.broker_group)
    if gid is not None:
        os.chown(folder, -1, gid)
    folder.chmod(0o750)  # the broker's group may read what it needs; others nothing
    exists = FleetCA.exists(folder)
    ca = FleetCA.load(folder, clock=clock) if exists else FleetCA.create(folder, clock=clock)
    server = ca.issue_server(hosts)
    write_public(folder / "broker.crt", server.certificate_pem)
    write_broker_readable(folder / "broker.key", server.key_pem, group=settings.fleet.broker_group)
    written = [folder / "ca.crt", folder / "broker.crt", folder / "broker.key"]
    if not (folder / SERVICE_PASSWORDS).exists():
        password = new_password()
        entry = f"{settings.mqtt.hub_username}:{hash_password(password)}\n"
        write_private(folder / SERVICE_PASSWORDS, entry.encode())
        write_private(folder / "hub.env", _hub_env(settings, layout, hosts[0], password))
        written += [folder / SERVICE_PASSWORDS, folder / "hub.env"]
    conf = render_mosquitto_conf(layout, max_payload_bytes=settings.ingest.max_payload_bytes)
    write_public(layout.config_file, conf)
    written.append(layout.config_file)
    return written


def _hub_env(settings: HubSettings, layout: BrokerLayout, host: str, password: str) -> bytes:
    return (
        "# The hub's broker account and the addresses kiosks dial; append to\n"
        "# /etc/seed-hub/hub.env (keep it readable by the hub only).\n"
        f"SEED_HUB_FLEET_DIR={layout.folder}\n"
        f"SEED_HUB_BROKER=mqtt://{layout.hub_bind}:{layout.hub_port}\n"
        f"SEED_HUB_MQTT_USERNAME={settings.mqtt.hub_username}\n"
        f"SEED_HUB_MQTT_PASSWORD={password}\n"
        f"SEED_HUB_KIOSK_BROKER_URL=mqtts://{host}:{layout.password_port}\n"
        f"SEED_HUB_KIOSK_CERTIFICATE_BROKER_URL=mqtts://{host}:{layout.certificate_port}\n"
        'SEED_HUB_BROKER_RELOAD_COMMAND="systemctl reload mosquitto"\n'
        "SEED_HUB_REQUIRE_REGISTRATION=true\n"
    ).encode()


@dataclass
class PendingChanges:
    """What a command does outside the database, once its transaction has committed."""

    bundles: list[tuple[Path, KioskIdentity]] = field(default_factory=list)
    evict: list[str] = field(default_factory=list)
    broker_files: bool = False


class Fleet:
    """Device lifecycle on one session; the caller commits, then calls `apply_changes`, so
    no bundle and no broker file exists for a change the database refused."""

    def __init__(self, session: Session, settings: HubSettings, *, clock: Clock = utc_now) -> None:
        """`clock` stamps issues, revocations and configs, and dates certificates."""
        self.session = session
        self._settings = settings
        self._clock = clock
        self.pending = PendingChanges()
        self._placed: list[tuple[str, str]] = []  # (location, parent): placed by this command

    def add(
        self,
        device_id: str,
        site: Site,
        *,
        auth: Auth,
        out_dir: Path | None,
        display: bool = False,
        actor: str = "cli",
    ) -> Path | None:
        """Register the kiosk; with `out_dir`, also issue credentials and write its bundle
        (without, it connects as it may: to an embedded broker on a closed network). A kiosk
        with a touch `display` gets a [display] in its kiosk.toml, now and at every rotate.
        A kiosk known already is moved as `move` moves it, its camera with it."""
        self._check_device_id(device_id)
        existing = self.session.get(Device, device_id)
        if existing is not None and existing.revoked_at is not None:
            raise ConfigError(
                f"{device_id} was revoked on {existing.revoked_at:%Y-%m-%d}; "
                "give the replacement kiosk a new device id"
            )
        if existing is not None and existing.auth is not None:
            raise ConfigError(
                f"{device_id} already has credentials; `seed-hub devices rotate {device_id}` "
                "issues new ones"
            )
        old = None if existing is None else existing.location_id
        was_on = existing is not None and camera_on(existing)
        location_id = self._place(site)
        device = store.register_device(self.session, device_id=device_id, location_id=location_id)
        device.display = display
        refresh_configs(  # the survey of its place, if one is assigned
            self.session,
            now=self._clock(),
            max_config_bytes=self._settings.ingest.max_payload_bytes,
            device_ids=[device_id],
        )
        if existing is not None:
            camera = self._camera_moved(device, old, was_on, actor=actor)
            if camera:
                self._write(device, {**current_settings(device), **camera})
        self._enforce_placed(actor)
        return None if out_dir is None else self._issue(device, auth, out_dir)

    def rotate(self, device_id: str, *, out_dir: Path, auth: Auth | None = None) -> Path:
        """New credentials; the old ones stop working, and a session open on them is closed."""
        device = self._active(device_id)
        self._retire_certificate(device)
        self.pending.evict.append(device_id)
        return self._issue(device, auth or _auth_of(device), out_dir)

    def revoke(self, device_id: str, *, actor: str = "cli") -> Device:
        """The device can no longer connect, nor publish on a session still open; its past
        data stays. A camera on is logged off: the hub takes nothing more from it."""
        device = self._active(device_id)
        if camera_on(device):
            self._log_switch(
                device,
                "off",
                actor=actor,
                reason="kiosk revoked: its config is cleared and the hub accepts nothing more "
                "from it",
                where=device.location_id,
            )
        self._retire_certificate(device)
        device.revoked_at = self._clock()
        device.password_hash = None
        device.desired_config = None
        self.pending.broker_files = FleetCA.exists(self._settings.fleet_folder)
        self.pending.evict.append(device_id)
        return device

    def move(self, device_id: str, site: Site, *, actor: str = "cli") -> RemoteConfig:
        """Re-register the kiosk at another touchpoint and tell it so. A camera on is logged
        off at the old place and on at the new, or, where a camera may not be on, turned
        off."""
        device = self._active(device_id)
        old, was_on = device.location_id, camera_on(device)
        location_id = self._place(site)
        store.register_device(self.session, device_id=device_id, location_id=location_id)
        camera = self._camera_moved(device, old, was_on, actor=actor)
        config = self._write(
            device, {**current_settings(device), "location_id": location_id, **camera}
        )
        self._enforce_placed(actor)
        return config

    def _camera_moved(
        self, device: Device, old: str | None, was_on: bool, *, actor: str
    ) -> dict[str, Any]:
        """Log what standing at its new place does to the kiosk's camera; returns the setting
        its config needs (off where a camera may not be on and it has one)."""
        new = device.location_id
        refused = camera_refusal(self.session, new)
        if refused is not None:
            if was_on:
                why = refused.why if old == new else f"moved to {new}: {refused.why}"
                self._log_switch(device, "off", actor=actor, reason=why, where=old)
            off = has_camera(device) and desired_camera(device) is not False
            return {"camera_enabled": False} if off else {}
        if was_on and old != new:
            approval = check_camera_allowed(self.session, new)
            self._log_switch(device, "off", actor=actor, reason=f"moved to {new}", where=old)
            self._log_switch(
                device,
                "on",
                actor=actor,
                reason=f"moved from {old}; {approved_reason(approval)}",
                approval=approval,
                where=new,
            )
        return {}

    def _enforce_placed(self, actor: str) -> None:
        """Places this command put under another: a camera beneath them that may not be on
        there now is turned off, as a changed audience turns it off."""
        placed, self._placed = self._placed, []
        for location_id, parent in placed:
            turn_off_refused(
                self.session,
                [location_id],
                why=_placed_reason(location_id, parent),
                actor=actor,
                now=self._clock(),
                max_config_bytes=self._settings.ingest.max_payload_bytes,
            )

    def configure(
        self,
        device_id: str,
        *,
        actor: str = "cli",
        reason: str | None = None,
        **settings: float | bool | str | None,
    ) -> RemoteConfig:
        """Merge settings into the device's remote config under a new version; the serving
        hub publishes it (retained) within `config_publish_s`. A setting given as None is
        left as it is; one given as UNSET goes back to the kiosk's own file. Turning the
        camera on, or leaving it to the kiosk's own file (which may turn it on), needs a
        public audience and an approval (CameraRefused otherwise); each switch of it is
        written to the camera audit log with `reason`."""
        device = self._active(device_id)
        if reason is not None:  # refused before anything is written
            reason = bounded_text(reason, what="reason", max_chars=REASON_MAX_CHARS)
        wants_camera = settings.get("camera_enabled") is True
        if wants_camera and device.last_status_at and device.camera is None:
            raise ConfigError(
                f"{device_id} reports no camera: add a [camera] section to its kiosk.toml first"
            )
        current = current_settings(device)
        merged = {**current, **{k: v for k, v in settings.items() if v is not None}}
        merged = {k: v for k, v in merged.items() if v != UNSET}
        switch = _camera_switch(device, current.get("camera_enabled"), merged.get("camera_enabled"))
        approval = None
        if switch == "on" or settings.get("camera_enabled") == UNSET:
            approval = check_camera_allowed(self.session, device.location_id)
        config = self._write(device, merged)
        if switch is not None:
            if reason is None and switch == "default":
                reason = f"left to the kiosk's own file by {actor}"
            self._log_switch(
                device,
                switch,
                actor=actor,
                reason=reason,
                approval=approval,
                where=device.location_id,
            )
        return config

    def _write(self, device: Device, settings: dict[str, Any]) -> RemoteConfig:
        """`settings` as the device's next remote config, with the survey of its place."""
        settings = {**settings}
        settings.setdefault("location_id", device.location_id)
        survey = effective_survey(self.session, device.location_id) if device.location_id else None
        if survey is not None:  # none assigned: the kiosk keeps the one it has
            settings["survey"] = survey.model_dump()
        return write_config(
            device,
            settings,
            now=self._clock(),
            max_bytes=self._settings.ingest.max_payload_bytes,
        )

    def _log_switch(
        self,
        device: Device,
        switch: Switch,
        *,
        actor: str,
        reason: str | None,
        where: str | None,
        approval: CameraApproval | None = None,
    ) -> None:
        if reason is None and approval is not None:
            reason = approved_reason(approval)
        log_switch(
            self.session,
            device_id=device.device_id,
            location_id=where,
            action=switch,
            reason=reason or f"turned {switch} by {actor}",
            actor=actor,
            now=self._clock(),
            approval_id=None if approval is None else approval.approval_id,
        )

    def _active(self, device_id: str) -> Device:
        device = self.session.get(Device, device_id)
        if device is None or not device.registered:
            raise ConfigError(f"no device {device_id!r}; add it with `seed-hub devices add`")
        if device.revoked_at is not None:
            raise ConfigError(f"{device_id} was revoked on {device.revoked_at:%Y-%m-%d}")
        return device

    def _check_device_id(self, device_id: str) -> None:
        if not DEVICE_ID_PATTERN.fullmatch(device_id):
            raise ConfigError(
                f"device id {device_id!r}: use lowercase letters, digits, '.', '_' and '-' "
                "(at most 64, starting with a letter or digit)"
            )
        if device_id in self._hub_names() or device_id.startswith(HUB_CLIENT_ID_PREFIX):
            raise ConfigError(
                f"{device_id!r} could pass for the hub's broker account or client id (a "
                f"kiosk's client id is its device id); pick an id not starting "
                f"{HUB_CLIENT_ID_PREFIX!r}"
            )

    def _hub_names(self) -> set[str]:
        settings = self._settings
        return {
            settings.mqtt.hub_username,
            settings.mqtt.client_id,
            *service_entries(settings.fleet_folder),
        }

    def _place(self, site: Site) -> str:
        """Create the site, area and touchpoint that do not exist yet; returns the touchpoint.
        Without a site, the touchpoint must exist already."""
        for location_id in (site.site, site.area, site.location):
            if location_id is not None and not re.fullmatch(LOCATION_ID_PATTERN, location_id):
                raise ConfigError(
                    f"location id {location_id!r}: use lowercase letters, digits, '.', '_' "
                    "and '-' (give a display name with --name)"
                )
        if site.site is None:
            return site.location
        parent = self._ensure(site.site, "site", None, site.time_zone, site.site)
        if site.area:
            parent = self._ensure(site.area, "area", parent, site.time_zone, site.area)
        return self._ensure(
            site.location, "touchpoint", parent, site.time_zone, site.name or site.location
        )

    def _ensure(
        self, location_id: str, kind: str, parent: str | None, time_zone: str, name: str
    ) -> str:
        location = self.session.get(Location, location_id)
        if location is None:
            location = store.add_location(
                self.session, location_id=location_id, name=name, time_zone=time_zone
            )
        elif _placed(location) and (location.kind, location.parent_id) != (kind, parent):
            raise ConfigError(
                f"{location_id} is a {location.kind} under {location.parent_id or 'nothing'}"
                f", not a {kind} under {parent or 'nothing'}"
            )
        placed_anew = location.parent_id is None and parent is not None
        location.kind = kind
        location.parent_id = parent
        if placed_anew and parent is not None:
            self._placed.append((location_id, parent))
        above = self.session.get(Location, parent) if placed_anew and parent else None
        if above is not None and location.languages in (None, DEFAULT_LANGUAGES):
            location.languages = above.languages  # a new place speaks as the place above it
        self.session.flush()
        if placed_anew:
            graft(self.session, location_id=location_id)
            graft_reasons(self.session, location_id=location_id)
        return location_id

    def _issue(self, device: Device, auth: Auth, out_dir: Path) -> Path:
        broker_url = self._broker_url(auth)
        ca = FleetCA.load(self._settings.fleet_folder, clock=self._clock)
        now = self._clock()
        identity = KioskIdentity(
            device_id=device.device_id,
            location_id=device.location_id or "",
            broker_url=broker_url,
            topic_prefix=self._settings.mqtt.topic_prefix,
            issued_at=now,
            display=device.display,
        )
        device.auth = auth
        device.credentials_issued_at = now
        if auth == "password":
            password = new_password()
            device.password_hash = hash_password(password)
            device.certificate_serial = None
            identity = dataclasses.replace(identity, password=password)
        else:
            certificate = ca.issue_client(device.device_id)
            device.password_hash = None
            device.certificate_serial = f"{certificate.serial:x}"
            identity = dataclasses.replace(identity, certificate=certificate)
        self.pending.bundles.append((out_dir, identity))
        self.pending.broker_files = True
        return out_dir / device.device_id

    def _broker_url(self, auth: Auth) -> str:
        setting = BROKER_URL_SETTING[auth]
        url: str | None = getattr(self._settings.fleet, setting)
        if url is None:
            raise ConfigError(
                f"set {FleetSettings.variable(setting)} (or --broker-url) to the address kiosks "
                "reach the broker at; `seed-hub fleet init` writes it into its hub.env"
            )
        return url

    def _retire_certificate(self, device: Device) -> None:
        if device.certificate_serial:
            self.session.add(
                RevokedCertificate(
                    serial=device.certificate_serial,
                    device_id=device.device_id,
                    revoked_at=self._clock(),
                )
            )
            device.certificate_serial = None


def apply_changes(
    changes: PendingChanges,
    settings: HubSettings,
    sessions: sessionmaker[Session],
    *,
    clock: Clock = utc_now,
) -> list[str]:
    """After the commit: write the bundles, bring the broker's files up to date (once, for
    a whole import), and close sessions opened on credentials that no longer count."""
    done = []
    if changes.bundles:
        ca_pem = FleetCA.load(settings.fleet_folder).certificate_pem
        for out_dir, identity in changes.bundles:
            write_bundle(out_dir, identity, ca_pem)
    if changes.broker_files:
        with sessions() as session:
            done.append(sync_broker_files(session, settings, clock=clock))
    for device_id in changes.evict:
        done.append(evict(device_id, settings))
    return done


def evict(device_id: str, settings: HubSettings) -> str:
    """Put out a session the broker would otherwise keep until the kiosk reconnects: the
    hub connects with the kiosk's client id (its username), which closes the other."""
    if not settings.mqtt.broker:
        return f"{device_id}: no external broker configured; an open session lasts until it drops"
    password = settings.mqtt.password
    options = MqttOptions(
        address=parse_broker_url(settings.mqtt.broker),
        client_id=device_id,
        username=settings.mqtt.username,
        password=password.get_secret_value() if password else None,
        ca_file=settings.mqtt.ca_file,
    )
    if take_over_session(options):
        return f"{device_id}: any session still open on the broker was closed"
    return f"{device_id}: could not reach the broker to close a session still open"


def _camera_switch(device: Device, before: object, after: object) -> Switch | None:
    """How a new camera_enabled switches the camera, if it does: to True from anything else
    is on; back to the kiosk's own file (None) from True or False is default; from True to
    False is off, and so is False over a camera the kiosk turned on by its own file."""
    if after is True and before is not True:
        return "on"
    if after is None and before is not None:
        return "default"
    running = reported_running(device.camera, device.camera_fault)
    if after is False and (before is True or (before is None and running)):
        return "off"
    return None


def _placed_reason(location_id: str, parent: str) -> Callable[[CameraRefused], str]:
    return lambda refused: f"{location_id} placed under {parent}: {refused.why}"


def _placed(location: Location) -> bool:
    """In the hierarchy already (a bare location from `locations add` is not, yet)."""
    return location.parent_id is not None or location.kind != "touchpoint"


def _auth_of(device: Device) -> Auth:
    return "certificate" if device.auth == "certificate" else "password"


def devices_overview(session: Session) -> list[dict[str, object]]:
    """Every device as `seed-hub devices list --json` prints it (no secret, no hash)."""
    devices = session.scalars(select(Device).order_by(Device.device_id))
    return [
        {
            "device_id": d.device_id,
            "location_id": d.location_id,
            "registered": d.registered,
            "auth": d.auth,
            "state": "revoked" if d.revoked_at else d.state,
            "revoked_at": _iso(d.revoked_at),
            "credentials_issued_at": _iso(d.credentials_issued_at),
            "last_seen_at": _iso(d.last_seen_at),
            "version": d.version,
            "outbox_depth": d.outbox_depth,
            "clock_offset_s": d.clock_offset_s,
            "config_version": d.desired_config_version,
            "applied_config_version": d.applied_config_version,
            "config_error": d.config_error,
        }
        for d in devices
    ]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None
