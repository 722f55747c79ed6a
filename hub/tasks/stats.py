"""How fast teams act and whether places recover: per team and place, over the tasks opened
in a period. Times are minutes from opening; p90 is the nearest-rank 90th percentile."""

import math
import statistics
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import Location, Task, Team
from hub.rollups.buckets import Period
from hub.tasks.recovery import Recovery


@dataclass(frozen=True)
class TaskFigures:
    team_id: str
    team_name: str
    location_id: str | None
    """None: the team's figures over all its places."""
    location_name: str | None
    tasks: int
    acknowledged: int
    resolved: int
    escalated: int
    ack_median_min: float | None
    ack_p90_min: float | None
    resolve_median_min: float | None
    resolve_p90_min: float | None
    ack_in_time: float | None
    """Share of the tasks whose time to acknowledge has passed that were acknowledged in it."""
    resolve_in_time: float | None
    recovered: int
    not_recovered: int
    too_few: int

    @property
    def recovered_share(self) -> float | None:
        """Of the tasks measured with enough answers, the share that recovered."""
        told = self.recovered + self.not_recovered
        return self.recovered / told if told else None


def task_figures(
    session: Session, *, period: Period, now: datetime, within: Collection[str] | None = None
) -> list[TaskFigures]:
    """A row per team and place, each team's total (location None) after its places."""
    query = select(Task).where(Task.opened_at >= period.since, Task.opened_at < period.until)
    if within is not None:
        query = query.where(Task.location_id.in_(within))
    tasks = list(session.scalars(query))
    # not dict(result): a Result has keys(), so dict() would take it for a mapping
    teams = {team_id: name for team_id, name in session.execute(select(Team.team_id, Team.name))}
    names = {
        location_id: name
        for location_id, name in session.execute(
            select(Location.location_id, Location.name).where(
                Location.location_id.in_({t.location_id for t in tasks})
            )
        )
    }
    grouped: dict[str, dict[str, list[Task]]] = defaultdict(lambda: defaultdict(list))
    for task in tasks:
        grouped[task.team_id][task.location_id].append(task)
    rows: list[TaskFigures] = []
    for team_id in sorted(grouped):
        team_name = teams.get(team_id, team_id)
        places = grouped[team_id]
        for location_id in sorted(places, key=lambda loc: names.get(loc, loc)):
            place = (location_id, names.get(location_id))
            rows.append(_figures((team_id, team_name), place, places[location_id], now))
        everything = [t for place in places.values() for t in place]
        rows.append(_figures((team_id, team_name), (None, None), everything, now))
    return rows


def _figures(
    team: tuple[str, str], place: tuple[str | None, str | None], tasks: list[Task], now: datetime
) -> TaskFigures:
    ack = [_minutes(t.opened_at, t.acknowledged_at) for t in tasks if t.acknowledged_at]
    done = [_minutes(t.opened_at, t.resolved_at) for t in tasks if t.resolved_at]
    verdicts = [t.recovery for t in tasks]
    return TaskFigures(
        team_id=team[0],
        team_name=team[1],
        location_id=place[0],
        location_name=place[1],
        tasks=len(tasks),
        acknowledged=len(ack),
        resolved=len(done),
        escalated=sum(t.escalated_at is not None for t in tasks),
        ack_median_min=_median(ack),
        ack_p90_min=p90(ack),
        resolve_median_min=_median(done),
        resolve_p90_min=p90(done),
        ack_in_time=_in_time(((t.acknowledged_at, t.ack_due_at) for t in tasks), now),
        resolve_in_time=_in_time(((t.resolved_at, t.resolve_due_at) for t in tasks), now),
        recovered=verdicts.count(Recovery.RECOVERED.value),
        not_recovered=verdicts.count(Recovery.NOT_RECOVERED.value),
        too_few=verdicts.count(Recovery.TOO_FEW.value),
    )


def _minutes(start: datetime, end: datetime | None) -> float:
    assert end is not None
    return (end - start).total_seconds() / 60


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def p90(values: list[float]) -> float | None:
    """The nearest-rank 90th percentile: the smallest value at least 90 % are at or below."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def _in_time(pairs: Iterable[tuple[datetime | None, datetime]], now: datetime) -> float | None:
    """Of the tasks done, or whose due time has passed, the share done by the due time (a
    task not done at its due time can still be done in time, as escalation waits too)."""
    judged = [(done, due) for done, due in pairs if done is not None or due < now]
    if not judged:
        return None
    return sum(done is not None and done <= due for done, due in judged) / len(judged)
