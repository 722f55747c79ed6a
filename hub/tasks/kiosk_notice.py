"""Kiosk notices: a kiosk with a display tells travellers that the trouble at its place is
being handled ("Cleaning requested 10:42"), and stops once the task is resolved.

The notices travel in each kiosk's remote config (`RemoteConfig.notices`). A kiosk is
given a new config version only when its notices change; once its place has no unresolved
task left it gets an empty list, which clears them. With `SEED_HUB_TASK_KIOSK_NOTICE` off
the field is taken out of every config that has it, so kiosks older than notices (which
refuse a config with a field they do not know) can be served again.
"""

import logging
from collections import defaultdict
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hub.fleet.remote_config import current_settings, write_config
from hub.models import Device, Location, Task, Team
from hub.surveys.store import DEFAULT_MAX_CONFIG_BYTES
from protocol.errors import ConfigError, ProtocolError
from protocol.messages import MAX_NOTICES, NOTICE_TEAM_MAX_CHARS, KioskNotice
from protocol.text import CONTROL_CHARACTER

log = logging.getLogger(__name__)

NOTICES = "notices"


def sync_kiosk_notices(
    session: Session,
    *,
    now: datetime,
    enabled: bool,
    max_config_bytes: int = DEFAULT_MAX_CONFIG_BYTES,
) -> list[str]:
    """Bring each kiosk's notices in line with the unresolved tasks at its place (none when
    not `enabled`); returns the ids of the kiosks given a new config version."""
    wanted = notices_by_place(session) if enabled else {}
    changed = []
    for device_id in _candidates(session, places=wanted.keys()):
        device = session.get(Device, device_id, with_for_update=True, populate_existing=True)
        if device is None or device.location_id is None:
            continue
        notices = wanted.get(device.location_id, []) if enabled else None
        if _write(device, notices, now=now, max_config_bytes=max_config_bytes):
            changed.append(device_id)
    if changed:
        log.info("kiosk notices changed on %s", changed)
    return changed


def notices_by_place(session: Session) -> dict[str, list[KioskNotice]]:
    """Per location, a notice for each team with an unresolved task there (at most
    MAX_NOTICES, by team name): on its way once a task of the team is acknowledged."""
    rows = session.execute(
        select(Task, Team.name, Location.time_zone)
        .join(Team, Team.team_id == Task.team_id)
        .join(Location, Location.location_id == Task.location_id)
        .where(Task.state != "resolved")
        .order_by(Task.location_id, Task.team_id, Task.id)
    ).all()
    per_team: dict[tuple[str, str], list[tuple[Task, str, str]]] = defaultdict(list)
    for task, team_name, time_zone in rows:
        per_team[task.location_id, task.team_id].append((task, team_name, time_zone))
    places: dict[str, list[KioskNotice]] = defaultdict(list)
    for (location_id, _team_id), tasks in per_team.items():
        places[location_id].append(_notice(tasks))
    return {
        place: sorted(notices, key=lambda n: (n.team.casefold(), n.team))[:MAX_NOTICES]
        for place, notices in places.items()
    }


def _notice(tasks: list[tuple[Task, str, str]]) -> KioskNotice:
    """One team's unresolved tasks at one place, as travellers are told of them."""
    task, team_name, time_zone = tasks[0]
    acknowledged = [t.acknowledged_at for t, _, _ in tasks if t.acknowledged_at is not None]
    if acknowledged:
        kind, since = "on_the_way", min(acknowledged)
    else:
        kind, since = "requested", min(t.opened_at for t, _, _ in tasks)
    return KioskNotice(
        kind=kind,
        team=_shown_name(team_name) or task.team_id,
        since=since.replace(microsecond=0),
        time_zone=time_zone,
    )


def _shown_name(name: str) -> str:
    """The team's name as a kiosk may show it: printable, and short enough."""
    name = " ".join(CONTROL_CHARACTER.sub(" ", name).split())
    if len(name) > NOTICE_TEAM_MAX_CHARS:
        name = name[: NOTICE_TEAM_MAX_CHARS - 1].rstrip() + "…"
    return name


def _candidates(session: Session, *, places: Collection[str]) -> list[str]:
    """Kiosks with a display at a place with notices, or whose config may carry some."""
    return list(
        session.scalars(
            select(Device.device_id)
            .where(
                Device.registered.is_(True),
                Device.revoked_at.is_(None),
                Device.display.is_(True),
                Device.location_id.is_not(None),
                or_(
                    Device.location_id.in_(list(places)),
                    Device.desired_config.contains(f'"{NOTICES}"'),
                ),
            )
            .order_by(Device.device_id)
        )
    )


def _write(
    device: Device, notices: list[KioskNotice] | None, *, now: datetime, max_config_bytes: int
) -> bool:
    """Give the device a config with these notices (None: without the field) if they differ
    from what it has; False when they do not, or when its config is unreadable or would not
    fit."""
    try:
        settings = current_settings(device)
    except ProtocolError as exc:  # written by hand, or by a hub of another schema
        log.error(
            "kiosk notices not sent to %s: its config is unreadable: %s", device.device_id, exc
        )
        return False
    carried = settings.pop(NOTICES, None)
    have = None if carried is None else [KioskNotice.model_validate(n) for n in carried]
    if notices == have or (have is None and notices == []):
        return False  # nothing new, or nothing shown and nothing to show
    if notices is not None:
        settings[NOTICES] = [n.model_dump() for n in notices]
    settings.setdefault("location_id", device.location_id)
    try:
        write_config(device, settings, now=now, max_bytes=max_config_bytes)
    except ConfigError as exc:
        log.error("kiosk notices not sent to %s: %s", device.device_id, exc)
        return False
    return True
