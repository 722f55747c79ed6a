"""Scores for facility managers (overview, a location, comparisons); the fleet for technicians."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.clock import as_utc
from hub.config import CameraSettings
from hub.hierarchy import LocationTree
from hub.models import Device
from hub.reporting.analytics import (
    Step,
    heatmap,
    is_online,
    overview,
    subtree_summary,
    trend,
)
from hub.reporting.reasons import reasons, top_negative_reasons
from hub.rollups.buckets import Period
from hub.rollups.read import local_counts
from hub.users import Principal
from hub.web.auth import Db, Manager, Now, Technician, web_context
from hub.web.schemas_scores import (
    CompareOut,
    HeatmapOut,
    Kiosk,
    LocationOut,
    OverviewOut,
    PathStep,
    PeriodOut,
    PlaceOut,
    ReasonsOut,
    SummaryOut,
    TopReasonOut,
    TrendPoint,
)

router = APIRouter()

MAX_DAYS = 3660
# Periods within these years: the one before a period (its change) and its local times in any
# time zone then stay on the calendar, where year 1 or 9999 would fall off it (a 500).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)

Days = Annotated[float, Query(gt=0, le=MAX_DAYS, description="the last N days (default 7)")]
Since = Annotated[datetime | None, Query(description="ISO 8601, inclusive; overrides days")]
Until = Annotated[datetime | None, Query(description="ISO 8601, exclusive; default now")]


def period_of(
    days: float, since: datetime | None, until: datetime | None, *, now: datetime
) -> Period:
    """The period a request asks for (until `now` by default); a time without an offset is UTC."""
    end = _utc(until) if until else now
    if not EARLIEST < end <= LATEST:
        raise HTTPException(422, f"until must lie between {EARLIEST:%Y} and {LATEST:%Y}")
    start = _utc(since) if since else Period.last(days, until=end).since
    if start >= end:
        raise HTTPException(422, "since must come before until")
    if start < EARLIEST:
        raise HTTPException(422, f"since must lie between {EARLIEST:%Y} and {LATEST:%Y}")
    if (end - start).days > MAX_DAYS:
        raise HTTPException(422, f"a period is at most {MAX_DAYS} days")
    return Period(start, end)


def _utc(moment: datetime) -> datetime:
    try:
        return as_utc(moment)
    except OverflowError as exc:
        raise HTTPException(422, "time out of range") from exc


def visible_tree(session: Session, user: Principal) -> tuple[LocationTree, set[str]]:
    tree = LocationTree.load(session)
    return tree, user.visible(tree)


def _location_or_404(location_id: str, visible: set[str]) -> None:
    if location_id not in visible:
        raise HTTPException(404, f"no location {location_id!r} among yours")


def _camera(request: Request) -> CameraSettings:
    """Which readings count and how many a group needs to show them."""
    return web_context(request).settings.camera


@router.get("/api/overview", tags=["scores"])
def api_overview(
    request: Request,
    session: Db,
    user: Manager,
    now: Now,
    days: Days = 7,
    since: Since = None,
    until: Until = None,
) -> OverviewOut:
    """Every location you may see, ranked by Happy Index within its kind, with the change
    against the previous period of the same length and its kiosks' health."""
    tree, visible = visible_tree(session, user)
    period = period_of(days, since, until, now=now)
    answer = OverviewOut.model_validate(
        overview(session, tree=tree, visible=visible, period=period, camera=_camera(request))
    )
    tops = top_negative_reasons(session, tree=tree, visible=visible, period=period)
    for row in answer.locations:
        top = tops.get(row.location)
        row.top_negative_reason = None if top is None else TopReasonOut.model_validate(top)
    return answer


@router.get("/api/locations", tags=["scores"])
def api_locations(session: Db, user: Manager) -> list[PlaceOut]:
    """The locations you may see, parents before children."""
    tree, visible = visible_tree(session, user)
    return [
        PlaceOut(
            location=p.location_id,
            name=p.name,
            kind=p.kind,
            parent=p.parent_id,
            time_zone=p.time_zone,
        )
        for p in (tree.places[i] for i in tree.depth_first(visible))
    ]


@router.get("/api/locations/{location_id}", tags=["scores"])
def api_location(
    request: Request,
    session: Db,
    user: Manager,
    location_id: str,
    now: Now,
    days: Days = 28,
    since: Since = None,
    until: Until = None,
) -> LocationOut:
    """One location with everything beneath it: score, trend by day, week and month, the hour-of-day
    by day-of-week heat map in its own time zone, buttons, misuse and the cameras' reading."""
    tree, visible = visible_tree(session, user)
    _location_or_404(location_id, visible)
    period = period_of(days, since, until, now=now)
    return location_view(session, tree, location_id, period, _camera(request))


def location_view(
    session: Session,
    tree: LocationTree,
    location_id: str,
    period: Period,
    camera: CameraSettings,
) -> LocationOut:
    place = tree.places[location_id]
    zone = place.time_zone
    local = local_counts(session, location_id=location_id, period=period, time_zone=zone)

    def trend_by(step: Step) -> list[TrendPoint]:
        points = trend(
            session, location_id=location_id, period=period, time_zone=zone, step=step, local=local
        )
        return [TrendPoint.model_validate(point) for point in points]

    summary = subtree_summary(
        session, tree=tree, location_id=location_id, period=period, camera=camera
    )
    cells = heatmap(session, location_id=location_id, period=period, time_zone=zone, local=local)
    return LocationOut(
        location=location_id,
        name=place.name,
        kind=place.kind,
        time_zone=zone,
        path=[
            PathStep(location=i, name=tree.places[i].name)
            for i in reversed(tree.ancestors(location_id))
        ],
        children=tree.children(location_id),
        period=PeriodOut.model_validate(period),
        summary=SummaryOut.model_validate(summary),
        trend_day=trend_by("day"),
        trend_week=trend_by("week"),
        heatmap=HeatmapOut.model_validate(cells),
        trend_month=trend_by("month"),
        reasons=ReasonsOut.model_validate(
            reasons(session, tree=tree, location_id=location_id, period=period)
        ),
    )


@router.get("/api/compare", tags=["scores"])
def api_compare(
    request: Request,
    session: Db,
    user: Manager,
    now: Now,
    a: Annotated[str, Query(description="the first location")],
    b: Annotated[str | None, Query(description="the second location (default: the first)")] = None,
    days: Days = 28,
    since: Since = None,
    until: Until = None,
    b_since: Annotated[datetime | None, Query(description="the second side's start")] = None,
    b_until: Annotated[datetime | None, Query(description="the second side's end")] = None,
) -> CompareOut:
    """Two locations over one period, or one location over two periods, side by side."""
    tree, visible = visible_tree(session, user)
    second = b or a
    for location_id in (a, second):
        _location_or_404(location_id, visible)
    first_period = period_of(days, since, until, now=now)
    second_period = (
        period_of(days, b_since, b_until, now=now) if b_since or b_until else first_period
    )
    camera = _camera(request)
    return CompareOut(
        a=location_view(session, tree, a, first_period, camera),
        b=location_view(session, tree, second, second_period, camera),
    )


@router.get("/api/fleet", tags=["fleet"])
def api_fleet(session: Db, _user: Technician, now: Now) -> list[Kiosk]:
    """Every kiosk: where it stands, online or not, last heard, outbox, version, camera."""
    return [
        Kiosk(
            device=d.device_id,
            location=d.location_id,
            registered=d.registered,
            online=is_online(d, now),
            state=d.state,
            last_seen=d.last_seen_at,
            last_heartbeat=d.last_status_at,
            outbox_depth=d.outbox_depth,
            outbox_capacity=d.outbox_capacity,
            outbox_dropped=d.outbox_dropped,
            clock_offset_s=d.clock_offset_s,
            version=d.version,
            uptime_s=d.uptime_s,
            camera=d.camera,
            camera_fault=d.camera_fault,
            config_version=d.applied_config_version,
            config_error=d.config_error,
            revoked=d.revoked_at is not None,
        )
        for d in session.scalars(select(Device).order_by(Device.device_id))
    ]


def _page(request: Request, template: str, user: Principal, **extra: Any) -> Response:
    return web_context(request).templates.TemplateResponse(
        request, template, {"user": user, **extra}
    )


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def overview_page(request: Request, user: Manager) -> Response:
    return _page(request, "overview.html", user)


@router.get("/locations/{location_id}", response_class=HTMLResponse, include_in_schema=False)
def location_page(request: Request, session: Db, user: Manager, location_id: str) -> Response:
    _tree, visible = visible_tree(session, user)
    _location_or_404(location_id, visible)
    return _page(request, "location.html", user, location_id=location_id)


@router.get("/compare", response_class=HTMLResponse, include_in_schema=False)
def compare_page(request: Request, user: Manager) -> Response:
    return _page(request, "compare.html", user)


@router.get("/fleet", response_class=HTMLResponse, include_in_schema=False)
def fleet_page(request: Request, user: Technician) -> Response:
    return _page(request, "fleet.html", user)
