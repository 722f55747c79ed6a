"""CSV exports of tasks (a row per task: its times, state, who acted, its recovery with the
counts before and after) and of the task figures (per team and place, then each team's
total), as generators of text chunks.

Tasks are read in chunks, oldest first, as the responses are; times are ISO 8601 UTC and
again in the place's own time zone. Every cell goes through `csv_lines`, which writes a
text a spreadsheet would run as a formula (a title typed `=HYPERLINK(…)`) with a `'`
before it.
"""

from collections.abc import Collection, Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.alerts.rules import zone
from hub.models import Location, Task, Team
from hub.reporting.exports import CHUNK_ROWS, csv_lines
from hub.rollups.buckets import Period
from hub.tasks.recovery import Share, change
from hub.tasks.stats import TaskFigures, task_figures

TASK_COLUMNS = (
    "task_id",
    "team_id",
    "team_name",
    "location_id",
    "location_name",
    "time_zone",
    "device_id",
    "alert_id",
    "title",
    "state",
    "escalated",
    "opened_by",
    "opened_at_utc",
    "opened_at_local",
    "ack_due_at_utc",
    "acknowledged_at_utc",
    "acknowledged_at_local",
    "acknowledged_by",
    "minutes_to_acknowledge",
    "resolve_due_at_utc",
    "resolved_at_utc",
    "resolved_at_local",
    "resolved_by",
    "minutes_to_resolve",
    "escalated_at_utc",
    "negative_share_at_opening",
    "responses_at_opening",
    "window_min",
    "before_unhappy",
    "before_total",
    "before_share",
    "after_unhappy",
    "after_total",
    "after_share",
    "change",
    "change_ci_low",
    "change_ci_high",
    "recovery",
)
FIGURE_COLUMNS = (
    "team_id",
    "team_name",
    "location_id",
    "location_name",
    "since_utc",
    "until_utc",
    "tasks",
    "acknowledged",
    "resolved",
    "escalated",
    "ack_median_min",
    "ack_p90_min",
    "resolve_median_min",
    "resolve_p90_min",
    "ack_in_time_share",
    "resolve_in_time_share",
    "recovered",
    "not_recovered",
    "too_few",
    "recovered_share",
)
"""A team's total has empty location cells."""


def tasks_csv(session: Session, locations: Collection[str], period: Period) -> Iterator[str]:
    """Every task opened at the locations in the period, oldest first; header first."""
    places = {
        loc.location_id: (loc.name, zone(loc.time_zone))
        for loc in session.scalars(select(Location).where(Location.location_id.in_(locations)))
    }
    teams = dict(session.execute(select(Team.team_id, Team.name)).all())
    yield csv_lines([TASK_COLUMNS])
    statement = (
        select(Task)
        .where(
            Task.location_id.in_(sorted(places)),
            Task.opened_at >= period.since,
            Task.opened_at < period.until,
        )
        .order_by(Task.opened_at, Task.id)
        .execution_options(yield_per=CHUNK_ROWS)  # a server-side cursor on PostgreSQL
    )
    for chunk in session.scalars(statement).partitions():
        yield csv_lines(_task_row(t, *places[t.location_id], teams) for t in chunk)


def _task_row(task: Task, name: str, place_zone: ZoneInfo, teams: dict[str, str]) -> list[Any]:
    return [
        task.id,
        task.team_id,
        teams.get(task.team_id, task.team_id),
        task.location_id,
        name,
        place_zone.key,
        task.device_id or "",
        _blank(task.alert_id),
        task.title,
        task.state,
        "true" if task.escalated_at else "false",
        task.opened_by,
        _utc(task.opened_at),
        _local(task.opened_at, place_zone),
        _utc(task.ack_due_at),
        _utc(task.acknowledged_at),
        _local(task.acknowledged_at, place_zone),
        task.acknowledged_by or "",
        _minutes(task.opened_at, task.acknowledged_at),
        _utc(task.resolve_due_at),
        _utc(task.resolved_at),
        _local(task.resolved_at, place_zone),
        task.resolved_by or "",
        _minutes(task.opened_at, task.resolved_at),
        _utc(task.escalated_at),
        _share(task.negative_share),
        _blank(task.responses),
        task.window_min,
        *_recovery_cells(task),
    ]


def _recovery_cells(task: Task) -> list[Any]:
    """before's and after's counts and shares, the change with its interval, the verdict;
    all empty until the task is measured."""
    if task.before_total is None or task.after_total is None:
        return [""] * 10
    before = Share(task.before_unhappy or 0, task.before_total)
    after = Share(task.after_unhappy or 0, task.after_total)
    measured = change(before, after)
    moved = (None,) * 3 if measured is None else (measured.difference, measured.low, measured.high)
    return [
        before.unhappy,
        before.total,
        _share(before.value if before.total else None),
        after.unhappy,
        after.total,
        _share(after.value if after.total else None),
        *(_share(v) for v in moved),
        task.recovery or "",
    ]


def figures_csv(
    session: Session, locations: Collection[str], period: Period, now: datetime
) -> Iterator[str]:
    """The task figures of the tasks opened at the locations in the period; header first."""
    rows = task_figures(session, period=period, now=now, within=locations)
    since, until = _utc(period.since), _utc(period.until)
    yield csv_lines([FIGURE_COLUMNS])
    yield csv_lines(_figure_row(row, since, until) for row in rows)


def _figure_row(row: TaskFigures, since: str, until: str) -> list[Any]:
    return [
        row.team_id,
        row.team_name,
        row.location_id or "",
        row.location_name or "",
        since,
        until,
        row.tasks,
        row.acknowledged,
        row.resolved,
        row.escalated,
        _round(row.ack_median_min),
        _round(row.ack_p90_min),
        _round(row.resolve_median_min),
        _round(row.resolve_p90_min),
        _share(row.ack_in_time),
        _share(row.resolve_in_time),
        row.recovered,
        row.not_recovered,
        row.too_few,
        _share(row.recovered_share),
    ]


def _utc(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _local(moment: datetime | None, place_zone: ZoneInfo) -> str:
    return "" if moment is None else moment.astimezone(place_zone).isoformat()


def _minutes(start: datetime, end: datetime | None) -> object:
    return "" if end is None else _round((end - start).total_seconds() / 60)


def _round(value: float | None) -> object:
    return "" if value is None else round(value, 2)


def _share(value: float | None) -> object:
    return "" if value is None else round(value, 4)


def _blank(value: object) -> object:
    return "" if value is None else value
