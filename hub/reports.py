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

from hub.models import EMOTION_COLUMNS, Event, HourlyFootfall, HourlyRollup, Location, observations
from hub.scores import ButtonCounts, happy_index, positive_share, wilson_interval
from hub.store import hour_bucket
from protocol.emotions import EMOTIC_CATEGORIES
from protocol.messages import BUTTONS, Button


@dataclass(frozen=True)
class Observed:
    """What the cameras read at the presses of one location: means over the readings."""

    readings: int
    valence: float
    arousal: float
    dominance: float
    emotions: tuple[float, ...]  # mean score of each EMOTIC category, in order

    @property
    def observed_index(self) -> float:
        """Mean valence on the Happy Index's 0-100 scale."""
        return 100 * self.valence

    def as_dict(self, happy: float | None) -> dict[str, Any]:
        observed = round(self.observed_index, 1)
        ranked = sorted(zip(EMOTIC_CATEGORIES, self.emotions, strict=True), key=lambda c: -c[1])
        return {
            "readings": self.readings,
            "observed_index": observed,
            "gap": None if happy is None else round(observed - happy, 1),
            "vad": [round(v, 4) for v in (self.valence, self.arousal, self.dominance)],
            "emotions": {name: round(score, 4) for name, score in ranked},
        }


@dataclass
class LocationScore:
    location: str
    name: str
    time_zone: str
    counts: ButtonCounts = field(default_factory=ButtonCounts)
    misuse_counts: ButtonCounts = field(default_factory=ButtonCounts)
    include_misuse: bool = False
    observed: Observed | None = None
    passersby: int | None = None

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
            "observed": None if self.observed is None else self.observed.as_dict(index),
            "passersby": self.passersby,
            "response_rate": (round(counts.total / self.passersby, 4) if self.passersby else None),
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
    for location_id, observed in _observed(session, since=since, until=until).items():
        scores[location_id].observed = observed
    for location_id, passersby in _passersby(session, since=since, until=until).items():
        scores[location_id].passersby = passersby
    return sorted(scores.values(), key=_ranking)


def _observed(
    session: Session, *, since: datetime | None, until: datetime | None
) -> dict[str, Observed]:
    """Readings at the presses of the period (misuse or not: the face is a face)."""
    table = observations.c
    columns = (table.valence, table.arousal, table.dominance, *(table[n] for n in EMOTION_COLUMNS))
    statement = select(table.location_id, func.count(), *(func.avg(c) for c in columns)).group_by(
        table.location_id
    )
    if since:
        statement = statement.where(table.occurred_at >= since)
    if until:
        statement = statement.where(table.occurred_at < until)
    return {
        location_id: Observed(n, float(v), float(a), float(d), tuple(float(e) for e in means))
        for location_id, n, v, a, d, *means in session.execute(statement)
    }


def _passersby(
    session: Session, *, since: datetime | None, until: datetime | None
) -> dict[str, int]:
    """Faces passing, by the hours that overlap the period (footfall is kept per hour)."""
    statement = select(HourlyFootfall.location_id, func.sum(HourlyFootfall.passersby)).group_by(
        HourlyFootfall.location_id
    )
    if since:
        statement = statement.where(HourlyFootfall.bucket_start >= hour_bucket(since))
    if until:
        statement = statement.where(HourlyFootfall.bucket_start < until)
    return {location_id: int(total or 0) for location_id, total in session.execute(statement)}


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
