"""The write path: each new press is added to its location's hour, UTC day and UTC month,
and, scored, to the subtree hour of its location and of every place above it, in the
transaction that stores it (an atomic upsert each)."""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, delete, false, func, insert, literal_column, select
from sqlalchemy.orm import Session

from hub.db import adding_upsert
from hub.models import (
    ROLLUP_COUNTS,
    DailyRollup,
    HourlyRollup,
    Location,
    MonthlyRollup,
    SubtreeHourlyRollup,
)
from hub.rollups.buckets import day_bucket, hour_bucket, month_bucket

Key = tuple[Any, ...]
Deltas = dict[Key, dict[str, int]]
"""A rollup's key (its primary key's values, in order) -> button -> presses to add."""

OWN_KEY = ("location_id", "bucket_start", "misuse", "channel")
SUBTREE_KEY = ("location_id", "bucket_start")


def fold(session: Session, *, rows: Sequence[Mapping[str, Any]]) -> None:
    """Add stored presses (`location_id`, `occurred_at`, `misuse`, `channel`, `button`) to the
    rollups."""
    hours: Deltas = _deltas()
    for row in rows:
        hour = hour_bucket(row["occurred_at"])
        key = (row["location_id"], hour, bool(row["misuse"]), row["channel"])
        hours[key][row["button"]] += 1
    if not hours:
        return
    lineage = lineages(session, location_ids={key[0] for key in hours})
    _upsert(session, HourlyRollup, OWN_KEY, hours)
    _upsert(session, DailyRollup, OWN_KEY, _regrouped(hours, _utc_day))
    _upsert(session, MonthlyRollup, OWN_KEY, _regrouped(hours, _utc_month))
    subtree: Deltas = _deltas()
    for (location_id, bucket_start, misuse, _channel), counts in hours.items():
        if not misuse:
            for place in lineage[location_id]:
                _add(subtree[(place, bucket_start)], counts)
    _upsert(session, SubtreeHourlyRollup, SUBTREE_KEY, subtree)


def lineages(session: Session, *, location_ids: Iterable[str]) -> dict[str, list[str]]:
    """Each location and the places above it, up to its site.

    The rows are read FOR SHARE (on PostgreSQL), so a location being placed under a parent
    waits for this transaction, and this one for it: a press is folded into the new parent
    by exactly one of them."""
    parents: dict[str, str | None] = {}
    wanted = set(location_ids)
    while wanted:
        rows = session.execute(
            select(Location.location_id, Location.parent_id)
            .where(Location.location_id.in_(sorted(wanted)))
            .order_by(Location.location_id)
            .with_for_update(read=True)
        )
        parents.update((location_id, parent) for location_id, parent in rows)
        wanted = {p for p in parents.values() if p is not None and p not in parents}
    return {location_id: _line(location_id, parents) for location_id in set(location_ids)}


def _line(location_id: str, parents: Mapping[str, str | None]) -> list[str]:
    line = [location_id]
    parent = parents.get(location_id)
    while parent is not None and parent not in line:
        line.append(parent)
        parent = parents.get(parent)
    return line


def rebuild_subtrees(session: Session, *, location_ids: Iterable[str] | None = None) -> None:
    """Count the subtree hours of these places (of every place by default) again from their
    subtrees' own hourly rollups: after a place is put under a parent, or to fill them."""
    places = None if location_ids is None else sorted(set(location_ids))
    clear = delete(SubtreeHourlyRollup)
    if places is not None:
        clear = clear.where(SubtreeHourlyRollup.location_id.in_(places))
    session.execute(clear)
    session.execute(
        insert(SubtreeHourlyRollup).from_select(
            ["location_id", "bucket_start", *ROLLUP_COUNTS], subtree_sums(places)
        )
    )


def rebuild_from_hourly(session: Session) -> None:
    """Count every level above the hourly rollups again from them: after a bulk load of hours
    (a benchmark's), or to repair."""
    dialect = session.get_bind().dialect.name
    for model, unit in ((DailyRollup, "day"), (MonthlyRollup, "month")):
        start = _truncated(HourlyRollup.bucket_start, unit, dialect)
        sums = select(
            HourlyRollup.location_id,
            start,
            HourlyRollup.misuse,
            HourlyRollup.channel,
            *(func.sum(getattr(HourlyRollup, name)) for name in ROLLUP_COUNTS),
        ).group_by(HourlyRollup.location_id, start, HourlyRollup.misuse, HourlyRollup.channel)
        session.execute(delete(model))
        session.execute(insert(model).from_select(list(OWN_KEY) + list(ROLLUP_COUNTS), sums))
    rebuild_subtrees(session)


def _truncated(column: Any, unit: str, dialect: str) -> Any:
    """The start of the UTC day or month, as each dialect stores a UTC time."""
    if dialect == "postgresql":
        utc = literal_column("'UTC'", String)
        truncate_to = literal_column(f"'{unit}'", String)
        return func.timezone(utc, func.date_trunc(truncate_to, func.timezone(utc, column)))
    head = 10 if unit == "day" else 7
    tail = " 00:00:00.000000" if unit == "day" else "-01 00:00:00.000000"
    return func.substr(column, 1, head).concat(tail)


def graft(session: Session, *, location_id: str) -> None:
    """After a place is put under a parent: if it brings presses with it, count the subtree
    hours of every place now above it again."""
    rollup = SubtreeHourlyRollup
    history = select(rollup.location_id).where(rollup.location_id == location_id).limit(1)
    if session.scalar(history) is not None:
        above = lineages(session, location_ids=[location_id])[location_id][1:]
        rebuild_subtrees(session, location_ids=above)


def subtree_sums(places: Sequence[str] | None) -> Select[Any]:
    """Per place (every one, or these) and hour: the scored counts of its whole subtree."""
    up = select(Location.location_id.label("member"), Location.location_id.label("place")).cte(
        "up", recursive=True
    )
    parent = select(up.c.member, Location.parent_id).join(
        Location, Location.location_id == up.c.place
    )
    up = up.union(parent.where(Location.parent_id.is_not(None)))
    hourly = HourlyRollup
    statement = (
        select(
            up.c.place,
            hourly.bucket_start,
            *(func.sum(getattr(hourly, name)) for name in ROLLUP_COUNTS),
        )
        .join(up, up.c.member == hourly.location_id)
        .where(hourly.misuse == false())
        .group_by(up.c.place, hourly.bucket_start)
    )
    if places is not None:
        statement = statement.where(up.c.place.in_(places))
    return statement


def _utc_day(key: Key) -> Key:
    location_id, bucket_start, *rest = key
    return (location_id, day_bucket(bucket_start), *rest)


def _utc_month(key: Key) -> Key:
    location_id, bucket_start, *rest = key
    return (location_id, month_bucket(bucket_start), *rest)


def _deltas() -> Deltas:
    return defaultdict(lambda: dict.fromkeys(ROLLUP_COUNTS, 0))


def _regrouped(deltas: Deltas, key_of: Any) -> Deltas:
    regrouped = _deltas()
    for key, counts in deltas.items():
        _add(regrouped[key_of(key)], counts)
    return regrouped


def _add(total: dict[str, int], counts: Mapping[str, int]) -> None:
    for name in ROLLUP_COUNTS:
        total[name] += counts[name]


def _upsert(session: Session, model: type[Any], key_names: Sequence[str], deltas: Deltas) -> None:
    """Insert each key's counts, or add them to the row already there."""
    if not deltas:
        return
    statement = adding_upsert(session, model, tuple(key_names), ROLLUP_COUNTS)
    rows = [
        {**dict(zip(key_names, key, strict=True)), **counts}
        for key, counts in sorted(deltas.items(), key=lambda item: _sort_key(item[0]))
    ]
    session.execute(statement, rows)


def _sort_key(key: Key) -> tuple[str, ...]:
    """Rows in one order in every transaction, so concurrent upserts cannot deadlock."""
    return tuple(value.isoformat() if isinstance(value, datetime) else str(value) for value in key)
