"""Repository functions: keyword-only, the session first, no commits (the caller owns those)."""

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hub.models import (
    EMOTION_COLUMNS,
    ROLLUP_COUNTS,
    DailyRollup,
    DeadLetter,
    Device,
    Event,
    HourlyFootfall,
    HourlyRollup,
    Location,
    Placement,
    observations,
)
from protocol.errors import ConfigError
from protocol.messages import Button, DeviceState, DeviceStatus, PressEvent

MAX_KEPT_PAYLOAD = 16_384


@dataclass(frozen=True)
class Rejected:
    """Input on its way to the dead-letter table."""

    topic: str
    reason: str
    detail: str
    payload: bytes
    received_at: datetime


def _insert(session: Session, model: type[Any]) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (SQLite and PostgreSQL alike)."""
    table: Table = model.__table__
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def hour_bucket(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def day_bucket(moment: datetime) -> datetime:
    """The start of the moment's UTC day (daily rollups are UTC days)."""
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def add_location(session: Session, *, location_id: str, name: str, time_zone: str) -> Location:
    """Create or update a location; the time zone must be an IANA name like Europe/Helsinki."""
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"unknown time zone {time_zone!r}; use an IANA name such as Europe/Helsinki"
        ) from exc
    location = session.get(Location, location_id)
    if location is None:
        location = Location(location_id=location_id, created_at=datetime.now().astimezone())
        session.add(location)
    location.name = name
    location.time_zone = time_zone
    return location


def register_device(session: Session, *, device_id: str, location_id: str) -> Device:
    if session.get(Location, location_id) is None:
        raise ConfigError(
            f"no location {location_id!r}; add it first with "
            f"`seed-hub locations add {location_id} --name ... --tz ...`"
        )
    device = session.get(Device, device_id) or Device(device_id=device_id, state="unknown")
    device.location_id = location_id
    device.registered = True
    session.add(device)
    session.flush()
    if session.get(Placement, (device_id, location_id)) is None:
        session.add(
            Placement(
                device_id=device_id, location_id=location_id, placed_at=datetime.now().astimezone()
            )
        )
    return device


@dataclass(frozen=True)
class Registration:
    location_id: str | None
    """Where the device stands now."""
    placements: frozenset[str]
    """Every location it has stood at: a press made before a move counts where it was made."""
    revoked: bool


def registrations(session: Session, *, device_ids: Iterable[str]) -> dict[str, Registration]:
    """device id -> its registration, for those of `device_ids` that are registered."""
    wanted = set(device_ids)
    if not wanted:
        return {}
    devices = session.execute(
        select(Device.device_id, Device.location_id, Device.revoked_at)
        .where(Device.device_id.in_(wanted))
        .where(Device.registered.is_(True))
    ).all()
    placed: dict[str, set[str]] = {}
    for device_id, location_id in session.execute(
        select(Placement.device_id, Placement.location_id).where(Placement.device_id.in_(wanted))
    ):
        placed.setdefault(device_id, set()).add(location_id)
    return {
        device_id: Registration(
            location_id=location_id,
            placements=frozenset(placed.get(device_id, set()) | {location_id or ""}) - {""},
            revoked=revoked_at is not None,
        )
        for device_id, location_id, revoked_at in devices
    }


def store_events(
    session: Session,
    *,
    events: Sequence[PressEvent],
    received_at: datetime,
    clock_offsets: Mapping[str, float] | None = None,
) -> set[str]:
    """Store events once each and fold the new ones into the rollups; returns the new ids.

    `clock_offsets` (event id -> seconds to add) corrects presses stamped by a skewed kiosk
    clock; scores count a corrected press in the hour it really happened.
    """
    offsets = clock_offsets or {}
    first_of_each: dict[str, PressEvent] = {}
    for event in events:
        first_of_each.setdefault(event.event_id, event)
    events = list(first_of_each.values())
    if not events:
        return set()
    _ensure_locations(session, location_ids={e.location_id for e in events})
    _mark_seen(session, events=events, received_at=received_at)
    rows = [_event_row(e, received_at, offsets.get(e.event_id)) for e in events]
    statement = _insert(session, Event).on_conflict_do_nothing(index_elements=["event_id"])
    new_ids = set(session.scalars(statement.returning(Event.event_id), rows))
    _fold_into_rollups(session, rows=[row for row in rows if row["event_id"] in new_ids])
    _store_observations(
        session,
        events=[e for e in events if e.emotion is not None and e.event_id in new_ids],
        occurred={row["event_id"]: row["occurred_at"] for row in rows},
    )
    return new_ids


def _store_observations(
    session: Session, *, events: Sequence[PressEvent], occurred: Mapping[str, datetime]
) -> None:
    rows = []
    for event in events:
        emotion = event.emotion
        assert emotion is not None
        valence, arousal, dominance = emotion.vad
        rows.append(
            {
                "event_id": event.event_id,
                "location_id": event.location_id,
                "occurred_at": occurred[event.event_id],
                "valence": valence,
                "arousal": arousal,
                "dominance": dominance,
                "face_score": emotion.face_score,
                **dict(zip(EMOTION_COLUMNS, emotion.emotions, strict=True)),
            }
        )
    if rows:
        session.execute(observations.insert(), rows)


def corrected(moment: datetime, offset_s: float | None) -> datetime:
    return moment if offset_s is None else moment + timedelta(seconds=offset_s)


def _event_row(event: PressEvent, received_at: datetime, offset_s: float | None) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "device_id": event.device_id,
        "location_id": event.location_id,
        "seq": event.seq,
        "occurred_at": corrected(event.occurred_at, offset_s),
        "kiosk_occurred_at": event.occurred_at,
        "clock_offset_s": offset_s,
        "received_at": received_at,
        "button": event.button.value,
        "misuse": event.misuse,
    }


def _ensure_locations(session: Session, *, location_ids: set[str]) -> None:
    """A location first seen on the wire is created in UTC until a technician names it."""
    now = datetime.now().astimezone()
    rows = [
        {"location_id": i, "name": i, "time_zone": "UTC", "created_at": now}
        for i in sorted(location_ids)
    ]
    session.execute(_insert(session, Location).on_conflict_do_nothing(), rows)


def _mark_seen(session: Session, *, events: Sequence[PressEvent], received_at: datetime) -> None:
    devices = {e.device_id: e.location_id for e in events}
    rows = [
        {
            "device_id": d,
            "location_id": loc,
            "registered": False,
            "state": "online",
            "first_seen_at": received_at,
            "last_seen_at": received_at,
        }
        for d, loc in sorted(devices.items())
    ]
    statement = _insert(session, Device)
    statement = statement.on_conflict_do_update(
        index_elements=["device_id"], set_={"last_seen_at": statement.excluded.last_seen_at}
    )
    session.execute(statement, rows)


def _fold_into_rollups(session: Session, *, rows: Sequence[dict[str, Any]]) -> None:
    """Add the new events to their hour's and their day's counts (an atomic upsert each)."""
    _fold_into(session, HourlyRollup, hour_bucket, rows)
    _fold_into(session, DailyRollup, day_bucket, rows)


def _fold_into(
    session: Session,
    model: type[HourlyRollup] | type[DailyRollup],
    bucket_of: Callable[[datetime], datetime],
    rows: Sequence[dict[str, Any]],
) -> None:
    deltas: Counter[tuple[str, datetime, bool, str]] = Counter(
        (r["location_id"], bucket_of(r["occurred_at"]), r["misuse"], r["button"]) for r in rows
    )
    buckets: dict[tuple[str, datetime, bool], dict[str, Any]] = {}
    for (location_id, bucket_start, misuse, button), n in deltas.items():
        row = buckets.setdefault(
            (location_id, bucket_start, misuse),
            {
                "location_id": location_id,
                "bucket_start": bucket_start,
                "misuse": misuse,
                **dict.fromkeys(ROLLUP_COUNTS, 0),
            },
        )
        row[button] += n
    if not buckets:
        return
    statement = _insert(session, model)
    table = model.__table__.c
    statement = statement.on_conflict_do_update(
        index_elements=["location_id", "bucket_start", "misuse"],
        set_={b: table[b] + statement.excluded[b] for b in ROLLUP_COUNTS},
    )
    session.execute(statement, [buckets[key] for key in sorted(buckets)])


def apply_status(
    session: Session, *, status: DeviceStatus, received_at: datetime, retained: bool = False
) -> None:
    """Record a device's status. A retained one (replayed by the broker when the hub
    subscribes) is old news: it fills in a device the hub knows nothing of, no more."""
    device = session.get(Device, status.device_id)
    if retained and device is not None and device.last_status_at is not None:
        return
    if device is None:
        device = Device(device_id=status.device_id, registered=False, first_seen_at=received_at)
        session.add(device)
    if device.location_id is None and status.location_id is not None:
        _ensure_locations(session, location_ids={status.location_id})
        device.location_id = status.location_id
    device.state = status.state.value
    device.version = status.version or device.version
    if status.config_version is not None:
        device.applied_config_version = status.config_version
    if status.state is DeviceState.ONLINE:
        device.config_error = status.config_error
        device.camera = status.camera
        device.camera_fault = status.camera_fault
    if retained:
        return
    _count_passersby(session, device=device, status=status, received_at=received_at)
    device.last_status_at = received_at
    if status.state is DeviceState.ONLINE:
        device.last_seen_at = received_at
        device.version = status.version
        device.uptime_s = status.uptime_s
        device.outbox_depth = status.outbox_depth
        device.outbox_capacity = status.outbox_capacity
        device.outbox_dropped = status.outbox_dropped
        device.clock_offset_s = round((received_at - status.sent_at).total_seconds(), 3)


def _count_passersby(
    session: Session, *, device: Device, status: DeviceStatus, received_at: datetime
) -> None:
    """Fold the faces counted since the kiosk's previous status into its location's hour.
    The kiosk's counter starts at 0 when it starts: a smaller total is a restart."""
    total = status.passersby_total
    if total is None or device.location_id is None:
        return
    previous = device.passersby_total or 0
    delta = total - previous if total >= previous else total
    device.passersby_total = total
    if delta <= 0:
        return
    statement = _insert(session, HourlyFootfall)
    statement = statement.on_conflict_do_update(
        index_elements=["location_id", "bucket_start"],
        set_={"passersby": HourlyFootfall.__table__.c.passersby + statement.excluded.passersby},
    )
    session.execute(
        statement,
        {
            "location_id": device.location_id,
            "bucket_start": hour_bucket(received_at),
            "passersby": delta,
        },
    )


def record_dead_letters(session: Session, *, letters: Sequence[Rejected]) -> None:
    session.add_all(
        DeadLetter(
            received_at=letter.received_at,
            topic=storable_text(letter.topic)[:300],
            reason=letter.reason,
            detail=storable_text(letter.detail)[:2000],
            payload=letter.payload[:MAX_KEPT_PAYLOAD],
            payload_size=len(letter.payload),
        )
        for letter in letters
    )


def storable_text(text: str) -> str:
    """Text every database keeps: PostgreSQL refuses NUL, UTF-8 refuses lone surrogates."""
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


def dead_letter_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(DeadLetter.reason, func.count()).group_by(DeadLetter.reason))
    return {reason: count for reason, count in rows}


def event_owners(session: Session, *, event_ids: Iterable[str]) -> dict[str, str]:
    """event id -> the device it is stored for."""
    rows = session.execute(
        select(Event.event_id, Event.device_id).where(Event.event_id.in_(set(event_ids)))
    )
    return {event_id: device_id for event_id, device_id in rows}


def stored_event_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Event)) or 0)


def rollup_press_count(session: Session) -> int:
    """Presses counted in the rollups; equals `stored_event_count` unless one was counted twice."""
    total = sum(getattr(HourlyRollup, b.value) for b in Button)
    return int(session.scalar(select(func.sum(total))) or 0)


def rollup_mismatches(session: Session, *, location_ids: Iterable[str]) -> int:
    """Hourly and daily rollup cells of these locations that differ from a recount of their
    raw events."""
    mismatches = 0
    for location_id in location_ids:
        events = session.execute(
            select(Event.occurred_at, Event.misuse, Event.button).where(
                Event.location_id == location_id
            )
        ).all()
        for model, bucket_of in ((HourlyRollup, hour_bucket), (DailyRollup, day_bucket)):
            recount = Counter((bucket_of(at), bool(m), button) for at, m, button in events)
            stored = _stored_counts(session, model, location_id)
            mismatches += sum(1 for k in recount.keys() | stored.keys() if recount[k] != stored[k])
    return mismatches


def _stored_counts(
    session: Session, model: type[HourlyRollup] | type[DailyRollup], location_id: str
) -> Counter[tuple[datetime, bool, str]]:
    stored: Counter[tuple[datetime, bool, str]] = Counter()
    rows = session.execute(
        select(model.bucket_start, model.misuse, *(getattr(model, b.value) for b in Button)).where(
            model.location_id == location_id
        )
    )
    for bucket_start, misuse, *counts in rows:
        for button, n in zip((b.value for b in Button), counts, strict=True):
            if n:
                stored[(bucket_start, bool(misuse), button)] = n
    return stored
