"""Tasks in the dashboard and the API: the Tasks page, a place's panel, figures and exports.

Every signed-in manager sees the tasks at his sites; he and an admin act on them (open one
by hand, acknowledge, resolve, add a note), each change stamped with his name and the app's
clock. A task, team or place outside his sites answers 404, as if it did not exist.
"""

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.alerts.rules import Rule
from hub.hierarchy import LocationTree
from hub.models import AlertRule, Task, Team
from hub.tasks import records
from hub.tasks.records import Listing, TaskState, TaskView
from hub.tasks.recovery import Recovery, Share, change
from hub.tasks.stats import TaskFigures, task_figures
from hub.tasks.teams import Role, Route, TeamView, list_teams
from hub.users import Principal
from hub.web.auth import Db, Manager, Now, web_context
from hub.web.routes_scores import Days, Since, Until, period_of
from hub.web.schemas_scores import PeriodOut
from protocol.errors import ConfigError
from protocol.messages import LOCATION_ID_PATTERN

router = APIRouter()

TaskId = Annotated[int, Field(ge=1, le=2**31 - 1)]
MAX_LISTED = 1000
HISTORY_SHOWN = 200
"""The latest entries of a task's history its detail holds."""
Shown = Literal["open", "acknowledged", "resolved", "escalated"]
PlaceQuery = Annotated[
    str | None,
    Query(max_length=64, description="a location and everything beneath it (default: all yours)"),
]


class ShareOut(BaseModel):
    unhappy: int
    total: int = Field(description="scored answers in the window")
    share: float | None = Field(description="unhappy / total; null without an answer")


class ChangeOut(BaseModel):
    """after - before, with Newcombe's 95 % interval."""

    difference: float
    low: float
    high: float


class TaskOut(BaseModel):
    id: int
    team: str
    team_name: str
    location: str
    location_name: str
    time_zone: str = Field(description="the place's, for showing its times")
    device: str | None = Field(description="the kiosk it is about, if one")
    alert: int | None = Field(description="the alert that opened it; null when opened by hand")
    title: str
    detail: str
    negative_share: float | None = Field(description="unhappy share in the window before it")
    responses: int | None
    window_min: int = Field(description="the span compared before and after")
    state: TaskState
    shown_state: Shown = Field(description="escalated while unresolved and escalated, else state")
    escalated: bool
    overdue: bool = Field(description="unresolved past its time to acknowledge or to resolve")
    opened_at: datetime
    opened_by: str
    ack_due_at: datetime
    resolve_due_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    escalated_at: datetime | None
    before: ShareOut | None = Field(description="the window before the alert, once measured")
    after: ShareOut | None = Field(description="as long after resolution, once measured")
    change: ChangeOut | None
    recovery: Recovery | None = Field(description="null until measured")


class HistoryOut(BaseModel):
    at: datetime
    actor: str
    action: str
    note: str
    alert: int | None


class TaskDetailOut(TaskOut):
    history: list[HistoryOut] = Field(
        description=f"the latest {HISTORY_SHOWN} entries at most, oldest first"
    )
    history_total: int = Field(description="entries in the task's whole history")


class OpenTaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    team: str = Field(pattern=LOCATION_ID_PATTERN)
    location: str = Field(max_length=64, description="the team's place or one beneath it")
    title: str = Field(min_length=1, max_length=records.MAX_TITLE_CHARS)


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=records.MAX_NOTE_CHARS)


class NoteRequiredIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(min_length=1, max_length=records.MAX_NOTE_CHARS)


class FigureOut(BaseModel):
    team: str
    team_name: str
    location: str | None = Field(description="null: the team's figures over all its places")
    location_name: str | None
    tasks: int
    acknowledged: int
    resolved: int
    escalated: int
    ack_median_min: float | None
    ack_p90_min: float | None = Field(description="nearest-rank 90th percentile")
    resolve_median_min: float | None
    resolve_p90_min: float | None
    ack_in_time: float | None = Field(description="share acknowledged within the team's target")
    resolve_in_time: float | None
    recovered: int
    not_recovered: int
    too_few: int = Field(description="too few answers to tell")
    recovered_share: float | None = Field(description="of those told, the share recovered")


class FiguresOut(BaseModel):
    period: PeriodOut
    rows: list[FigureOut] = Field(description="a row per team and place, then the team's total")


class MemberOut(BaseModel):
    """A member as the dashboard shows one: never the address or URL they are reached at."""

    name: str
    role: Role
    route: Route


class TeamRuleOut(BaseModel):
    id: int
    description: str


class TeamOut(BaseModel):
    team: str
    name: str
    location: str = Field(description="it looks after this place and everything beneath it")
    location_name: str
    places: list[str] = Field(description="the places of yours it looks after")
    working_hours: str | None = Field(description="HH:MM-HH:MM local; null: at all hours")
    ack_minutes: int
    resolve_minutes: int
    rules: list[TeamRuleOut] = Field(description="the alert rules it answers; empty: every rule")
    members: list[MemberOut]


def _visible(session: Session, user: Principal) -> tuple[LocationTree, set[str]]:
    tree = LocationTree.load(session)
    return tree, user.visible(tree)


def _within(tree: LocationTree, visible: set[str], location: str | None) -> set[str]:
    if location is None:
        return visible
    if location not in visible:
        raise HTTPException(404, f"no location {location!r} among yours")
    return visible & tree.subtree(location)


def _overdue(view: TaskView, now: datetime) -> bool:
    if view.state == "resolved":
        return False
    return now >= view.resolve_due_at or (view.acknowledged_at is None and now >= view.ack_due_at)


def _share(pair: tuple[int, int] | None) -> ShareOut | None:
    if pair is None:
        return None
    unhappy, total = pair
    return ShareOut(unhappy=unhappy, total=total, share=unhappy / total if total else None)


def task_out(view: TaskView, now: datetime) -> TaskOut:
    measured = None
    if view.before is not None and view.after is not None:
        measured = change(Share(*view.before), Share(*view.after))
    return TaskOut(
        id=view.id,
        team=view.team_id,
        team_name=view.team_name,
        location=view.location_id,
        location_name=view.location_name,
        time_zone=view.time_zone,
        device=view.device_id,
        alert=view.alert_id,
        title=view.title,
        detail=view.detail,
        negative_share=view.negative_share,
        responses=view.responses,
        window_min=view.window_min,
        state=view.state,
        shown_state=view.shown_state,
        escalated=view.escalated,
        overdue=_overdue(view, now),
        opened_at=view.opened_at,
        opened_by=view.opened_by,
        ack_due_at=view.ack_due_at,
        resolve_due_at=view.resolve_due_at,
        acknowledged_at=view.acknowledged_at,
        acknowledged_by=view.acknowledged_by,
        resolved_at=view.resolved_at,
        resolved_by=view.resolved_by,
        escalated_at=view.escalated_at,
        before=_share(view.before),
        after=_share(view.after),
        change=None
        if measured is None
        else ChangeOut(difference=measured.difference, low=measured.low, high=measured.high),
        recovery=Recovery(view.recovery) if view.recovery else None,
    )


def _detail(session: Session, task_id: int, now: datetime) -> TaskDetailOut:
    view = records.task_view(session, task_id=task_id)
    entries = records.history(session, task_id=task_id, latest=HISTORY_SHOWN)
    return TaskDetailOut(
        **task_out(view, now).model_dump(),
        history=[
            HistoryOut(at=e.at, actor=e.actor, action=e.action, note=e.note, alert=e.alert_id)
            for e in entries
        ],
        history_total=records.history_length(session, task_id=task_id),
    )


def _own_task(session: Session, user: Principal, task_id: int) -> None:
    task = session.get(Task, task_id)
    if task is None or task.location_id not in _visible(session, user)[1]:
        raise HTTPException(404, f"no task {task_id}")


def _refused(exc: ConfigError) -> HTTPException:
    return HTTPException(400, str(exc))


@router.get("/api/tasks", tags=["tasks"])
def api_tasks(
    session: Db,
    user: Manager,
    now: Now,
    state: Annotated[Listing, Query(description="unresolved: open or acknowledged")] = (
        "unresolved"
    ),
    team: Annotated[str | None, Query(pattern=LOCATION_ID_PATTERN)] = None,
    location: PlaceQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LISTED)] = 200,
) -> list[TaskOut]:
    """Tasks at your places, newest first; `location` takes in every place beneath it."""
    tree, visible = _visible(session, user)
    within = _within(tree, visible, location)
    views = records.list_tasks(session, within=within, listing=state, team_id=team, limit=limit)
    return [task_out(v, now) for v in views]


@router.get("/api/tasks/figures", tags=["tasks"])
def api_task_figures(
    session: Db,
    user: Manager,
    now: Now,
    location: PlaceQuery = None,
    days: Days = 7,
    since: Since = None,
    until: Until = None,
) -> FiguresOut:
    """How fast each team acted and whether its places recovered, over the tasks opened in
    the period: per team and place, then the team's total."""
    tree, visible = _visible(session, user)
    within = _within(tree, visible, location)
    period = period_of(days, since, until, now=now)
    rows = task_figures(session, period=period, now=now, within=within)
    return FiguresOut(period=PeriodOut.model_validate(period), rows=[_figure(r) for r in rows])


def _figure(row: TaskFigures) -> FigureOut:
    return FigureOut(
        team=row.team_id,
        team_name=row.team_name,
        location=row.location_id,
        location_name=row.location_name,
        tasks=row.tasks,
        acknowledged=row.acknowledged,
        resolved=row.resolved,
        escalated=row.escalated,
        ack_median_min=row.ack_median_min,
        ack_p90_min=row.ack_p90_min,
        resolve_median_min=row.resolve_median_min,
        resolve_p90_min=row.resolve_p90_min,
        ack_in_time=row.ack_in_time,
        resolve_in_time=row.resolve_in_time,
        recovered=row.recovered,
        not_recovered=row.not_recovered,
        too_few=row.too_few,
        recovered_share=row.recovered_share,
    )


@router.get("/api/tasks/{task_id}", tags=["tasks"])
def api_task(session: Db, user: Manager, task_id: TaskId, now: Now) -> TaskDetailOut:
    """One task with its history: who did what, and when."""
    _own_task(session, user, task_id)
    return _detail(session, task_id, now)


@router.post("/api/tasks", tags=["tasks"], status_code=201)
def api_open_task(session: Db, user: Manager, body: OpenTaskIn, now: Now) -> TaskDetailOut:
    """Open a task by hand for a team at one of your places; its members are notified."""
    tree, visible = _visible(session, user)
    _within(tree, visible, body.location)
    team = session.get(Team, body.team)
    if team is None or not _looks_after_yours(tree, visible, team.location_id):
        raise HTTPException(404, f"no team {body.team!r} at your places")
    try:
        task_id = records.open_by_hand(
            session,
            team_id=body.team,
            location_id=body.location,
            title=body.title,
            by=user.username,
            now=now,
        )
    except ConfigError as exc:
        raise _refused(exc) from exc
    return _detail(session, task_id, now)


@router.post("/api/tasks/{task_id}/acknowledge", tags=["tasks"])
def api_acknowledge(
    session: Db, user: Manager, task_id: TaskId, body: NoteIn, now: Now
) -> TaskDetailOut:
    """ "On my way": the first acknowledgement counts; a later one only adds its note."""
    return _act(session, user, task_id, now, records.acknowledge, body.note or "")


@router.post("/api/tasks/{task_id}/resolve", tags=["tasks"])
def api_resolve(
    session: Db, user: Manager, task_id: TaskId, body: NoteIn, now: Now
) -> TaskDetailOut:
    """Done (with an optional note); resolving a resolved task changes nothing."""
    return _act(session, user, task_id, now, records.resolve, body.note or "")


@router.post("/api/tasks/{task_id}/notes", tags=["tasks"])
def api_note(
    session: Db, user: Manager, task_id: TaskId, body: NoteRequiredIn, now: Now
) -> TaskDetailOut:
    return _act(session, user, task_id, now, records.add_note, body.note)


def _act(
    session: Session,
    user: Principal,
    task_id: int,
    now: datetime,
    action: Callable[..., object],
    note: str,
) -> TaskDetailOut:
    """One of the records' actions on a task of the user's places, as the user; its refusal
    answered as a 400 with the reason."""
    _own_task(session, user, task_id)
    try:
        action(session, task_id=task_id, actor=user.username, now=now, note=note)
    except ConfigError as exc:
        raise _refused(exc) from exc
    return _detail(session, task_id, now)


def _looks_after_yours(tree: LocationTree, visible: set[str], team_location: str) -> bool:
    """Whether a team at `team_location` looks after any of the places the user sees."""
    return team_location in tree and bool(tree.subtree(team_location) & visible)


@router.get("/api/teams", tags=["tasks"])
def api_teams(session: Db, user: Manager) -> list[TeamOut]:
    """The teams that look after your places: where, when, how fast, which alerts, and who
    (by name and route, never the address a member is reached at)."""
    tree, visible = _visible(session, user)
    teams = [t for t in list_teams(session) if _looks_after_yours(tree, visible, t.location_id)]
    rules = _rule_texts(session, {r for t in teams for r in t.rules})
    return [_team_out(t, tree, visible, rules) for t in teams]


def _rule_texts(session: Session, ids: Collection[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.scalars(select(AlertRule).where(AlertRule.id.in_(ids)))
    return {row.id: Rule.from_row(row).describe() for row in rows}


def _team_out(
    team: TeamView, tree: LocationTree, visible: set[str], rules: dict[int, str]
) -> TeamOut:
    return TeamOut(
        team=team.team_id,
        name=team.name,
        location=team.location_id,
        location_name=tree.places[team.location_id].name,
        places=tree.depth_first(tree.subtree(team.location_id) & visible),
        working_hours=str(team.working_hours) if team.working_hours else None,
        ack_minutes=team.ack_minutes,
        resolve_minutes=team.resolve_minutes,
        rules=[TeamRuleOut(id=r, description=rules.get(r, "")) for r in team.rules],
        members=[MemberOut(name=m.name, role=m.role, route=m.route) for m in team.members],
    )


@router.get("/tasks", response_class=HTMLResponse, include_in_schema=False)
def tasks_page(request: Request, user: Manager) -> Response:
    return web_context(request).templates.TemplateResponse(request, "tasks.html", {"user": user})
