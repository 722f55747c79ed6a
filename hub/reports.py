"""Per-location scores for any period, read from the hourly rollups.

Whole hours come from the rollups; the part-hours at either end of a period that does not
start or stop on the hour come from the raw events, so any period is exact and a report
never scans more than two hours of raw events per location.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models import Event, HourlyRollup, Location
from hub.scores import ButtonCounts, happy_index, positive_share, wilson_interval
from hub.store import hour_bucket
from protocol.messages import BUTTONS, Button


@dataclass
class LocationScore:
    location: str
    name: str
    time_zone: str
    counts: ButtonCounts = field(default_factory=ButtonCounts)
    misuse_counts: ButtonCounts = field(default_factory=ButtonCounts)
    include_misuse: bool = False

    @property
    def scored(self) -> ButtonCounts:
        return self.counts + self.misuse_counts if self.include_misuse else self.counts

    def as_dict(self) -> dict[str, Any]:
        counts = self.scored
        index = happy_index(counts)
        share = positive_share(counts)
        interval = wilson_interval(counts.positive, counts.total)
        return {
            "location": self.location,
            "name": self.name,
            "time_zone": self.time_zone,
            "responses": counts.total,
            "counts": counts.as_dict(),
            "happy_index": None if index is None else round(index, 1),
            "positive_share": None if share is None else round(share, 4),
            "positive_ci": None if interval is None else [round(v, 4) for v in interval],
            "misuse": self.misuse_counts.total,
            "misuse_included": self.include_misuse,
        }


def _ceil_hour(moment: datetime) -> datetime:
    floor = hour_bucket(moment)
    return floor if floor == moment else floor + timedelta(hours=1)


def location_scores(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    include_misuse: bool = False,
) -> list[LocationScore]:
    """Scores of every location over [since, until), best Happy Index first."""
    since = since.astimezone(UTC) if since else None  # rollup hours are UTC hours
    until = until.astimezone(UTC) if until else None
    scores = {
        loc.location_id: LocationScore(
            loc.location_id, loc.name, loc.time_zone, include_misuse=include_misuse
        )
        for loc in session.scalars(select(Location))
    }
    for location_id, misuse, counts in _counted(session, since=since, until=until):
        score = scores[location_id]
        if misuse:
            score.misuse_counts += counts
        else:
            score.counts += counts
    return sorted(scores.values(), key=_ranking)


def _ranking(score: LocationScore) -> tuple[bool, float, str]:
    """Best Happy Index first; locations without responses last."""
    index = happy_index(score.scored)
    return (index is None, -(index or 0.0), score.location)


def _counted(
    session: Session, *, since: datetime | None, until: datetime | None
) -> list[tuple[str, bool, ButtonCounts]]:
    whole_from = _ceil_hour(since) if since else None
    whole_to = hour_bucket(until) if until else None
    if whole_from and whole_to and whole_from >= whole_to:
        return _from_events(session, since, until)
    counted = _from_rollups(session, whole_from, whole_to)
    if since and whole_from and since < whole_from:
        counted += _from_events(session, since, whole_from)
    if until and whole_to and whole_to < until:
        counted += _from_events(session, whole_to, until)
    return counted


def _from_rollups(
    session: Session, start: datetime | None, end: datetime | None
) -> list[tuple[str, bool, ButtonCounts]]:
    statement = select(
        HourlyRollup.location_id,
        HourlyRollup.misuse,
        *(func.sum(getattr(HourlyRollup, b.value)) for b in BUTTONS),
    ).group_by(HourlyRollup.location_id, HourlyRollup.misuse)
    if start:
        statement = statement.where(HourlyRollup.bucket_start >= start)
    if end:
        statement = statement.where(HourlyRollup.bucket_start < end)
    return [
        (loc, bool(misuse), ButtonCounts(*(int(n or 0) for n in sums)))
        for loc, misuse, *sums in session.execute(statement)
    ]


def _from_events(
    session: Session, start: datetime | None, end: datetime | None
) -> list[tuple[str, bool, ButtonCounts]]:
    statement = select(Event.location_id, Event.misuse, Event.button, func.count()).group_by(
        Event.location_id, Event.misuse, Event.button
    )
    if start:
        statement = statement.where(Event.occurred_at >= start)
    if end:
        statement = statement.where(Event.occurred_at < end)
    grouped: dict[tuple[str, bool], ButtonCounts] = defaultdict(ButtonCounts)
    for loc, misuse, button, n in session.execute(statement):
        grouped[(loc, bool(misuse))] = grouped[(loc, bool(misuse))].add(Button(button), n)
    return [(loc, misuse, counts) for (loc, misuse), counts in grouped.items()]
