"""Repository functions: keyword-only, the session first, no commits (the caller owns those)."""

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import case, delete, func, or_, select
from sqlalchemy.orm import Session

from hub.camera.governance import camera_refusal, enforce_reported_camera, reported_running
from hub.clock import utc_now
from hub.db import dialect_insert
from hub.hierarchy import checked_location_id, checked_name
from hub.models import (
    EMOTION_COLUMNS,
    WEB_DEVICE_ID,
    Channel,
    DeadLetter,
    DeadLetterTally,
    Device,
    Event,
    FollowUpAnswer,
    HourlyFootfall,
    Location,
    Placement,
    observations,
)
from hub.rollups.buckets import hour_bucket
from hub.rollups.reasons import fold_followups, fold_presses, lock_answers, rebuild_subtree_days
from hub.rollups.write import fold
from hub.surveys.store import DEFAULT_MAX_CONFIG_BYTES
from protocol.errors import ConfigError
from protocol.messages import BUTTONS, Button, DeviceState, DeviceStatus, FollowUp, PressEvent

log = logging.getLogger(__name__)

MAX_PASSERSBY_PER_S = 5
"""More faces a second than one camera at a touchpoint sees pass, even at a rush."""
MAX_COUNTED_GAP_S = 366 * 86_400.0
MAX_KEPT_PAYLOAD = 4096
"""Of a dead letter's payload: a whole valid message, or the head of an oversized one."""


@dataclass(frozen=True)
class Rejected:
    """Input on its way to the dead-letter table."""

    topic: str
    reason: str
    detail: str
    payload: bytes
    received_at: datetime
    source: str = ""
    """The device its topic names, if a known one: whose quota it counts against."""
    payload_size: int | None = None
    """The size it arrived with, when `payload` holds only its head."""


class Flag(StrEnum):
    """Why the hub keeps a press out of scores although the kiosk did not flag it."""

    TOO_FAST = "too_fast"
    BACKDATED = "backdated"


@dataclass(frozen=True)
class LastPress:
    seq: int
    occurred_at: datetime


def add_location(
    session: Session, *, location_id: str, name: str, time_zone: str, now: datetime | None = None
) -> Location:
    """Create or update a location; the time zone must be an IANA name like Europe/Helsinki."""
    checked_location_id(location_id)
    checked_name(name)
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"unknown time zone {time_zone!r}; use an IANA name such as Europe/Helsinki"
        ) from exc
    location = session.get(Location, location_id)
    if location is None:
        location = Location(location_id=location_id, created_at=now or utc_now())
        session.add(location)
    elif location.time_zone != time_zone:
        location.time_zone = time_zone
        session.flush()
        rebuild_subtree_days(session, location_ids=[location_id])  # its days are others now
    location.name = name
    location.time_zone = time_zone
    return location


def register_device(
    session: Session, *, device_id: str, location_id: str, now: datetime | None = None
) -> Device:
    if device_id == WEB_DEVICE_ID:
        raise ConfigError(
            f"{WEB_DEVICE_ID!r} names the survey on travellers' phones; give the kiosk another id"
        )
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
            Placement(device_id=device_id, location_id=location_id, placed_at=now or utc_now())
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
    flags: Mapping[str, Flag] | None = None,
    channel: Channel = Channel.KIOSK,
) -> set[str]:
    """Store events once each and fold the new ones into the rollups; returns the new ids.

    `clock_offsets` (event id -> seconds to add) corrects presses stamped by a skewed kiosk
    clock; scores count a corrected press in the hour it really happened. A press in `flags`
    is kept as misuse is: counted apart, out of scores. A kiosk's presses mark it seen; the
    phone survey's (`Channel.WEB`) come from no kiosk. A press's camera reading is kept only
    where a camera may be on (`_readings_allowed`).
    """
    offsets = clock_offsets or {}
    flagged = flags or {}
    first_of_each: dict[str, PressEvent] = {}
    for event in events:
        first_of_each.setdefault(event.event_id, event)
    events = list(first_of_each.values())
    if not events:
        return set()
    lock_answers(session, event_ids=first_of_each)
    _ensure_locations(session, location_ids={e.location_id for e in events}, now=received_at)
    rows = [
        _event_row(e, received_at, offsets.get(e.event_id), flagged.get(e.event_id))
        | {"channel": channel.value}
        for e in events
    ]
    if channel is Channel.KIOSK:
        _mark_seen(session, rows=rows, received_at=received_at)
    statement = dialect_insert(session, Event).on_conflict_do_nothing(index_elements=["event_id"])
    new_ids = set(session.scalars(statement.returning(Event.event_id), rows))
    new_rows = [row for row in rows if row["event_id"] in new_ids]
    fold(session, rows=new_rows)
    fold_presses(session, rows=new_rows)
    readings = [
        e
        for e in events
        if e.emotion is not None and e.event_id in new_ids and e.event_id not in flagged
    ]
    _store_observations(
        session,
        events=_readings_allowed(session, readings),
        occurred={row["event_id"]: row["occurred_at"] for row in rows},
    )
    return new_ids


def _readings_allowed(session: Session, readings: list[PressEvent]) -> list[PressEvent]:
    """The readings made where a camera may be on: a public audience and an active approval
    (one check per place of the batch). The others are dropped, their presses kept: a kiosk
    may turn its camera on in its own file, at a workplace or before any approval."""
    places = {event.location_id for event in readings}
    refused = {place for place in places if camera_refusal(session, place) is not None}
    if not refused:
        return readings
    kept = [event for event in readings if event.location_id not in refused]
    log.warning(
        "%d camera readings not stored: no camera may be on at %s",
        len(readings) - len(kept),
        ", ".join(sorted(refused)),
    )
    return kept


NEGATIVE_BUTTONS = frozenset({Button.UNHAPPY.value, Button.VERY_UNHAPPY.value})
POSITIVE_BUTTONS = frozenset(b.value for b in BUTTONS) - NEGATIVE_BUTTONS


def polarity(button: str) -> str:
    """The follow-up question a press of this button is asked: negative or positive."""
    return "negative" if button in NEGATIVE_BUTTONS else "positive"


def store_followups(
    session: Session,
    *,
    followups: Sequence[FollowUp],
    received_at: datetime,
    clock_offsets: Mapping[str, float] | None = None,
) -> set[str]:
    """Store follow-ups once each (their own id is the key) and count the presses they
    answer anew in the reasons rollups; returns the new ids. Their press need not be
    stored: it may come later, and is counted with them then."""
    offsets = clock_offsets or {}
    first_of_each: dict[str, FollowUp] = {}
    for followup in followups:
        first_of_each.setdefault(followup.followup_id, followup)
    if not first_of_each:
        return set()
    lock_answers(session, event_ids={f.event_id for f in first_of_each.values()})
    rows = [
        {
            "followup_id": f.followup_id,
            "event_id": f.event_id,
            "device_id": f.device_id,
            "location_id": f.location_id,
            "survey_id": f.survey_id,
            "survey_version": f.survey_version,
            "question": f.question,
            "option": f.option,
            "language": f.language,
            "answered_at": corrected(f.answered_at, offsets.get(f.followup_id)),
            "received_at": received_at,
        }
        for f in first_of_each.values()
    ]
    statement = dialect_insert(session, FollowUpAnswer).on_conflict_do_nothing(
        index_elements=["followup_id"]
    )
    new_ids = set(session.scalars(statement.returning(FollowUpAnswer.followup_id), rows))
    answered = {f.event_id for f in first_of_each.values() if f.followup_id in new_ids}
    fold_followups(session, event_ids=answered, new_ids=new_ids)
    return new_ids


@dataclass(frozen=True)
class AnsweredPress:
    """What a follow-up is checked against: its stored press."""

    device_id: str
    button: str
    survey_id: str | None
    survey_version: int | None


def presses_answered(session: Session, *, event_ids: Iterable[str]) -> dict[str, AnsweredPress]:
    """event id -> its stored press, for those of `event_ids` that are stored."""
    wanted = set(event_ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(
            Event.event_id, Event.device_id, Event.button, Event.survey_id, Event.survey_version
        ).where(Event.event_id.in_(wanted))
    )
    return {
        event_id: AnsweredPress(device_id, button, survey_id, survey_version)
        for event_id, device_id, button, survey_id, survey_version in rows
    }


def followup_mismatch(followup: FollowUp, press: AnsweredPress) -> str | None:
    """Why a follow-up cannot answer its stored press, or None when it does."""
    if press.device_id != followup.device_id:
        return f"press {followup.event_id} is {press.device_id!r}'s, not {followup.device_id!r}'s"
    if polarity(press.button) != followup.question:
        return (
            f"a {followup.question} follow-up to press {followup.event_id} of {press.button}"
            f" (its question is {polarity(press.button)})"
        )
    answered = (followup.survey_id, followup.survey_version)
    if press.survey_id is not None and (press.survey_id, press.survey_version) != answered:
        return (
            f"follow-up to survey {followup.survey_id} v{followup.survey_version}, its press "
            f"answered {press.survey_id} v{press.survey_version}"
        )
    return None


def followup_owners(session: Session, *, followup_ids: Iterable[str]) -> dict[str, str]:
    """follow-up id -> the device it is stored for."""
    rows = session.execute(
        select(FollowUpAnswer.followup_id, FollowUpAnswer.device_id).where(
            FollowUpAnswer.followup_id.in_(set(followup_ids))
        )
    )
    return {followup_id: device_id for followup_id, device_id in rows}


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


def _event_row(
    event: PressEvent, received_at: datetime, offset_s: float | None, flag: Flag | None
) -> dict[str, Any]:
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
        "misuse": event.misuse or flag is not None,
        "flag": None if flag is None else flag.value,
        "survey_id": event.survey_id,
        "survey_version": event.survey_version,
    }


def _ensure_locations(session: Session, *, location_ids: set[str], now: datetime) -> None:
    """A location first seen on the wire is created in UTC until a technician names it."""
    rows = [
        {"location_id": i, "name": i, "time_zone": "UTC", "created_at": now}
        for i in sorted(location_ids)
    ]
    session.execute(dialect_insert(session, Location).on_conflict_do_nothing(), rows)


def _mark_seen(session: Session, *, rows: Sequence[dict[str, Any]], received_at: datetime) -> None:
    """Every kiosk heard from is a device, its latest press (in time) remembered to time
    the next."""
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        known = latest.get(row["device_id"])
        if known is None or row["occurred_at"] > known["occurred_at"]:
            latest[row["device_id"]] = row
    devices = [
        {
            "device_id": device_id,
            "location_id": row["location_id"],
            "registered": False,
            "state": "online",
            "first_seen_at": received_at,
            "last_seen_at": received_at,
            "last_press_seq": row["seq"],
            "last_press_at": row["occurred_at"],
        }
        for device_id, row in sorted(latest.items())
    ]
    statement = dialect_insert(session, Device)
    table = Device.__table__.c
    later = or_(
        table.last_press_at.is_(None), statement.excluded.last_press_at > table.last_press_at
    )
    statement = statement.on_conflict_do_update(
        index_elements=["device_id"],
        set_={
            "last_seen_at": statement.excluded.last_seen_at,
            "first_seen_at": func.coalesce(table.first_seen_at, statement.excluded.first_seen_at),
            "last_press_seq": case(
                (later, statement.excluded.last_press_seq), else_=table.last_press_seq
            ),
            "last_press_at": case(
                (later, statement.excluded.last_press_at), else_=table.last_press_at
            ),
        },
    )
    session.execute(statement, devices)


def existing_devices(session: Session, *, device_ids: Iterable[str]) -> set[str]:
    """Those of `device_ids` the hub has a device for, registered or not."""
    wanted = set(device_ids) - {""}
    if not wanted:
        return set()
    return set(session.scalars(select(Device.device_id).where(Device.device_id.in_(wanted))))


def last_presses(session: Session, *, device_ids: Iterable[str]) -> dict[str, LastPress]:
    """device id -> its latest stored press, for those that have one."""
    wanted = set(device_ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(Device.device_id, Device.last_press_seq, Device.last_press_at).where(
            Device.device_id.in_(wanted)
        )
    )
    return {d: LastPress(seq, at) for d, seq, at in rows if seq is not None and at is not None}


def apply_status(
    session: Session,
    *,
    status: DeviceStatus,
    received_at: datetime,
    retained: bool = False,
    max_config_bytes: int = DEFAULT_MAX_CONFIG_BYTES,
) -> None:
    """Record a device's status. A retained one (replayed by the broker when the hub
    subscribes) is old news: it fills in a device the hub knows nothing of, no more. A
    camera reported on is checked (`enforce_reported_camera`); a config turning it off must
    fit in `max_config_bytes`."""
    device = session.get(Device, status.device_id)
    if retained and device is not None and device.last_status_at is not None:
        return
    if device is None:
        device = Device(device_id=status.device_id, registered=False, first_seen_at=received_at)
        session.add(device)
    if device.location_id is None and status.location_id is not None:
        _ensure_locations(session, location_ids={status.location_id}, now=received_at)
        device.location_id = status.location_id
    device.state = status.state.value
    device.version = status.version or device.version
    if status.config_version is not None:
        device.applied_config_version = status.config_version
    if status.state is DeviceState.ONLINE:
        device.config_error = status.config_error
        device.camera = status.camera
        device.camera_fault = status.camera_fault
        device.model_sha256 = status.model_sha256
        if reported_running(status.camera, status.camera_fault):
            enforce_reported_camera(session, device, received_at, max_config_bytes=max_config_bytes)
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
    The kiosk's counter starts at 0 when it starts: a smaller total is a restart. No more
    faces count than a camera can see pass in the time since (a hostile counter inflates
    nothing)."""
    total = status.passersby_total
    if total is None or device.location_id is None:
        return
    previous = device.passersby_total or 0
    delta = total - previous if total >= previous else total
    since = device.last_status_at or device.first_seen_at or received_at
    elapsed_s = (received_at - since).total_seconds()
    elapsed_s = min(max(elapsed_s, 0.0), MAX_COUNTED_GAP_S)
    delta = min(delta, int(elapsed_s * MAX_PASSERSBY_PER_S) + MAX_PASSERSBY_PER_S)
    device.passersby_total = total
    if delta <= 0:
        return
    statement = dialect_insert(session, HourlyFootfall)
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


def record_dead_letters(
    session: Session, *, letters: Sequence[Rejected], quota: int | None = None
) -> None:
    """Count every letter; keep it whole only while its source has fewer than `quota` kept."""
    if not letters:
        return
    _tally(session, letters)
    kept = letters if quota is None else _within_quota(session, letters, quota)
    session.add_all(
        DeadLetter(
            received_at=letter.received_at,
            source=letter.source,
            topic=storable_text(letter.topic)[:300],
            reason=storable_text(letter.reason)[:64],
            detail=storable_text(letter.detail)[:2000],
            payload=letter.payload[:MAX_KEPT_PAYLOAD],
            payload_size=len(letter.payload)
            if letter.payload_size is None
            else letter.payload_size,
        )
        for letter in kept
    )


def _within_quota(session: Session, letters: Sequence[Rejected], quota: int) -> list[Rejected]:
    sources = {letter.source for letter in letters}
    room = dict.fromkeys(sources, quota)
    rows = session.execute(
        select(DeadLetter.source, func.count())
        .where(DeadLetter.source.in_(sources))
        .group_by(DeadLetter.source)
    )
    for source, kept in rows:
        room[source] = quota - kept
    within = []
    for letter in letters:
        if room[letter.source] > 0:
            room[letter.source] -= 1
            within.append(letter)
    return within


def _tally(session: Session, letters: Sequence[Rejected]) -> None:
    counts: Counter[tuple[str, str]] = Counter(
        (letter.source, storable_text(letter.reason)[:64]) for letter in letters
    )
    first = min(letter.received_at for letter in letters)
    last = max(letter.received_at for letter in letters)
    statement = dialect_insert(session, DeadLetterTally)
    table = DeadLetterTally.__table__.c
    statement = statement.on_conflict_do_update(
        index_elements=["source", "reason"],
        set_={
            "count": table["count"] + statement.excluded["count"],
            "last_at": statement.excluded.last_at,
        },
    )
    session.execute(
        statement,
        [
            {"source": source, "reason": reason, "count": n, "first_at": first, "last_at": last}
            for (source, reason), n in sorted(counts.items())
        ],
    )


def purge_dead_letters(
    session: Session,
    *,
    older_than: datetime | None = None,
    keep_newest: int | None = None,
    source: str | None = None,
) -> int:
    """Delete kept dead letters received before `older_than`, beyond the newest
    `keep_newest`, or (with neither) all of them; `source` narrows to one device.
    Their counts stay. Returns how many were deleted."""
    scope = [] if source is None else [DeadLetter.source == source]
    deleted = 0
    if older_than is not None:
        deleted += _delete(session, *scope, DeadLetter.received_at < older_than)
    if keep_newest is not None:
        boundary = session.scalar(
            select(DeadLetter.id).where(*scope).order_by(DeadLetter.id.desc()).offset(keep_newest)
        )
        if boundary is not None:
            deleted += _delete(session, *scope, DeadLetter.id <= boundary)
    if older_than is None and keep_newest is None:
        deleted += _delete(session, *scope)
    return deleted


def _delete(session: Session, *conditions: Any) -> int:
    result = session.execute(delete(DeadLetter).where(*conditions))
    return int(getattr(result, "rowcount", 0) or 0)


def storable_text(text: str) -> str:
    """Text every database keeps: PostgreSQL refuses NUL, UTF-8 refuses lone surrogates."""
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


def dead_letter_counts(session: Session) -> dict[str, int]:
    """reason -> how many dead letters the hub has had, kept or not."""
    rows = session.execute(
        select(DeadLetterTally.reason, func.sum(DeadLetterTally.count)).group_by(
            DeadLetterTally.reason
        )
    )
    return {reason: int(count) for reason, count in rows}


def dead_letter_sources(session: Session, *, limit: int = 20) -> list[dict[str, Any]]:
    """The sources with the most dead letters: counted, kept, last seen."""
    kept = dict(
        session.execute(select(DeadLetter.source, func.count()).group_by(DeadLetter.source)).all()
    )
    rows = session.execute(
        select(
            DeadLetterTally.source,
            func.sum(DeadLetterTally.count).label("n"),
            func.max(DeadLetterTally.last_at),
        )
        .group_by(DeadLetterTally.source)
        .order_by(func.sum(DeadLetterTally.count).desc())
        .limit(limit)
    )
    return [
        {
            "source": source or "(no known device)",
            "count": int(n),
            "kept": kept.get(source, 0),
            "last_at": last.isoformat(),
        }
        for source, n, last in rows
    ]


def flagged_presses(session: Session) -> list[dict[str, Any]]:
    """Presses the hub kept out of scores, per kiosk and reason."""
    rows = session.execute(
        select(Event.device_id, Event.flag, func.count(), func.max(Event.received_at))
        .where(Event.flag.is_not(None))
        .group_by(Event.device_id, Event.flag)
        .order_by(Event.device_id, Event.flag)
    )
    return [
        {"device_id": d, "flag": flag, "presses": int(n), "last_received_at": last.isoformat()}
        for d, flag, n, last in rows
    ]


def event_owners(session: Session, *, event_ids: Iterable[str]) -> dict[str, str]:
    """event id -> the device it is stored for."""
    rows = session.execute(
        select(Event.event_id, Event.device_id).where(Event.event_id.in_(set(event_ids)))
    )
    return {event_id: device_id for event_id, device_id in rows}


def stored_event_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Event)) or 0)
