"""A task's life: opened by an alert (or by hand), joined by later alerts at the same place,
acknowledged, resolved, escalated when a target time passes; each change recorded once in
`task_events`, and the notifications it calls for queued in the same transaction."""

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from hub.alerts.rules import MAX_WINDOW_MIN, WINDOW_KINDS, Rule, zone
from hub.hierarchy import LocationTree
from hub.models import Alert, Location, Task, TaskEvent, TaskNotification, Team
from hub.rollups.read import window_counts
from hub.tasks.teams import Member, Role, TeamView, list_teams, responsible_teams, team_view
from protocol.errors import ConfigError
from protocol.text import printable

MAX_NOTE_CHARS = 1000
MAX_TITLE_CHARS = 300
MAX_ACTOR_CHARS = 200
DEFAULT_WINDOW_MIN = 60
"""The span compared before and after, when the alert's rule has no window of its own."""
MAX_OPEN_TASKS = 10_000
"""Unresolved tasks the hub keeps; past that, alerts still fire but open no task."""
MAX_OPEN_TASKS_PER_TEAM = 500
"""Unresolved tasks one team may have, so that one site's flood leaves the others theirs."""
MAX_EVENTS_PER_TASK = 1000
"""Entries a task's history takes before it refuses further notes (anyone with a staff link,
which may be posted to a whole channel, can add them)."""
Missed = Literal["acknowledge", "resolve"]
MISSED_NOTES: dict[Missed, str] = {
    "acknowledge": "nobody managed to acknowledge in time",
    "resolve": "nobody managed to resolve in time",
}
"""The note an escalation stores, by the target missed."""
TaskState = Literal["open", "acknowledged", "resolved"]
Listing = Literal["unresolved", "open", "acknowledged", "resolved", "escalated", "all"]

log = logging.getLogger(__name__)


class TaskError(ConfigError):
    """A change a task cannot take (no such task, already resolved, a note too long)."""


class HistoryFullError(TaskError):
    """The task's history holds MAX_EVENTS_PER_TASK entries: no further note."""


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str
    action: str
    note: str
    alert_id: int | None

    @property
    def missed(self) -> Missed | None:
        """For an escalation, the target its team missed; None for anything else."""
        if self.action != "escalated":
            return None
        return next((m for m, note in MISSED_NOTES.items() if note == self.note), None)


@dataclass(frozen=True)
class TaskView:
    id: int
    team_id: str
    team_name: str
    location_id: str
    location_name: str
    time_zone: str
    device_id: str | None
    alert_id: int | None
    title: str
    detail: str
    negative_share: float | None
    responses: int | None
    window_min: int
    state: TaskState
    opened_at: datetime
    opened_by: str
    ack_due_at: datetime
    resolve_due_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    escalated_at: datetime | None
    before: tuple[int, int] | None
    """(unhappy, all scored) in the window before the alert, once measured."""
    after: tuple[int, int] | None
    recovery: str | None

    @property
    def escalated(self) -> bool:
        return self.escalated_at is not None

    @property
    def shown_state(self) -> str:
        """What a list shows: escalated while unresolved and overdue, else the state."""
        return "escalated" if self.escalated and self.state != "resolved" else self.state


def open_for_alert(
    session: Session, *, alert: Alert, rule: Rule, tree: LocationTree, now: datetime
) -> list[int]:
    """Open a task for each team responsible for the alert's place and rule, or join the open
    task that team already has there; returns the ids of the tasks opened or joined."""
    teams = responsible_teams(
        list_teams(session), tree, location_id=alert.location_id, rule_id=rule.id
    )
    window = rule.window_min if rule.kind in WINDOW_KINDS else DEFAULT_WINDOW_MIN
    device_id = alert.subject if alert.subject != alert.location_id else None
    touched = []
    for team in teams:
        task = _unresolved(session, team_id=team.team_id, location_id=alert.location_id)
        if task is not None:
            if history_length(session, task_id=task.id) < MAX_EVENTS_PER_TASK:  # the alert tells
                _record(session, task, now, "hub", "joined", note=alert.message, alert_id=alert.id)
            touched.append(task.id)
            continue
        full = _full(session, team_id=team.team_id)
        if full is not None:
            log.warning(
                "alert %s at %s opens no task for team %s: %s",
                alert.id,
                alert.location_id,
                team.team_id,
                full,
            )
            continue
        task = _open(
            session,
            team=team,
            location_id=alert.location_id,
            title=alert.message,
            by="hub",
            now=now,
            window_min=window,
            alert_id=alert.id,
            device_id=device_id,
        )
        touched.append(task.id)
    return touched


def open_by_hand(
    session: Session,
    *,
    team_id: str,
    location_id: str,
    title: str,
    by: str,
    now: datetime,
    window_min: int = DEFAULT_WINDOW_MIN,
) -> int:
    """A task a manager opens from the dashboard or the command line."""
    team = team_view(session, team_id=team_id)
    tree = LocationTree.load(session)
    if location_id not in tree:
        raise TaskError(f"no location {location_id!r}; see `seed-hub locations list`")
    if team.location_id != location_id and team.location_id not in tree.ancestors(location_id):
        raise TaskError(f"team {team_id!r} does not look after {location_id!r}")
    title = _text(title, what="a task's title", limit=MAX_TITLE_CHARS)
    if not title:
        raise TaskError("say what needs doing: a task needs a title")
    if not 1 <= window_min <= MAX_WINDOW_MIN:
        raise TaskError(f"the span compared before and after is 1 to {MAX_WINDOW_MIN} minutes")
    full = _full(session, team_id=team_id)
    if full is not None:
        raise TaskError(f"{full}; resolve some first")
    return _open(
        session,
        team=team,
        location_id=location_id,
        title=title,
        by=by,
        now=now,
        window_min=window_min,
    ).id


def _open(
    session: Session,
    *,
    team: TeamView,
    location_id: str,
    title: str,
    by: str,
    now: datetime,
    window_min: int,
    alert_id: int | None = None,
    device_id: str | None = None,
) -> Task:
    counts = window_counts(
        session, locations=[location_id], since=now - timedelta(minutes=window_min), until=now
    ).get(location_id)
    negative = None
    if counts and counts.total:
        negative = (counts.unhappy + counts.very_unhappy) / counts.total
    task = Task(
        team_id=team.team_id,
        location_id=location_id,
        device_id=device_id,
        alert_id=alert_id,
        title=title[:MAX_TITLE_CHARS],
        detail=title if len(title) > MAX_TITLE_CHARS else "",
        negative_share=negative,
        responses=counts.total if counts else 0,
        window_min=window_min,
        state="open",
        opened_at=now,
        opened_by=_actor(by),
        ack_due_at=now + timedelta(minutes=team.ack_minutes),
        resolve_due_at=now + timedelta(minutes=team.resolve_minutes),
    )
    session.add(task)
    session.flush()
    _record(session, task, now, by, "opened", note="", alert_id=alert_id)
    on_duty = team.working_hours is None or team.working_hours.covers(
        now, _time_zone(session, team.location_id)
    )
    _notify(
        session,
        task,
        team,
        reason="opened",
        role=Role.MEMBER if on_duty else Role.ESCALATION,
        now=now,
    )
    return task


def acknowledge(
    session: Session, *, task_id: int, actor: str, now: datetime, note: str = ""
) -> TaskView:
    """ "On my way": the first acknowledgement counts; a later one only adds its note."""
    task = _task(session, task_id)
    _not_resolved(task)
    text = _note(note)
    if task.acknowledged_at is None:
        task.state, task.acknowledged_at, task.acknowledged_by = "acknowledged", now, _actor(actor)
        _record(session, task, now, actor, "acknowledged", note=text)
    elif text:
        _room_for_a_note(session, task)
        _record(session, task, now, actor, "note", note=text)
    return task_view(session, task_id=task_id)


def resolve(
    session: Session, *, task_id: int, actor: str, now: datetime, note: str = ""
) -> TaskView:
    """Done; an unacknowledged task counts as acknowledged at the same moment. Resolving a
    resolved task changes nothing (a double tap, a second member)."""
    task = _task(session, task_id)
    if task.resolved_at is not None:
        return task_view(session, task_id=task_id)
    text = _note(note)
    if task.acknowledged_at is None:
        task.acknowledged_at, task.acknowledged_by = now, _actor(actor)
    task.state, task.resolved_at, task.resolved_by = "resolved", now, _actor(actor)
    _record(session, task, now, actor, "resolved", note=text)
    return task_view(session, task_id=task_id)


def add_note(session: Session, *, task_id: int, actor: str, now: datetime, note: str) -> TaskView:
    task = _task(session, task_id)
    text = _note(note)
    if not text:
        raise TaskError("a note needs some text")
    _room_for_a_note(session, task)
    _record(session, task, now, actor, "note", note=text)
    return task_view(session, task_id=task_id)


def escalate_overdue(session: Session, *, now: datetime) -> list[int]:
    """Escalate, once each, the tasks whose team missed the time to acknowledge or to
    resolve (a task done at its due time is in time); returns their ids."""
    overdue = session.scalars(
        select(Task)
        .where(
            Task.state != "resolved",
            Task.escalated_at.is_(None),
            or_(
                (Task.acknowledged_at.is_(None)) & (Task.ack_due_at < now),
                Task.resolve_due_at < now,
            ),
        )
        .order_by(Task.id)
    ).all()
    for task in overdue:
        missed: Missed = "acknowledge" if task.acknowledged_at is None else "resolve"
        task.escalated_at = now
        _record(session, task, now, "hub", "escalated", note=MISSED_NOTES[missed])
        team = team_view(session, team_id=task.team_id)
        _notify(session, task, team, reason="escalated", role=Role.ESCALATION, now=now)
    return [t.id for t in overdue]


def _notify(
    session: Session, task: Task, team: TeamView, *, reason: str, role: Role, now: datetime
) -> None:
    """Queue the notice for the team's members of `role` (or, when it has none, the others:
    a team without an escalation contact still hears of its own escalations)."""
    members: list[Member] = team.reachable(role) or list(team.members)
    session.add_all(
        TaskNotification(
            task_id=task.id,
            member_id=m.id,
            reason=reason,
            state="pending",
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
        for m in members
    )


def _record(
    session: Session,
    task: Task,
    now: datetime,
    actor: str,
    action: str,
    *,
    note: str,
    alert_id: int | None = None,
) -> None:
    session.add(
        TaskEvent(
            task_id=task.id,
            at=now,
            actor=_actor(actor),
            action=action,
            note=note,
            alert_id=alert_id,
        )
    )


def _task(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise TaskError(f"no task {task_id}")
    return task


def _room_for_a_note(session: Session, task: Task) -> None:
    if history_length(session, task_id=task.id) >= MAX_EVENTS_PER_TASK:
        raise HistoryFullError(
            f"task {task.id} has {MAX_EVENTS_PER_TASK} entries in its history; it takes no more"
            " notes"
        )


def _not_resolved(task: Task) -> None:
    if task.resolved_at is not None:
        raise TaskError(f"task {task.id} is resolved already")


def _actor(actor: str) -> str:
    """Who acted, as stored: a member's name with " (by link)" may run past the column."""
    return actor[:MAX_ACTOR_CHARS]


def _note(note: str) -> str:
    return _text(note, what="a note", limit=MAX_NOTE_CHARS)


def _text(text: str, *, what: str, limit: int) -> str:
    text = text.strip()
    if len(text) > limit:
        raise TaskError(f"{what} has at most {limit} characters, not {len(text)}")
    try:
        return printable(text.replace("\r\n", "\n").replace("\n", " "), what=what, prose=True)
    except ConfigError as exc:  # a TaskError, so that a page shows it as it shows the others
        raise TaskError(str(exc)) from None


def _unresolved(session: Session, *, team_id: str, location_id: str) -> Task | None:
    return session.scalars(
        select(Task)
        .where(Task.team_id == team_id, Task.location_id == location_id, Task.state != "resolved")
        .order_by(Task.id)
        .limit(1)
    ).first()


def _unresolved_count(session: Session, *, team_id: str | None = None) -> int:
    query = select(func.count()).where(Task.state != "resolved")
    if team_id is not None:
        query = query.where(Task.team_id == team_id)
    return session.scalar(query) or 0


def _full(session: Session, *, team_id: str) -> str | None:
    """Why no task may open for the team now (its own limit, or the hub's); None if one may."""
    if _unresolved_count(session, team_id=team_id) >= MAX_OPEN_TASKS_PER_TEAM:
        return f"team {team_id!r} has {MAX_OPEN_TASKS_PER_TEAM} unresolved tasks"
    if _unresolved_count(session) >= MAX_OPEN_TASKS:
        return f"{MAX_OPEN_TASKS} tasks are unresolved"
    return None


def _time_zone(session: Session, location_id: str) -> str:
    location = session.get(Location, location_id)
    return location.time_zone if location else "UTC"


def task_view(session: Session, *, task_id: int) -> TaskView:
    views = _views(session, [_task(session, task_id)])
    return views[0]


def list_tasks(
    session: Session,
    *,
    within: Collection[str] | None = None,
    listing: Listing = "unresolved",
    team_id: str | None = None,
    since: datetime | None = None,
    limit: int = 200,
) -> list[TaskView]:
    """Newest first; `within` limits them to those places."""
    query = select(Task).order_by(Task.opened_at.desc(), Task.id.desc()).limit(limit)
    if within is not None:
        query = query.where(Task.location_id.in_(within))
    if team_id is not None:
        query = query.where(Task.team_id == team_id)
    if since is not None:
        query = query.where(Task.opened_at >= since)
    if listing == "unresolved":
        query = query.where(Task.state != "resolved")
    elif listing == "escalated":
        query = query.where(Task.escalated_at.is_not(None))
    elif listing != "all":
        query = query.where(Task.state == listing)
    return _views(session, list(session.scalars(query)))


def history(session: Session, *, task_id: int, latest: int | None = None) -> list[HistoryEntry]:
    """Oldest first; with `latest`, only that many of the newest entries."""
    query = select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id.desc())
    if latest is not None:
        query = query.limit(latest)
    rows = list(session.scalars(query))
    rows.reverse()
    return [HistoryEntry(r.at, r.actor, r.action, r.note, r.alert_id) for r in rows]


def history_length(session: Session, *, task_id: int) -> int:
    return session.scalar(select(func.count()).where(TaskEvent.task_id == task_id)) or 0


def _views(session: Session, tasks: list[Task]) -> list[TaskView]:
    places = {
        loc: (name, tz)
        for loc, name, tz in session.execute(
            select(Location.location_id, Location.name, Location.time_zone).where(
                Location.location_id.in_({t.location_id for t in tasks})
            )
        )
    }
    # not dict(result): a Result has keys(), so dict() would take it for a mapping
    teams = {
        team_id: name
        for team_id, name in session.execute(
            select(Team.team_id, Team.name).where(Team.team_id.in_({t.team_id for t in tasks}))
        )
    }
    return [_view(t, places.get(t.location_id, (t.location_id, "UTC")), teams) for t in tasks]


def _view(task: Task, place: tuple[str, str], teams: dict[str, str]) -> TaskView:
    measured = task.before_total is not None and task.after_total is not None
    return TaskView(
        id=task.id,
        team_id=task.team_id,
        team_name=teams.get(task.team_id, task.team_id),
        location_id=task.location_id,
        location_name=place[0],
        time_zone=zone(place[1]).key,
        device_id=task.device_id,
        alert_id=task.alert_id,
        title=task.title,
        detail=task.detail,
        negative_share=task.negative_share,
        responses=task.responses,
        window_min=task.window_min,
        state=task.state,  # type: ignore[arg-type]
        opened_at=task.opened_at,
        opened_by=task.opened_by,
        ack_due_at=task.ack_due_at,
        resolve_due_at=task.resolve_due_at,
        acknowledged_at=task.acknowledged_at,
        acknowledged_by=task.acknowledged_by,
        resolved_at=task.resolved_at,
        resolved_by=task.resolved_by,
        escalated_at=task.escalated_at,
        before=(task.before_unhappy or 0, task.before_total or 0) if measured else None,
        after=(task.after_unhappy or 0, task.after_total or 0) if measured else None,
        recovery=task.recovery,
    )
