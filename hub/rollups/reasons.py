"""The reasons rollups' write path: in the transaction that stores presses or follow-ups, each
press's counted answer (hub.rollups.answers) is added to its location's UTC hour, day and
month, and to the local day of its location and of every place above it; a newer follow-up
moves the press from the option it counted with to the new one.

On PostgreSQL two ingest workers may store a press and its follow-up at once: each takes a
transaction-scoped advisory lock per event id (`lock_answers`, sorted, before it writes
anything) and reads the other's rows only after it has the lock, so exactly one of them
counts the press. Whoever stores both presses and follow-ups in one transaction locks all
their event ids at once, first (hub.ingest.pipeline does).
"""

import hashlib
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from hub.db import adding_upsert
from hub.hierarchy import LocationTree
from hub.models import (
    REASON_KEY,
    Location,
    ReasonDailyRollup,
    ReasonHourlyRollup,
    ReasonMonthlyRollup,
    SubtreeReasonDay,
)
from hub.rollups.answers import (
    Answer,
    Press,
    answer_of,
    counted_reply,
    raw_answers,
    replies_to,
    scored_presses,
)
from hub.rollups.buckets import day_bucket, hour_bucket, month_bucket
from hub.rollups.write import lineages

Deltas = Counter[Answer]
"""A counted answer (its press's place and moment, question, version, option) -> +1 or -1."""
Rows = Counter[tuple[Any, ...]]
"""A rollup's key (its primary key's values, in order) -> answers to add."""

OWN_LEVELS: tuple[tuple[type[Any], Any], ...] = (
    (ReasonHourlyRollup, hour_bucket),
    (ReasonDailyRollup, day_bucket),
    (ReasonMonthlyRollup, month_bucket),
)
OWN_KEY = ("location_id", "bucket_start", *REASON_KEY)
SUBTREE_KEY = ("location_id", "day", *REASON_KEY)


def lock_answers(session: Session, *, event_ids: Iterable[str]) -> None:
    """Hold these presses' answers until the transaction ends (PostgreSQL; SQLite has one
    writer at a time)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted({_lock_key(event_id) for event_id in event_ids})
    if keys:  # unnest keeps the array's order: the locks are taken in one order everywhere
        session.execute(LOCK, {"keys": keys}).all()


LOCK = text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k")


def _lock_key(event_id: str) -> int:
    digest = hashlib.blake2b(event_id.encode(), digest_size=8, person=b"reasons").digest()
    return int.from_bytes(digest, "big", signed=True)


def fold_presses(session: Session, *, rows: Sequence[Mapping[str, Any]]) -> None:
    """Count newly stored presses (`event_id`, `device_id`, `location_id`, `occurred_at`,
    `button`, `misuse`) with the follow-ups already stored for them."""
    scored = [
        Press(r["event_id"], r["device_id"], r["location_id"], r["occurred_at"], r["button"])
        for r in rows
        if not r["misuse"]
    ]
    if not scored:
        return
    replies = replies_to(session, event_ids=[p.event_id for p in scored])
    deltas: Deltas = Counter()
    for press in scored:
        reply = counted_reply(press, replies.get(press.event_id, ()))
        if reply is not None:
            deltas[answer_of(press, reply)] += 1
    apply(session, deltas=deltas)


def fold_followups(session: Session, *, event_ids: Collection[str], new_ids: set[str]) -> None:
    """After follow-ups `new_ids` (answering `event_ids`) are stored: count the presses they
    answer anew where the answer a press counts with changed."""
    presses = scored_presses(session, event_ids=event_ids)
    if not presses:
        return
    replies = replies_to(session, event_ids=[p.event_id for p in presses])
    deltas: Deltas = Counter()
    for press in presses:
        every = replies.get(press.event_id, [])
        before = counted_reply(press, (r for r in every if r.followup_id not in new_ids))
        after = counted_reply(press, every)
        if before == after:
            continue
        if before is not None:
            deltas[answer_of(press, before)] -= 1
        if after is not None:
            deltas[answer_of(press, after)] += 1
    apply(session, deltas=deltas)


def apply(session: Session, *, deltas: Deltas) -> None:
    """Add counted answers to every level: own hours, days and months, and subtree days."""
    deltas = Counter({answer: n for answer, n in deltas.items() if n})
    if not deltas:
        return
    for model, bucket_of in OWN_LEVELS:
        rows: Rows = Counter()
        for answer, n in deltas.items():
            rows[(answer.location_id, bucket_of(answer.occurred_at), *_key(answer))] += n
        _upsert(session, model, OWN_KEY, rows)
    lineage = lineages(session, location_ids={a.location_id for a in deltas})
    zones = _zones(session, {place for line in lineage.values() for place in line})
    subtree: Rows = Counter()
    for answer, n in deltas.items():
        for place in lineage[answer.location_id]:
            subtree[(place, _local_day(answer.occurred_at, zones[place]), *_key(answer))] += n
    _upsert(session, SubtreeReasonDay, SUBTREE_KEY, subtree)


def rebuild_reasons(session: Session) -> None:
    """Count every reasons rollup again from the raw presses and follow-ups: after a bulk
    load (a benchmark's), or to repair."""
    for model in (ReasonHourlyRollup, ReasonDailyRollup, ReasonMonthlyRollup, SubtreeReasonDay):
        session.execute(delete(model))
    apply(session, deltas=Counter(raw_answers(session, locations=None)))


def rebuild_subtree_days(session: Session, *, location_ids: Iterable[str]) -> None:
    """Count these places' subtree days again from the raw rows: after a place's time zone
    changes, or a place is put beneath it."""
    places = sorted(set(location_ids))
    if not places:
        return
    session.execute(delete(SubtreeReasonDay).where(SubtreeReasonDay.location_id.in_(places)))
    tree = LocationTree.load(session)
    rows: Rows = Counter()
    for place in places:
        if place not in tree:
            continue
        zone = ZoneInfo(tree.places[place].time_zone)
        for answer in raw_answers(session, locations=tree.subtree(place)):
            rows[(place, _local_day(answer.occurred_at, zone), *_key(answer))] += 1
    _upsert(session, SubtreeReasonDay, SUBTREE_KEY, rows)


def graft_reasons(session: Session, *, location_id: str) -> None:
    """After a place is put under a parent: if it brings answers with it, count the subtree
    days of every place now above it again."""
    history = select(SubtreeReasonDay.location_id).where(
        SubtreeReasonDay.location_id == location_id, SubtreeReasonDay.count != 0
    )
    if session.scalar(history.limit(1)) is None:
        return
    above = lineages(session, location_ids=[location_id])[location_id][1:]
    rebuild_subtree_days(session, location_ids=above)


def _key(answer: Answer) -> tuple[str, str, int, str]:
    return (answer.question, answer.survey_id, answer.survey_version, answer.option)


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def _zones(session: Session, places: Collection[str]) -> dict[str, ZoneInfo]:
    rows = session.execute(
        select(Location.location_id, Location.time_zone).where(
            Location.location_id.in_(sorted(places))
        )
    )
    return {place: ZoneInfo(zone) for place, zone in rows}


def _upsert(session: Session, model: type[Any], key_names: Sequence[str], rows: Rows) -> None:
    """Add each key's count to its row (made at 0), in one order in every transaction."""
    if not rows:
        return
    statement = adding_upsert(session, model, tuple(key_names), ("count",))
    values = [
        {**dict(zip(key_names, key, strict=True)), "count": n}
        for key, n in sorted(rows.items(), key=lambda item: _sort_key(item[0]))
        if n
    ]
    if values:
        session.execute(statement, values)


def _sort_key(key: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple(v.isoformat() if isinstance(v, datetime | date) else str(v) for v in key)
