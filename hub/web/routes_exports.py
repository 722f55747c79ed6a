"""CSV exports for facility managers: raw responses, aggregated scores, the reasons given,
and the tasks with their figures, streamed."""

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from hub.hierarchy import LocationTree
from hub.reporting.exports import By, reasons_csv, responses_csv, scores_csv
from hub.reporting.task_exports import figures_csv, tasks_csv
from hub.rollups.buckets import Period
from hub.users import Principal
from hub.web.auth import Db, Manager, Now, web_context
from hub.web.routes_scores import Days, Since, Until, period_of, visible_tree

router = APIRouter()

Location = Annotated[
    str | None, Query(description="a location and everything beneath it (default: all yours)")
]


@router.get("/api/exports/responses.csv", tags=["exports"], response_class=StreamingResponse)
def export_responses(
    request: Request,
    session: Db,
    user: Manager,
    now: Now,
    location: Location = None,
    days: Days = 7,
    since: Since = None,
    until: Until = None,
) -> StreamingResponse:
    """Every press (misuse flagged) in the period, oldest first, times in UTC and local time."""
    _tree, locations = _selected(session, user, location)
    period = period_of(days, since, until, now=now)
    stream = _streamed(web_context(request).sessions, lambda s: responses_csv(s, locations, period))
    return _attachment(stream, export_file_name("responses", location, period))


@router.get("/api/exports/scores.csv", tags=["exports"], response_class=StreamingResponse)
def export_scores(
    request: Request,
    session: Db,
    user: Manager,
    now: Now,
    location: Location = None,
    by: Annotated[By, Query(description="one row per hour, day, week, or location")] = "day",
    days: Days = 7,
    since: Since = None,
    until: Until = None,
) -> StreamingResponse:
    """Scores of each location (with its subtree) per local hour, day or ISO week, or ranked."""
    tree, locations = _selected(session, user, location)
    period = period_of(days, since, until, now=now)
    stream = _streamed(
        web_context(request).sessions, lambda s: scores_csv(s, tree, locations, period, by)
    )
    return _attachment(stream, export_file_name(f"scores-by-{by}", location, period))


@router.get("/api/exports/reasons.csv", tags=["exports"], response_class=StreamingResponse)
def export_reasons(
    request: Request,
    session: Db,
    user: Manager,
    now: Now,
    location: Location = None,
    days: Days = 7,
    since: Since = None,
    until: Until = None,
) -> StreamingResponse:
    """The reasons given at each location (with its subtree) in the period: a row per
    question, survey version and option, with counts, shares and Wilson 95 % intervals."""
    tree, locations = _selected(session, user, location)
    period = period_of(days, since, until, now=now)
    stream = _streamed(
        web_context(request).sessions, lambda s: reasons_csv(s, tree, locations, period)
    )
    return _attachment(stream, export_file_name("reasons", location, period))


@router.get("/api/exports/tasks.csv", tags=["exports"], response_class=StreamingResponse)
def export_tasks(
    request: Request,
    session: Db,
    user: Manager,
    now: Now,
    location: Location = None,
    days: Days = 7,
    since: Since = None,
    until: Until = None,
) -> StreamingResponse:
    """Every task opened at the locations in the period, oldest first: its times (UTC and
    local), state, who acted, and its recovery with the counts before and after."""
    _tree, locations = _selected(session, user, location)
    period = period_of(days, since, until, now=now)
    stream = _streamed(web_context(request).sessions, lambda s: tasks_csv(s, locations, period))
    return _attachment(stream, export_file_name("tasks", location, period))


@router.get("/api/exports/task-figures.csv", tags=["exports"], response_class=StreamingResponse)
def export_task_figures(
    request: Request,
    session: Db,
    user: Manager,
    now: Now,
    location: Location = None,
    days: Days = 7,
    since: Since = None,
    until: Until = None,
) -> StreamingResponse:
    """Over the tasks opened in the period, per team and place and each team's total: tasks,
    median and p90 minutes to acknowledge and to resolve, shares in time and recovered."""
    _tree, locations = _selected(session, user, location)
    period = period_of(days, since, until, now=now)
    stream = _streamed(
        web_context(request).sessions, lambda s: figures_csv(s, locations, period, now)
    )
    return _attachment(stream, export_file_name("task-figures", location, period))


def _selected(
    session: Session, user: Principal, location: str | None
) -> tuple[LocationTree, set[str]]:
    """The locations asked for, among those the user may see (404 for any other)."""
    tree, visible = visible_tree(session, user)
    if location is None:
        return tree, visible
    if location not in visible:
        raise HTTPException(404, f"no location {location!r} among yours")
    return tree, tree.subtree(location)


def _streamed(
    sessions: sessionmaker[Session], export: Callable[[Session], Iterator[str]]
) -> Iterator[str]:
    """The export over a session of its own, open for as long as the response streams."""
    with sessions() as session:
        yield from export(session)


def _attachment(chunks: Iterator[str], file_name: str) -> StreamingResponse:
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{file_name}"'},
    )


def export_file_name(kind: str, location: str | None, period: Period) -> str:
    """seed-responses-hel-2026-11-16-2026-11-23.csv: safe in a header and on any disk."""
    place = re.sub(r"[^A-Za-z0-9._-]+", "_", location) if location else "all"
    return f"seed-{kind}-{place}-{_day(period.since)}-{_day(period.until)}.csv"


def _day(moment: datetime) -> str:
    return moment.date().isoformat()
