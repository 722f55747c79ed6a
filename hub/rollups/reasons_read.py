"""Every read of the reasons rollups, exact over any period, as the press counts are
(hub.rollups.read):

- `own_counts`: answered presses per location over [since, until): whole UTC months from the
  monthly reasons, the whole days either side from the daily ones, the whole hours either
  side of those from the hourly ones, the part-hours at either end recounted from the raw
  rows (hub.rollups.answers). The overview's year reads about 12 + 60 rows a location and
  option.
- `place_days`: a place's subtree per day of its own calendar: the local days the period
  holds whole from the place's subtree days (365 rows an option for a year), the part-days
  at either end from its members' own counts.
"""

from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models import (
    NO_OPTION,
    ReasonDailyRollup,
    ReasonHourlyRollup,
    ReasonMonthlyRollup,
    SubtreeReasonDay,
)
from hub.rollups.answers import raw_answers
from hub.rollups.buckets import (
    Period,
    ceil_day,
    ceil_hour,
    ceil_month,
    day_bucket,
    hour_bucket,
    month_bucket,
)

VersionKey = tuple[str, int]
Key = tuple[str, VersionKey, str | None]
"""question, (survey id, version), option (None: shown, not answered)."""
Tally = Counter[Key]
"""Answered presses per key."""
Own = Counter[tuple[str, Key]]
"""(location, key) -> answered presses at that location itself."""

Floor = Callable[[datetime], datetime]
Model = type[ReasonMonthlyRollup] | type[ReasonDailyRollup] | type[ReasonHourlyRollup]
LEVELS: tuple[tuple[Model, Floor, Floor], ...] = (
    (ReasonMonthlyRollup, month_bucket, ceil_month),
    (ReasonDailyRollup, day_bucket, ceil_day),
    (ReasonHourlyRollup, hour_bucket, ceil_hour),
)
"""Coarsest first: each level's floor and ceiling of a moment."""


def own_counts(
    session: Session,
    *,
    locations: Collection[str] | None,
    since: datetime,
    until: datetime,
    question: str | None = None,
) -> Own:
    """Answered presses made at these locations (every one: None) in [since, until), per
    location and key (of one question, or both)."""
    whole_from, whole_to = ceil_hour(since), hour_bucket(until)
    if whole_from >= whole_to:
        return _raw(session, locations, since, until, question)
    counted = _from_levels(session, _Scope(locations, question), whole_from, whole_to, LEVELS)
    if since < whole_from:
        counted += _raw(session, locations, since, whole_from, question)
    if whole_to < until:
        counted += _raw(session, locations, whole_to, until, question)
    return counted


@dataclass(frozen=True)
class _Scope:
    locations: Collection[str] | None
    question: str | None


def _from_levels(
    session: Session,
    scope: _Scope,
    start: datetime,
    end: datetime,
    levels: Sequence[tuple[Model, Floor, Floor]],
) -> Own:
    """Whole hours [start, end): the whole buckets of the coarsest level, and what lies
    either side of them from the finer ones."""
    (model, floor, ceil), finer = levels[0], levels[1:]
    if not finer:
        return _sums(session, model, scope, start, end)
    whole_from, whole_to = ceil(start), floor(end)
    if whole_from >= whole_to:
        return _from_levels(session, scope, start, end, finer)
    counted = _sums(session, model, scope, whole_from, whole_to)
    if start < whole_from:
        counted += _from_levels(session, scope, start, whole_from, finer)
    if whole_to < end:
        counted += _from_levels(session, scope, whole_to, end, finer)
    return counted


def _sums(session: Session, model: Model, scope: _Scope, start: datetime, end: datetime) -> Own:
    columns = (model.location_id, model.question, model.survey_id, model.survey_version)
    statement: Any = (
        select(*columns, model.option, func.sum(model.count))
        .where(model.bucket_start >= start, model.bucket_start < end)
        .group_by(*columns, model.option)
    )
    if scope.locations is not None:
        statement = statement.where(model.location_id.in_(sorted(scope.locations)))
    if scope.question is not None:
        statement = statement.where(model.question == scope.question)
    counted: Own = Counter()
    for location_id, asked, survey_id, version, option, n in session.connection().execute(
        statement
    ):
        if n:
            counted[(location_id, (asked, (survey_id, version), option or None))] += int(n)
    return counted


def _raw(
    session: Session,
    locations: Collection[str] | None,
    since: datetime,
    until: datetime,
    question: str | None,
) -> Own:
    counted: Own = Counter()
    for a in raw_answers(session, locations=locations, since=since, until=until):
        if question is None or a.question == question:
            option = None if a.option == NO_OPTION else a.option
            counted[(a.location_id, (a.question, (a.survey_id, a.survey_version), option))] += 1
    return counted


def place_days(
    session: Session, *, location_id: str, members: Collection[str], period: Period, time_zone: str
) -> dict[date, Tally]:
    """Answered presses of the place's subtree (`members`, itself included) in the period,
    per day of `time_zone` (the place's own, which its subtree days are kept in)."""
    zone = ZoneInfo(time_zone)
    days: dict[date, Tally] = defaultdict(Counter)
    whole: list[date] = []
    for start, end, day in _local_days(period, zone):
        if start == _midnight(day, zone) and end == _midnight(day + timedelta(days=1), zone):
            whole.append(day)
            continue
        for (_location, key), n in own_counts(
            session, locations=members, since=start, until=end
        ).items():
            days[day][key] += n
    if whole:
        rollup = SubtreeReasonDay
        statement = select(
            rollup.day,
            rollup.question,
            rollup.survey_id,
            rollup.survey_version,
            rollup.option,
            rollup.count,
        ).where(
            rollup.location_id == location_id,
            rollup.day >= whole[0],
            rollup.day <= whole[-1],
            rollup.count != 0,
        )
        for day, asked, survey_id, version, option, n in session.connection().execute(statement):
            days[day][(asked, (survey_id, version), option or None)] += n
    return {day: tally for day, tally in days.items() if +tally}


def _local_days(period: Period, zone: ZoneInfo) -> list[tuple[datetime, datetime, date]]:
    """The period cut at each local midnight: (start, end, local day) pieces."""
    pieces = []
    start = period.since
    while start < period.until:
        day = start.astimezone(zone).date()
        end = min(_midnight(day + timedelta(days=1), zone), period.until)
        if end <= start:  # a calendar that skips a day: never loop
            end = period.until
        pieces.append((start, end, day))
        start = end
    return pieces


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first moment of a local day (where midnight is skipped, the moment clocks jump)."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
