"""Per-location scores for any period: the rollups' counts (exact to the microsecond, see
`hub.rollups.read`), the cameras' readings and the footfall."""

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from hub.models import (
    EMOTION_COLUMNS,
    Channel,
    HourlyFootfall,
    Location,
    observations,
)
from hub.reporting.scores import ButtonCounts, happy_index, positive_share, wilson_interval
from hub.rollups.buckets import hour_bucket
from hub.rollups.read import Where, location_counts
from protocol.emotions import EMOTIC_CATEGORIES


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
    by_channel: dict[tuple[Channel, bool], ButtonCounts] = field(default_factory=dict)
    """(channel, misuse) -> counts: what `counts` and `misuse_counts` add up."""

    @property
    def scored(self) -> ButtonCounts:
        return self.counts + self.misuse_counts if self.include_misuse else self.counts

    def add(self, channel: Channel, *, misuse: bool, counts: ButtonCounts) -> None:
        if misuse:
            self.misuse_counts += counts
        else:
            self.counts += counts
        key = (channel, misuse)
        self.by_channel[key] = self.by_channel.get(key, ButtonCounts()) + counts

    def channel_scored(self, channel: Channel) -> ButtonCounts:
        counts = self.by_channel.get((channel, False), ButtonCounts())
        if self.include_misuse:
            counts += self.by_channel.get((channel, True), ButtonCounts())
        return counts

    def as_dict(self) -> dict[str, Any]:
        counts = self.scored
        index = happy_index(counts)
        return {
            "location": self.location,
            "name": self.name,
            "time_zone": self.time_zone,
            **score_fields(counts),
            "channels": {
                channel.value: score_fields(self.channel_scored(channel)) for channel in Channel
            },
            "misuse": self.misuse_counts.total,
            "misuse_included": self.include_misuse,
            "observed": None if self.observed is None else self.observed.as_dict(index),
            "passersby": self.passersby,
            "response_rate": (round(counts.total / self.passersby, 4) if self.passersby else None),
        }


def score_fields(counts: ButtonCounts) -> dict[str, Any]:
    """Responses, counts, Happy Index and % positive with its interval, as the API gives them."""
    index = happy_index(counts)
    share = positive_share(counts)
    interval = wilson_interval(counts.positive, counts.total)
    return {
        "responses": counts.total,
        "counts": counts.as_dict(),
        "happy_index": None if index is None else round(index, 1),
        "positive_share": None if share is None else round(share, 4),
        "positive_ci": None if interval is None else [round(v, 4) for v in interval],
    }


def location_scores(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    include_misuse: bool = False,
    locations: Collection[str] | None = None,
    buttons_only: bool = False,
) -> list[LocationScore]:
    """Scores of every location (or of `locations`) over [since, until), best Happy Index first;
    `buttons_only` leaves out the cameras' readings and footfall.

    Raw events, readings and footfall are read by location (their indexes lead with it);
    the rollups of every location by hour (an index leads with the hour).
    """
    since = since.astimezone(UTC) if since else None  # rollup hours are UTC hours
    until = until.astimezone(UTC) if until else None
    wanted = select(Location.location_id, Location.name, Location.time_zone)
    if locations is not None:
        wanted = wanted.where(Location.location_id.in_(sorted(locations)))
    scores = {
        location_id: LocationScore(location_id, name, time_zone, include_misuse=include_misuse)
        for location_id, name, time_zone in session.execute(wanted)
    }
    everywhere = locations is None  # a subquery, not 200 parameters to send and plan
    ids: Select[tuple[str]] | list[str] = (
        select(Location.location_id) if everywhere else sorted(scores)
    )
    where = Where(ids, since, until, all_locations=everywhere)
    for location_id, misuse, channel, counts in location_counts(session, where):
        scores[location_id].add(Channel(channel), misuse=misuse, counts=counts)
    if not buttons_only:
        for location_id, observed in _observed(session, where).items():
            scores[location_id].observed = observed
        for location_id, passersby in _passersby(session, where).items():
            scores[location_id].passersby = passersby
    return ranked(scores.values())


def _observed(session: Session, where: Where) -> dict[str, Observed]:
    """Readings at the presses of the period (misuse or not: the face is a face)."""
    table = observations.c
    columns = (table.valence, table.arousal, table.dominance, *(table[n] for n in EMOTION_COLUMNS))
    statement = (
        select(table.location_id, func.count(), *(func.avg(c) for c in columns))
        .where(table.location_id.in_(where.locations))
        .group_by(table.location_id)
    )
    if where.since:
        statement = statement.where(table.occurred_at >= where.since)
    if where.until:
        statement = statement.where(table.occurred_at < where.until)
    return {
        location_id: Observed(n, float(v), float(a), float(d), tuple(float(e) for e in means))
        for location_id, n, v, a, d, *means in session.execute(statement)
    }


def _passersby(session: Session, where: Where) -> dict[str, int]:
    """Faces passing, by the hours that overlap the period (footfall is kept per hour)."""
    statement = (
        select(HourlyFootfall.location_id, func.sum(HourlyFootfall.passersby))
        .where(HourlyFootfall.location_id.in_(where.locations))
        .group_by(HourlyFootfall.location_id)
    )
    if where.since:
        statement = statement.where(HourlyFootfall.bucket_start >= hour_bucket(where.since))
    if where.until:
        statement = statement.where(HourlyFootfall.bucket_start < where.until)
    return {location_id: int(total or 0) for location_id, total in session.execute(statement)}


def ranked(scores: Iterable[LocationScore]) -> list[LocationScore]:
    """Best Happy Index first; locations without responses last."""
    return sorted(scores, key=_ranking)


def _ranking(score: LocationScore) -> tuple[bool, float, str]:
    index = happy_index(score.scored)
    return (index is None, -(index or 0.0), score.location)
