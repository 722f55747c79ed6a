"""Figures per team and place over a real database: medians, nearest-rank p90, the shares in
time (a task still within its due time is not judged) and the share recovered."""

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub.models import Task
from hub.rollups.buckets import Period
from hub.tasks.records import acknowledge, escalate_overdue, open_by_hand, resolve
from hub.tasks.stats import TaskFigures, p90, task_figures
from hub.tasks.teams import Route
from tests.hub.factories import NOON
from tests.hub.tasks.conftest import TeamMaker

MIN = timedelta(minutes=1)
HOUR = 60 * MIN
NOW = NOON + 6 * HOUR


def test_p90_is_the_nearest_rank() -> None:
    assert p90([]) is None
    assert p90([7.0]) == 7.0
    assert p90([float(v) for v in range(10, 0, -1)]) == 9.0  # rank ceil(0.9 * 10) = 9
    assert p90([float(v) for v in range(1, 12)]) == 10.0  # rank ceil(9.9) = 10
    assert p90([float(v) for v in range(1, 21)]) == 18.0
    assert p90([1.0, 2.0, 3.0]) == 3.0  # rank ceil(2.7) = 3


@pytest.fixture
def figures(places: sessionmaker[Session], teams: TeamMaker) -> sessionmaker[Session]:
    """Cleaning (15 min to acknowledge, 60 to resolve) at gate-a and gate-b, and security."""
    teams("cleaning", members=[(Route.EMAIL, "a@example.org")])
    teams("security", members=[(Route.EMAIL, "b@example.org")])
    with places.begin() as session:

        def task(team: str, place: str, at: timedelta) -> int:
            return open_by_hand(
                session, team_id=team, location_id=place, title="x", by="max", now=NOON + at
            )

        early = task("cleaning", "gate-a", -HOUR)  # before the period
        a1 = task("cleaning", "gate-a", 0 * HOUR)
        a2 = task("cleaning", "gate-a", 1 * HOUR)
        a3 = task("cleaning", "gate-a", 2 * HOUR)
        b1 = task("cleaning", "gate-b", 4 * HOUR)
        task("cleaning", "gate-b", 5 * HOUR + 45 * MIN)  # due to be acknowledged just now
        s1 = task("security", "gate-a", 3 * HOUR)

        def act(task_id: int, ack: timedelta | None, done: timedelta | None) -> None:
            opened = session.get(Task, task_id)
            assert opened is not None
            if ack is not None:
                acknowledge(session, task_id=task_id, actor="ann", now=opened.opened_at + ack)
            if done is not None:
                resolve(session, task_id=task_id, actor="ann", now=opened.opened_at + done)

        act(early, MIN, MIN)
        act(a1, 5 * MIN, 30 * MIN)  # in time
        assert escalate_overdue(session, now=NOON + HOUR + 16 * MIN) == [a2]
        act(a2, 20 * MIN, 90 * MIN)  # late, twice
        act(a3, None, 10 * MIN)  # acknowledged as it was resolved
        act(b1, 15 * MIN, None)  # at its due time: in time; not resolved by its due time
        act(s1, MIN, None)
        for task_id, recovery in ((a1, "recovered"), (a2, "too_few"), (a3, "not_recovered")):
            row = session.get(Task, task_id)
            assert row is not None
            row.recovery = recovery
    return places


def row(rows: list[TaskFigures], team_id: str, location_id: str | None) -> TaskFigures:
    [found] = [r for r in rows if (r.team_id, r.location_id) == (team_id, location_id)]
    return found


def test_figures_per_team_and_place(figures: sessionmaker[Session]) -> None:
    with figures() as session:
        rows = task_figures(session, period=Period(NOON, NOW), now=NOW)
    assert [(r.team_id, r.location_id, r.location_name) for r in rows] == [
        ("cleaning", "gate-a", "GATE-A"),
        ("cleaning", "gate-b", "GATE-B"),
        ("cleaning", None, None),  # the team's total after its places
        ("security", "gate-a", "GATE-A"),
        ("security", None, None),
    ]
    a = row(rows, "cleaning", "gate-a")
    assert (a.team_name, a.tasks, a.acknowledged, a.resolved, a.escalated) == (
        "Cleaning",
        3,
        3,
        3,
        1,
    )
    # to acknowledge 5, 20, 10 min; to resolve 30, 90, 10 min
    assert (a.ack_median_min, a.ack_p90_min) == (10, 20)
    assert (a.resolve_median_min, a.resolve_p90_min) == (30, 90)
    assert a.ack_in_time == a.resolve_in_time == pytest.approx(2 / 3)
    assert (a.recovered, a.not_recovered, a.too_few, a.recovered_share) == (1, 1, 1, 0.5)
    b = row(rows, "cleaning", "gate-b")
    # the task opened at 17:45 is due to be acknowledged at 18:00, now: not judged yet
    assert (b.tasks, b.acknowledged, b.resolved) == (2, 1, 0)
    assert (b.ack_median_min, b.ack_p90_min, b.resolve_median_min) == (15, 15, None)
    assert (b.ack_in_time, b.resolve_in_time) == (1.0, 0.0)
    assert (b.recovered, b.not_recovered, b.too_few, b.recovered_share) == (0, 0, 0, None)
    total = row(rows, "cleaning", None)
    assert (total.tasks, total.acknowledged, total.resolved, total.escalated) == (5, 4, 3, 1)
    assert (total.ack_median_min, total.ack_p90_min) == (12.5, 20)  # 5, 10, 15, 20
    assert (total.ack_in_time, total.resolve_in_time) == (0.75, 0.5)
    assert total.recovered_share == 0.5
    security = row(rows, "security", None)
    assert (security.tasks, security.ack_median_min, security.ack_in_time) == (1, 1, 1.0)
    assert security.resolve_in_time == 0.0  # due at 16:00, not resolved: judged late
    assert security.resolve_median_min is None


def test_figures_within_places_and_a_period(figures: sessionmaker[Session]) -> None:
    with figures() as session:
        rows = task_figures(session, period=Period(NOON, NOW), now=NOW, within={"gate-b"})
        later = task_figures(session, period=Period(NOON + 4 * HOUR, NOW), now=NOW)
        nothing = task_figures(session, period=Period(NOW, NOW + HOUR), now=NOW)
    assert [(r.team_id, r.location_id, r.tasks) for r in rows] == [
        ("cleaning", "gate-b", 2),
        ("cleaning", None, 2),
    ]
    assert [(r.team_id, r.location_id, r.tasks) for r in later] == [
        ("cleaning", "gate-b", 2),
        ("cleaning", None, 2),
    ]
    assert nothing == []
