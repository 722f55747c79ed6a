"""Per-location scores for any period: the rollups' counts (exact to the microsecond, see
`hub.rollups.read`), the cameras' readings and the footfall.

Observed figures are aggregates only: a group (a place, a subtree) shows them when it holds at
least `CameraSettings.min_readings` readings counted, and a reading counts when its face was
found with at least `CameraSettings.min_face_score`; below k neither the figures nor the count
are shown, only that there are too few. So that no reading can be singled out by subtracting one
group's figures from another's, they cover whole UTC hours only (the period's part-hours at its
end left out, at its start taken whole), a group from which a hidden place's readings could be
worked out is withheld too (see `hub.reporting.analytics.rolled_up`), and the figures are
rounded (`Observed.as_dict`).
"""

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from hub.config import CameraSettings
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
    """What the cameras read at the presses of a place or a subtree: the readings counted,
    the sums of their scores, and the kiosk presses where the cameras read (every kiosk press,
    misuse included, at the places holding a reading of the period, counted or not)."""

    readings: int
    sums: tuple[float, ...]
    """Valence, arousal, dominance, then each EMOTIC category in order."""
    presses: int = 0

    def __add__(self, other: "Observed") -> "Observed":
        return Observed(
            self.readings + other.readings,
            tuple(a + b for a, b in zip(self.sums, other.sums, strict=True)),
            self.presses + other.presses,
        )

    def shown(self, min_readings: int) -> bool:
        """Enough readings that no one traveller's can be singled out."""
        return self.readings >= min_readings

    @property
    def means(self) -> tuple[float, ...]:
        return tuple(total / self.readings for total in self.sums)

    @property
    def observed_index(self) -> float:
        """Mean valence on the Happy Index's 0-100 scale."""
        return 100 * self.means[0]

    @property
    def coverage(self) -> float | None:
        """Readings counted per kiosk press where the cameras read."""
        return self.readings / self.presses if self.presses else None

    def as_dict(self, happy: float | None) -> dict[str, Any]:
        """The figures as shown: coverage to whole percent, the observed index to whole points,
        its gap to the Happy Index as shown (to a tenth), the means to two decimals."""
        means = self.means
        observed = float(round(100 * means[0]))
        ranked = sorted(zip(EMOTIC_CATEGORIES, means[3:], strict=True), key=lambda c: -c[1])
        coverage = self.coverage
        return {
            "readings": self.readings,
            "presses": self.presses,
            "coverage": None if coverage is None else round(coverage, 2),
            "observed_index": observed,
            "gap": None if happy is None else round(observed - round(happy, 1), 1),
            "vad": [round(v, 2) for v in means[:3]],
            "emotions": {name: round(score, 2) for name, score in ranked},
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
    observed_withheld: bool = False
    """Not shown however many readings it holds: a hidden place's could be worked out from it."""
    min_readings: int = field(kw_only=True)
    """Fewer readings than this and the observed figures are not shown."""

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

    @property
    def observed_shown(self) -> Observed | None:
        """The cameras' reading, where it holds enough readings to be shown and is not withheld."""
        return None if self.observed_suppressed else self.observed

    @property
    def observed_suppressed(self) -> bool:
        """The cameras read here, but too few readings count to show, or it is withheld."""
        observed = self.observed
        if observed is None:
            return False
        return self.observed_withheld or not observed.shown(self.min_readings)

    def as_dict(self) -> dict[str, Any]:
        counts = self.scored
        index = happy_index(counts)
        observed = self.observed_shown
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
            "observed": None if observed is None else observed.as_dict(index),
            "observed_suppressed": self.observed_suppressed,
            "observed_min_readings": self.min_readings,
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
    camera: CameraSettings | None = None,
) -> list[LocationScore]:
    """Scores of every location (or of `locations`) over [since, until), best Happy Index first;
    `buttons_only` leaves out the cameras' readings and footfall; `camera` says which readings
    count and how many a group needs (default: the environment's settings). The readings, and
    the kiosk presses beside them, are those of the period's whole UTC hours (`whole_hours`).

    Raw events, readings and footfall are read by location (their indexes lead with it);
    the rollups of every location by hour (an index leads with the hour).
    """
    camera = CameraSettings() if camera is None else camera
    since = since.astimezone(UTC) if since else None  # rollup hours are UTC hours
    until = until.astimezone(UTC) if until else None
    wanted = select(Location.location_id, Location.name, Location.time_zone)
    if locations is not None:
        wanted = wanted.where(Location.location_id.in_(sorted(locations)))
    scores = {
        location_id: LocationScore(
            location_id,
            name,
            time_zone,
            include_misuse=include_misuse,
            min_readings=camera.min_readings,
        )
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
        hours = whole_hours(where)
        presses = _kiosk_presses(session, hours)
        for location_id, observed in _observed(session, hours, camera.min_face_score).items():
            scores[location_id].observed = replace(observed, presses=presses.get(location_id, 0))
        for location_id, passersby in _passersby(session, where).items():
            scores[location_id].passersby = passersby
    return ranked(scores.values())


def whole_hours(where: Where) -> Where:
    """The UTC hours the observed figures cover: from the start of the hour the period starts in
    to the start of the hour it ends in, so that periods a few minutes apart read the same."""
    return replace(
        where,
        since=None if where.since is None else hour_bucket(where.since),
        until=None if where.until is None else hour_bucket(where.until),
    )


def _kiosk_presses(session: Session, where: Where) -> dict[str, int]:
    """Every press at a kiosk, misuse included (a camera reads at each), per location."""
    presses: dict[str, int] = defaultdict(int)
    for location_id, _misuse, channel, counts in location_counts(session, where):
        if channel == Channel.KIOSK:
            presses[location_id] += counts.total
    return presses


def _observed(session: Session, where: Where, min_face_score: float) -> dict[str, Observed]:
    """Readings at the presses of the period (misuse or not: the face is a face): how many count
    (their face found with at least `min_face_score`) and their sums; a place whose readings
    all fall short is there with none counted."""
    table = observations.c
    columns = (table.valence, table.arousal, table.dominance, *(table[n] for n in EMOTION_COLUMNS))
    counted = table.face_score >= min_face_score
    statement = (
        select(
            table.location_id,
            func.count().filter(counted),
            *(func.sum(c).filter(counted) for c in columns),
        )
        .where(table.location_id.in_(where.locations))
        .group_by(table.location_id)
    )
    if where.since:
        statement = statement.where(table.occurred_at >= where.since)
    if where.until:
        statement = statement.where(table.occurred_at < where.until)
    return {
        location_id: Observed(n, tuple(float(total or 0.0) for total in sums))
        for location_id, n, *sums in session.execute(statement)
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
