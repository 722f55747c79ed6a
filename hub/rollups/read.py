"""Every read of the counts: per location over any period, per hour, per local day and
weekday-hour, and the raw presses' counts where a period cuts through an hour.

Any period is exact: whole UTC months come from the monthly rollups, the whole days either
side of them from the daily ones, the whole hours either side of those from the hourly ones,
and the part-hours at either end from the raw events. A year reads about 12 + 60 rows a
location, never more than two hours of raw events.
"""

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from hub.models import DailyRollup, Event, HourlyRollup, MonthlyRollup, SubtreeHourlyRollup
from hub.reporting.scores import ButtonCounts
from hub.rollups.buckets import (
    Period,
    ceil_day,
    ceil_hour,
    ceil_month,
    day_bucket,
    hour_bucket,
    month_bucket,
)
from protocol.messages import BUTTONS, Button

Counted = list[tuple[str, bool, str, ButtonCounts]]
"""(location, misuse, channel, counts) rows; a location may appear more than once (add them)."""

Hourly = Sequence[tuple[datetime, ButtonCounts]]
"""Scored counts per UTC hour (its start), summed over some locations."""

WeekHour = tuple[int, int]
"""(weekday, hour) in local time, Monday = 0."""


@dataclass(frozen=True)
class Where:
    """What a report reads: these locations over [since, until)."""

    locations: Select[tuple[str]] | list[str]
    since: datetime | None
    until: datetime | None
    all_locations: bool


Floor = Callable[[datetime], datetime]
Level = tuple[type[MonthlyRollup] | type[DailyRollup] | type[HourlyRollup], Floor, Floor]
LEVELS: tuple[Level, ...] = (
    (MonthlyRollup, month_bucket, ceil_month),
    (DailyRollup, day_bucket, ceil_day),
    (HourlyRollup, hour_bucket, ceil_hour),
)
"""Coarsest first: each level's floor and ceiling of a moment."""


def location_counts(session: Session, where: Where) -> Counted:
    """Counts per location, misuse and channel over the period, exact to the microsecond."""
    since, until = where.since, where.until
    whole_from = ceil_hour(since) if since else None
    whole_to = hour_bucket(until) if until else None
    if whole_from and whole_to and whole_from >= whole_to:
        return event_counts(session, locations=where.locations, since=since, until=until)
    counted = _from_levels(session, where, whole_from, whole_to, LEVELS)
    if since and whole_from and since < whole_from:
        counted += event_counts(session, locations=where.locations, since=since, until=whole_from)
    if until and whole_to and whole_to < until:
        counted += event_counts(session, locations=where.locations, since=whole_to, until=until)
    return counted


def _from_levels(
    session: Session,
    where: Where,
    start: datetime | None,
    end: datetime | None,
    levels: Sequence[Level],
) -> Counted:
    """Whole hours [start, end) (None: open): the whole buckets of the coarsest level, and
    what lies either side of them from the finer ones."""
    (model, floor, ceil), finer = levels[0], levels[1:]
    if not finer:
        return _rollup_sums(session, model, where, start, end)
    whole_from = ceil(start) if start else None
    whole_to = floor(end) if end else None
    if whole_from and whole_to and whole_from >= whole_to:
        return _from_levels(session, where, start, end, finer)
    counted = _rollup_sums(session, model, where, whole_from, whole_to)
    if start and whole_from and start < whole_from:
        counted += _from_levels(session, where, start, whole_from, finer)
    if end and whole_to and whole_to < end:
        counted += _from_levels(session, where, whole_to, end, finer)
    return counted


def _rollup_sums(
    session: Session,
    model: type[MonthlyRollup] | type[DailyRollup] | type[HourlyRollup],
    where: Where,
    start: datetime | None,
    end: datetime | None,
) -> Counted:
    statement = select(model.location_id, model.misuse, model.channel, *_sums(model)).group_by(
        model.location_id, model.misuse, model.channel
    )
    if not where.all_locations:
        statement = statement.where(model.location_id.in_(where.locations))
    if start:
        statement = statement.where(model.bucket_start >= start)
    if end:
        statement = statement.where(model.bucket_start < end)
    return [
        (loc, bool(misuse), channel, _counts(sums))
        for loc, misuse, channel, *sums in session.execute(statement)
    ]


def event_counts(
    session: Session,
    *,
    locations: Select[tuple[str]] | Collection[str],
    since: datetime | None,
    until: datetime | None,
    scored_only: bool = False,
) -> Counted:
    """Counts of the raw presses: for the part-hours a period cuts, and for short windows."""
    statement = (
        select(Event.location_id, Event.misuse, Event.channel, Event.button, func.count())
        .where(Event.location_id.in_(locations))
        .group_by(Event.location_id, Event.misuse, Event.channel, Event.button)
    )
    if since:
        statement = statement.where(Event.occurred_at >= since)
    if until:
        statement = statement.where(Event.occurred_at < until)
    if scored_only:
        statement = statement.where(Event.misuse.is_(False))
    grouped: dict[tuple[str, bool, str], ButtonCounts] = defaultdict(ButtonCounts)
    for loc, misuse, channel, button, n in session.execute(statement):
        key = (loc, bool(misuse), channel)
        grouped[key] = grouped[key].add(Button(button), n)
    return [(loc, misuse, channel, counts) for (loc, misuse, channel), counts in grouped.items()]


def window_counts(
    session: Session, *, locations: Collection[str], since: datetime, until: datetime
) -> dict[str, ButtonCounts]:
    """Scored presses per location in [since, until) (misuse left out, by the index)."""
    counted = event_counts(
        session, locations=sorted(locations), since=since, until=until, scored_only=True
    )
    totals: dict[str, ButtonCounts] = defaultdict(ButtonCounts)
    for location_id, _misuse, _channel, counts in counted:
        totals[location_id] += counts
    return dict(totals)


def hourly_counts(session: Session, *, locations: Collection[str], period: Period) -> Hourly:
    """Scored counts per UTC hour that overlaps the period, summed over these locations' own
    presses."""
    if not locations:
        return []
    statement = (
        select(HourlyRollup.bucket_start, *_sums(HourlyRollup))
        .where(
            HourlyRollup.location_id.in_(sorted(locations)),
            HourlyRollup.misuse.is_(False),
            HourlyRollup.bucket_start >= hour_bucket(period.since),
            HourlyRollup.bucket_start < period.until,
        )
        .group_by(HourlyRollup.bucket_start)
    )
    return [(start, _counts(sums)) for start, *sums in session.execute(statement)]


def subtree_hours(session: Session, *, location_id: str, period: Period) -> Hourly:
    """Scored counts per UTC hour that overlaps the period, of the location and everything
    beneath it (one row an hour, however many places the subtree holds)."""
    rollup = SubtreeHourlyRollup
    statement = select(rollup.bucket_start, *(getattr(rollup, b.value) for b in BUTTONS)).where(
        rollup.location_id == location_id,
        rollup.bucket_start >= hour_bucket(period.since),
        rollup.bucket_start < period.until,
    )
    rows = session.connection().execute(statement)  # Core rows: no ORM loading per hour
    return [(start, ButtonCounts(*counts)) for start, *counts in rows]


@dataclass(frozen=True)
class LocalCounts:
    """Scored counts per local day and per local weekday and hour, in one time zone: what
    trends and heat maps are drawn from (read once, pass it on)."""

    time_zone: str
    days: dict[date, ButtonCounts] = field(default_factory=dict)
    week_hours: dict[WeekHour, ButtonCounts] = field(default_factory=dict)


def local_counts(
    session: Session, *, location_id: str, period: Period, time_zone: str
) -> LocalCounts:
    """The subtree's hours that overlap the period, each placed by the local time it starts at."""
    return localised(subtree_hours(session, location_id=location_id, period=period), time_zone)


def localised(hours: Hourly, time_zone: str) -> LocalCounts:
    """Hours summed per local day and per local weekday and hour (by where each starts)."""
    zone = ZoneInfo(time_zone)
    days: dict[date, list[int]] = {}
    week_hours: dict[WeekHour, list[int]] = {}
    for start, counts in hours:
        local = start.astimezone(zone)
        for total in (
            days.setdefault(local.date(), [0, 0, 0, 0]),
            week_hours.setdefault((local.weekday(), local.hour), [0, 0, 0, 0]),
        ):
            total[0] += counts.very_happy
            total[1] += counts.happy
            total[2] += counts.unhappy
            total[3] += counts.very_unhappy
    return LocalCounts(
        time_zone,
        {day: ButtonCounts(*total) for day, total in days.items()},
        {key: ButtonCounts(*total) for key, total in week_hours.items()},
    )


def _sums(model: Any) -> list[Any]:
    return [func.sum(getattr(model, b.value)) for b in BUTTONS]


def _counts(sums: Iterable[Any]) -> ButtonCounts:
    return ButtonCounts(*(int(n or 0) for n in sums))
