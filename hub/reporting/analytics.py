"""What the dashboard, the PDF report and `seed-hub report` show: rankings, trends and heat
maps, per subtree.

Scores roll up the location tree: a site's counts are the sum of its areas', an area's the
sum of its touchpoints'. Trends and heat maps are read from the rollups' local levels and
drawn in the location's own time zone (an hour is placed by the local time it starts at).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, load_only

from hub.clock import Clock, utc_now
from hub.config import CameraSettings
from hub.hierarchy import LocationTree, Place
from hub.models import Channel, Device
from hub.reporting.reports import LocationScore, Observed, location_scores, ranked
from hub.reporting.scores import ButtonCounts, happy_index, positive_share, wilson_interval
from hub.rollups.buckets import Period
from hub.rollups.read import LocalCounts, local_counts, subtree_hours

MIN_RANKED_RESPONSES = 30
"""Fewer responses than this and a Happy Index is shown, marked as a small sample, not ranked:
at n = 30 the 95 % interval of a share is still about ±17 points wide."""

OFFLINE_AFTER = timedelta(minutes=3)
"""A kiosk unheard for three heartbeats (60 s each by default) counts as offline."""

Step = Literal["day", "week", "month"]


@dataclass(frozen=True, kw_only=True)
class Summary:
    """The figures a report shows for any set of counts."""

    responses: int
    counts: ButtonCounts
    happy_index: float | None
    positive_share: float | None
    positive_ci: tuple[float, float] | None
    small_sample: bool


def score_summary(counts: ButtonCounts) -> Summary:
    """The figures a report shows for any set of counts."""
    index = happy_index(counts)
    share = positive_share(counts)
    interval = wilson_interval(counts.positive, counts.total)
    return Summary(
        responses=counts.total,
        counts=counts,
        happy_index=None if index is None else round(index, 1),
        positive_share=None if share is None else round(share, 4),
        positive_ci=None if interval is None else (round(interval[0], 4), round(interval[1], 4)),
        small_sample=counts.total < MIN_RANKED_RESPONSES,
    )


def _fields(summary: Summary) -> dict[str, Any]:
    """A summary's fields, to make a summary's subclass of it."""
    return {name: getattr(summary, name) for name in Summary.__dataclass_fields__}


@dataclass
class Health:
    """Kiosks online and offline at a location and beneath it; the last heard of them."""

    online: int = 0
    offline: int = 0
    last_seen: datetime | None = None

    def count(self, online: bool, last_seen: datetime | None) -> None:
        if online:
            self.online += 1
        else:
            self.offline += 1
        if last_seen and (self.last_seen is None or last_seen > self.last_seen):
            self.last_seen = last_seen


@dataclass(frozen=True, kw_only=True)
class OverviewRow(Summary):
    """One location of the overview, its subtree's figures rolled up."""

    location: str
    name: str
    kind: str
    parent: str | None
    depth: int
    time_zone: str
    misuse: int
    previous_happy_index: float | None
    change: float | None
    observed_index: float | None
    """None where the cameras read nothing, or too little to show (`observed_suppressed`)."""
    observed_coverage: float | None
    observed_suppressed: bool
    devices: Health = field(default_factory=Health)
    rank: int | None = None
    channels: dict[str, int] = field(default_factory=dict)
    """Scored responses per channel (kiosk, web)."""


@dataclass(frozen=True)
class Overview:
    period: Period
    previous: Period
    locations: list[OverviewRow]
    observed_min_readings: int


@dataclass(frozen=True)
class ObservedSummary:
    """What the cameras read beside the buttons (see `Observed`)."""

    readings: int
    presses: int
    coverage: float | None
    observed_index: float
    gap: float | None
    vad: list[float]
    emotions: dict[str, float]


@dataclass(frozen=True, kw_only=True)
class SubtreeSummary(Summary):
    misuse: int
    observed: ObservedSummary | None
    """None where the cameras read nothing, or too little to show (`observed_suppressed`)."""
    observed_suppressed: bool
    observed_min_readings: int
    passersby: int | None
    channels: dict[str, Summary] = field(default_factory=dict)
    """The same figures per channel: kiosk, web."""


@dataclass(frozen=True, kw_only=True)
class TrendPoint(Summary):
    start: date
    """A local day, a week's Monday or a month's first day; an hour's UTC start (a datetime)."""


@dataclass(frozen=True)
class HeatCell:
    responses: int
    happy_index: float | None
    negative_share: float | None


@dataclass(frozen=True)
class Heatmap:
    time_zone: str
    cells: list[list[HeatCell]]
    """Seven weekdays (Monday first), each of 24 hours."""


def rolled_up(tree: LocationTree, scores: Iterable[LocationScore]) -> dict[str, LocationScore]:
    """Every location's own scores plus its descendants', the observed figures withheld where
    a hidden place's readings could be worked out from them (`_withhold_complements`)."""
    own: dict[str, LocationScore] = {}
    beneath: dict[str, list[LocationScore]] = defaultdict(list)
    for score in scores:
        if score.location not in tree:
            continue
        own[score.location] = score
        for location_id in (score.location, *tree.ancestors(score.location)):
            beneath[location_id].append(score)
    merged = {
        location_id: _merged(
            tree.places[location_id], members, min_readings=members[0].min_readings
        )
        for location_id, members in beneath.items()
    }
    _withhold_complements(tree, merged, own)
    return merged


def _withhold_complements(
    tree: LocationTree, merged: dict[str, LocationScore], own: dict[str, LocationScore]
) -> None:
    """Withholds the observed figures of every place whose readings, less those of the places
    shown beneath it, are 1 to k - 1: subtracting the shown from it would give them away.

    Children before parents: a place's readings not shown beneath it are its own and, of each
    child not shown, the child's readings not shown beneath the child.
    """
    not_shown: dict[str, int] = {}
    for location_id in sorted(merged, key=lambda i: -len(tree.ancestors(i))):
        score = merged[location_id]
        own_readings = _readings(own.get(location_id))
        left = own_readings + sum(not_shown.get(c, 0) for c in tree.children(location_id))
        if 0 < left < score.min_readings:
            score.observed_withheld = True
        not_shown[location_id] = 0 if score.observed_shown is not None else left


def _readings(score: LocationScore | None) -> int:
    observed = None if score is None else score.observed
    return 0 if observed is None else observed.readings


def _merged(place: Place, scores: list[LocationScore], *, min_readings: int) -> LocationScore:
    """The place's score made of these (its subtree's); its observed figures are shown when
    the subtree holds `min_readings` readings, whether or not any one place does, unless
    `rolled_up` withholds them."""
    passersby = [s.passersby for s in scores if s.passersby is not None]
    return LocationScore(
        place.location_id,
        place.name,
        place.time_zone,
        counts=sum((s.counts for s in scores), ButtonCounts()),
        misuse_counts=sum((s.misuse_counts for s in scores), ButtonCounts()),
        include_misuse=any(s.include_misuse for s in scores),
        observed=_merged_observed(scores),
        passersby=sum(passersby) if passersby else None,
        by_channel=_merged_channels(scores),
        min_readings=min_readings,
    )


def _merged_channels(scores: list[LocationScore]) -> dict[tuple[Channel, bool], ButtonCounts]:
    merged: dict[tuple[Channel, bool], ButtonCounts] = {}
    for score in scores:
        for key, counts in score.by_channel.items():
            merged[key] = merged.get(key, ButtonCounts()) + counts
    return merged


def rolled_up_report(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    include_misuse: bool = False,
    camera: CameraSettings | None = None,
) -> list[LocationScore]:
    """`seed-hub report`: every location's scores rolled up the tree as the dashboard rolls them,
    best Happy Index first, locations without responses last (`camera`: see `location_scores`)."""
    tree = LocationTree.load(session)
    scores = location_scores(
        session, since=since, until=until, include_misuse=include_misuse, camera=camera
    )
    return ranked(rolled_up(tree, scores).values())


def overview(
    session: Session,
    *,
    tree: LocationTree,
    visible: set[str],
    period: Period,
    camera: CameraSettings | None = None,
) -> Overview:
    """Every visible location with its score, rank among its kind, change and device health
    (`camera`: see `location_scores`)."""
    camera = CameraSettings() if camera is None else camera
    now_scores = rolled_up(
        tree, location_scores(session, since=period.since, until=period.until, camera=camera)
    )
    before = period.previous()
    then_scores = rolled_up(
        tree,
        location_scores(session, since=before.since, until=before.until, buttons_only=True),
    )
    health = device_health(session, tree=tree)
    rows = [
        _overview_row(tree, location_id, (now_scores, then_scores), health, camera.min_readings)
        for location_id in tree.depth_first(visible)
    ]
    return Overview(period, before, _ranked(rows), camera.min_readings)


def _overview_row(
    tree: LocationTree,
    location_id: str,
    scores: tuple[dict[str, LocationScore], dict[str, LocationScore]],
    health: dict[str, Health],
    min_readings: int,
) -> OverviewRow:
    place = tree.places[location_id]
    now_scores, then_scores = scores
    nothing = _merged(place, [], min_readings=min_readings)
    now = now_scores.get(location_id, nothing)
    then = then_scores.get(location_id, nothing)
    summary = score_summary(now.counts)
    previous = happy_index(then.counts)
    change = (
        None
        if summary.happy_index is None or previous is None
        else round(summary.happy_index - previous, 1)
    )
    observed = now.observed_shown
    shown = None if observed is None else observed.as_dict(None)
    return OverviewRow(
        location=location_id,
        name=place.name,
        kind=place.kind,
        parent=place.parent_id,
        depth=len(tree.ancestors(location_id)),
        time_zone=place.time_zone,
        **_fields(summary),
        misuse=now.misuse_counts.total,
        previous_happy_index=None if previous is None else round(previous, 1),
        change=change,
        observed_index=None if shown is None else shown["observed_index"],
        observed_coverage=None if shown is None else shown["coverage"],
        observed_suppressed=now.observed_suppressed,
        devices=health.get(location_id, Health()),
        channels={channel.value: now.channel_scored(channel).total for channel in Channel},
    )


def _ranked(rows: list[OverviewRow]) -> list[OverviewRow]:
    """Ranked within each kind by Happy Index; small samples keep rank None."""
    by_kind: dict[str, list[OverviewRow]] = defaultdict(list)
    for row in rows:
        if row.happy_index is not None and not row.small_sample:
            by_kind[row.kind].append(row)
    rank: dict[str, int] = {}
    for of_kind in by_kind.values():
        of_kind.sort(key=lambda r: (-(r.happy_index or 0.0), r.location))
        rank.update((row.location, position) for position, row in enumerate(of_kind, start=1))
    return [replace(row, rank=rank.get(row.location)) for row in rows]


def is_online(device: Device, now: datetime) -> bool:
    """Online by its own word and heard from within OFFLINE_AFTER."""
    heard = max(filter(None, (device.last_seen_at, device.last_status_at)), default=None)
    return device.state == "online" and heard is not None and now - heard <= OFFLINE_AFTER


def device_health(
    session: Session, *, tree: LocationTree, clock: Clock = utc_now
) -> dict[str, Health]:
    """Kiosks online and offline per location, rolled up the tree (revoked ones left out)."""
    now = clock()
    health: dict[str, Health] = defaultdict(Health)
    needed = (Device.location_id, Device.state, Device.last_seen_at, Device.last_status_at)
    devices = session.scalars(
        select(Device).options(load_only(*needed)).where(Device.revoked_at.is_(None))
    )
    for device in devices:
        place = device.location_id
        if place is None or place not in tree:
            continue
        online = is_online(device, now)
        for location_id in (place, *tree.ancestors(place)):
            health[location_id].count(online, device.last_seen_at)
    return health


def subtree_summary(
    session: Session,
    *,
    tree: LocationTree,
    location_id: str,
    period: Period,
    camera: CameraSettings | None = None,
) -> SubtreeSummary:
    """One location (with its subtree): score, misuse, the observed panel (`camera`: see
    `location_scores`)."""
    camera = CameraSettings() if camera is None else camera
    locations = tree.subtree(location_id)
    scores = location_scores(
        session, since=period.since, until=period.until, locations=locations, camera=camera
    )
    place = tree.places[location_id]
    nothing = _merged(place, [], min_readings=camera.min_readings)
    rollup = rolled_up(tree, scores).get(location_id, nothing)
    observed = rollup.observed_shown
    return SubtreeSummary(
        **_fields(score_summary(rollup.counts)),
        misuse=rollup.misuse_counts.total,
        observed=(
            None
            if observed is None
            else ObservedSummary(**observed.as_dict(happy_index(rollup.counts)))
        ),
        observed_suppressed=rollup.observed_suppressed,
        observed_min_readings=camera.min_readings,
        passersby=rollup.passersby or None,
        channels={
            channel.value: score_summary(rollup.channel_scored(channel)) for channel in Channel
        },
    )


def _merged_observed(scores: list[LocationScore]) -> Observed | None:
    observed = [s.observed for s in scores if s.observed is not None]
    return sum(observed[1:], observed[0]) if observed else None


def trend(
    session: Session,
    *,
    location_id: str,
    period: Period,
    time_zone: str,
    step: Step,
    local: LocalCounts | None = None,
) -> list[TrendPoint]:
    """Scores per local day, ISO week (from Monday) or month, oldest first, empty ones included."""
    zone = ZoneInfo(time_zone)
    if local is None:
        local = local_counts(session, location_id=location_id, period=period, time_zone=time_zone)
    buckets: dict[date, ButtonCounts] = defaultdict(ButtonCounts)
    for day, counts in local.days.items():
        buckets[_step_start(day, step)] += counts
    first = _step_start(period.since.astimezone(zone).date(), step)
    last = _step_start((period.until - timedelta(microseconds=1)).astimezone(zone).date(), step)
    points = []
    day = first
    while day <= last:
        points.append(_point(day, buckets.get(day, ButtonCounts())))
        day = _next_step(day, step)
    return points


def _step_start(day: date, step: Step) -> date:
    if step == "month":
        return day.replace(day=1)
    return day if step == "day" else day - timedelta(days=day.weekday())


def _next_step(start: date, step: Step) -> date:
    if step == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1 if step == "day" else 7)


def heatmap(
    session: Session,
    *,
    location_id: str,
    period: Period,
    time_zone: str,
    local: LocalCounts | None = None,
) -> Heatmap:
    """Hour of day by day of week (Monday = 0) in local time: responses and Happy Index."""
    if local is None:
        local = local_counts(session, location_id=location_id, period=period, time_zone=time_zone)
    cells = local.week_hours
    return Heatmap(
        time_zone,
        [
            [_cell(cells.get((weekday, hour), ButtonCounts())) for hour in range(24)]
            for weekday in range(7)
        ],
    )


def _cell(counts: ButtonCounts) -> HeatCell:
    return HeatCell(counts.total, _rounded(happy_index(counts)), _negative_share(counts))


def _point(start: date, counts: ButtonCounts) -> TrendPoint:
    return TrendPoint(start=start, **_fields(score_summary(counts)))


def _rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _negative_share(counts: ButtonCounts) -> float | None:
    share = positive_share(counts)
    return None if share is None else round(1 - share, 4)


def hourly(session: Session, *, location_id: str, period: Period) -> list[TrendPoint]:
    """Scores of the subtree per UTC hour that has responses, oldest first (`start`, an aware
    UTC datetime)."""
    return [
        _point(start, counts)
        for start, counts in sorted(
            subtree_hours(session, location_id=location_id, period=period), key=lambda row: row[0]
        )
        if counts.total
    ]
