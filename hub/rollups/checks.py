"""Recounts: the rollups held against the raw events (and the reasons rollups against the raw
presses and follow-ups), for benchmarks, chaos runs and tests."""

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.hierarchy import LocationTree
from hub.models import (
    REASON_KEY,
    ROLLUP_COUNTS,
    DailyRollup,
    Event,
    HourlyRollup,
    MonthlyRollup,
    ReasonDailyRollup,
    ReasonHourlyRollup,
    ReasonMonthlyRollup,
    SubtreeHourlyRollup,
    SubtreeReasonDay,
)
from hub.rollups.answers import raw_answers
from hub.rollups.buckets import day_bucket, hour_bucket, month_bucket

Cells = Counter[tuple[Any, ...]]
"""(bucket, [misuse,] button) -> presses."""


def rollup_press_count(session: Session) -> int:
    """Presses counted in the hourly rollups; equals the events stored unless one was counted
    twice."""
    total = sum(getattr(HourlyRollup, name) for name in ROLLUP_COUNTS)
    return int(session.scalar(select(func.sum(total))) or 0)


def rollup_mismatches(session: Session, *, location_ids: Iterable[str]) -> int:
    """Rollup cells of these locations that differ from a recount of the raw events: their
    own hours, days and months, and the hours of their subtrees."""
    tree = LocationTree.load(session)
    mismatches = 0
    for location_id in location_ids:
        own = _events(session, [location_id])
        own_levels = (
            (HourlyRollup, hour_bucket),
            (DailyRollup, day_bucket),
            (MonthlyRollup, month_bucket),
        )
        for model, bucket_of in own_levels:
            recount = Counter((bucket_of(at), bool(m), b) for at, m, b in own)
            mismatches += _differing(recount, _stored(session, model, location_id, misuse=True))
        members = sorted(tree.subtree(location_id)) if location_id in tree else [location_id]
        scored = [(at, b) for at, m, b in _events(session, members) if not m]
        subtree: Cells = Counter((hour_bucket(at), b) for at, b in scored)
        stored = _stored(session, SubtreeHourlyRollup, location_id, misuse=False)
        mismatches += _differing(subtree, stored)
    return mismatches


def _events(session: Session, location_ids: Sequence[str]) -> list[tuple[datetime, bool, str]]:
    rows = session.execute(
        select(Event.occurred_at, Event.misuse, Event.button).where(
            Event.location_id.in_(location_ids)
        )
    )
    return [(at, bool(misuse), button) for at, misuse, button in rows]


def _differing(recount: Cells, stored: Cells) -> int:
    return sum(1 for k in recount.keys() | stored.keys() if recount[k] != stored[k])


def _stored(session: Session, model: Any, location_id: str, *, misuse: bool) -> Cells:
    """The rollup's non-zero cells; `misuse` says whether the table keeps it apart."""
    keys: list[Any] = [model.bucket_start, *([model.misuse] if misuse else [])]
    stored: Cells = Counter()
    rows = session.execute(
        select(*keys, *(getattr(model, name) for name in ROLLUP_COUNTS)).where(
            model.location_id == location_id
        )
    )
    for row in rows:
        key, counts = tuple(row[: len(keys)]), row[len(keys) :]
        key = (key[0], bool(key[1])) if misuse else key
        for button, n in zip(ROLLUP_COUNTS, counts, strict=True):
            if n:
                stored[(*key, button)] += n  # a cell per channel
    return stored


def reason_mismatches(session: Session, *, location_ids: Iterable[str]) -> int:
    """Reasons rollup cells of these locations that differ from a recount of the raw presses
    and follow-ups: their own hours, days and months, and their subtrees' local days."""
    tree = LocationTree.load(session)
    mismatches = 0
    for location_id in location_ids:
        own = raw_answers(session, locations=[location_id])
        own_levels = (
            (ReasonHourlyRollup, hour_bucket),
            (ReasonDailyRollup, day_bucket),
            (ReasonMonthlyRollup, month_bucket),
        )
        for model, bucket_of in own_levels:
            recount: Cells = Counter(
                (bucket_of(a.occurred_at), a.question, a.survey_id, a.survey_version, a.option)
                for a in own
            )
            stored = _stored_reasons(session, model, model.bucket_start, location_id)
            mismatches += _differing(recount, stored)
        if location_id not in tree:
            continue
        zone = ZoneInfo(tree.places[location_id].time_zone)
        members = raw_answers(session, locations=tree.subtree(location_id))
        days: Cells = Counter(
            (
                a.occurred_at.astimezone(zone).date(),
                a.question,
                a.survey_id,
                a.survey_version,
                a.option,
            )
            for a in members
        )
        stored = _stored_reasons(session, SubtreeReasonDay, SubtreeReasonDay.day, location_id)
        mismatches += _differing(days, stored)
    return mismatches


def _stored_reasons(session: Session, model: Any, bucket: Any, location_id: str) -> Cells:
    """The reasons rollup's non-zero cells of one place: (bucket, *REASON_KEY) -> count."""
    keys = [getattr(model, name) for name in REASON_KEY]
    rows = session.execute(
        select(bucket, *keys, model.count).where(model.location_id == location_id)
    )
    return Counter({tuple(row[:-1]): row[-1] for row in rows if row[-1]})
