"""Did the fix work: Newcombe's interval against a hand calculation, and the windows before
the task and after its resolution over a real database."""

import math
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub.reporting.scores import wilson_interval
from hub.tasks.records import open_by_hand, resolve, task_view
from hub.tasks.recovery import Recovery, Share, change, measure_due, verdict
from hub.tasks.teams import Route
from protocol.messages import Button
from tests.hub.alerts.conftest import Presser
from tests.hub.factories import NOON
from tests.hub.tasks.conftest import TeamMaker

MIN = timedelta(minutes=1)
U, VU, H, VH = Button.UNHAPPY, Button.VERY_UNHAPPY, Button.HAPPY, Button.VERY_HAPPY


def test_wilson_intervals_as_worked_by_hand() -> None:
    # z = 1.96, z² = 3.8415; 8 of 10: centre (0.8 + 0.1921) / 1.3841 = 0.7167,
    # half 1.96 * sqrt(0.016 + 0.0096) / 1.3841 = 0.2266 -> 0.4902 .. 0.9433
    for (unhappy, total), (low, high) in (
        ((8, 10), (0.4902, 0.9433)),
        ((1, 10), (0.0179, 0.4042)),
        ((3, 10), (0.1078, 0.6032)),
        ((2, 10), (0.0567, 0.5098)),
    ):
        assert wilson_interval(unhappy, total) == pytest.approx((low, high), abs=1e-4)


def test_newcombe_interval_as_worked_by_hand() -> None:
    # before 8/10 (0.4902 .. 0.9433), after 1/10 (0.0179 .. 0.4042): d = 0.1 - 0.8 = -0.7
    # low  = d - sqrt((0.1 - 0.0179)² + (0.9433 - 0.8)²) = -0.7 - 0.1652 = -0.8652
    # high = d + sqrt((0.4042 - 0.1)² + (0.8 - 0.4902)²) = -0.7 + 0.4342 = -0.2658 < 0
    recovered = change(Share(8, 10), Share(1, 10))
    assert recovered is not None
    assert recovered.difference == pytest.approx(-0.7)
    assert recovered.low == pytest.approx(-0.7 - math.hypot(0.1 - 0.0179, 0.9433 - 0.8), abs=1e-4)
    assert recovered.high == pytest.approx(-0.7 + math.hypot(0.4042 - 0.1, 0.8 - 0.4902), abs=1e-4)
    assert (round(recovered.low, 4), round(recovered.high, 4)) == (-0.8652, -0.2658)
    # before 3/10 (0.1078 .. 0.6032), after 2/10 (0.0567 .. 0.5098): d = -0.1
    # high = -0.1 + sqrt((0.5098 - 0.2)² + (0.3 - 0.1078)²) = -0.1 + 0.3646 = 0.2646 >= 0
    unclear = change(Share(3, 10), Share(2, 10))
    assert unclear is not None
    assert (round(unclear.low, 4), round(unclear.high, 4)) == (-0.4354, 0.2646)
    assert change(Share(0, 0), Share(1, 10)) is None


@pytest.mark.parametrize(
    ("before", "after", "told"),
    [
        ((8, 10), (1, 10), Recovery.RECOVERED),
        ((3, 10), (2, 10), Recovery.NOT_RECOVERED),
        ((2, 10), (8, 10), Recovery.NOT_RECOVERED),  # worse
        ((0, 10), (0, 10), Recovery.NOT_RECOVERED),  # nothing to recover from
        ((8, 10), (1, 4), Recovery.TOO_FEW),  # 4 answers after
        ((4, 4), (0, 10), Recovery.TOO_FEW),  # 4 answers before
        ((4, 5), (0, 5), Recovery.RECOVERED),  # 5 answers each is enough
        ((0, 0), (0, 0), Recovery.TOO_FEW),
    ],
)
def test_verdict(before: tuple[int, int], after: tuple[int, int], told: Recovery) -> None:
    assert verdict(Share(*before), Share(*after)) is told


def test_no_answer_is_too_few_whatever_the_minimum() -> None:
    assert verdict(Share(0, 0), Share(0, 10), min_answers=0) is Recovery.TOO_FEW
    # all 3 unhappy (0.4385 .. 1) to none of 3 (0 .. 0.5615):
    # high = -1 + sqrt(0.5615² + (1 - 0.4385)²) = -1 + 0.7941 < 0
    assert verdict(Share(3, 3), Share(0, 3), min_answers=3) is Recovery.RECOVERED
    assert verdict(Share(2, 3), Share(0, 3), min_answers=3) is Recovery.NOT_RECOVERED


def opened_and_resolved(
    places: sessionmaker[Session], *, place: str, at: datetime, done: datetime, window: int
) -> int:
    with places.begin() as session:
        task = open_by_hand(
            session,
            team_id="cleaning",
            location_id=place,
            title="Dirty",
            by="max",
            now=at,
            window_min=window,
        )
        resolve(session, task_id=task, actor="ann", now=done)
    return task


def test_the_place_before_the_task_against_the_same_span_after_its_resolution(
    places: sessionmaker[Session], presses: Presser, teams: TeamMaker
) -> None:
    teams(members=[(Route.EMAIL, "a@example.org")])
    # before [11:45, 12:00): 8 unhappy of 10, the first at 11:45 itself
    presses([U] * 5 + [VU] * 3 + [H, VH], at=[NOON - 15 * MIN + i * MIN for i in range(10)])
    presses([H, H], at=[NOON - 16 * MIN, NOON])  # just outside it
    presses([U] * 3, at=[NOON - 5 * MIN] * 3, misuse=True)  # left out
    presses([U] * 4, at=[NOON + 10 * MIN] * 4)  # while the task was open: neither
    # after [12:30, 12:45): 1 unhappy of 10, from 12:30 itself
    presses([VU] + [H] * 9, at=[NOON + 30 * MIN + i * MIN for i in range(10)])
    presses([U, U], at=[NOON + 45 * MIN, NOON + 46 * MIN])  # just outside it
    presses([U] * 3, at=[NOON + 35 * MIN] * 3, misuse=True)
    task = opened_and_resolved(places, place="gate-a", at=NOON, done=NOON + 30 * MIN, window=15)
    with places.begin() as session:
        assert measure_due(session, now=NOON + 45 * MIN - timedelta(seconds=1)) == []
        assert task_view(session, task_id=task).recovery is None
    with places.begin() as session:
        assert measure_due(session, now=NOON + 45 * MIN) == [task]
    with places.begin() as session:
        assert measure_due(session, now=NOON + 90 * MIN) == []  # measured once
        view = task_view(session, task_id=task)
    assert (view.before, view.after, view.recovery) == ((8, 10), (1, 10), "recovered")


def test_not_recovered_and_too_few(
    places: sessionmaker[Session], presses: Presser, teams: TeamMaker
) -> None:
    teams(members=[(Route.EMAIL, "a@example.org")])
    presses([U] * 3 + [H] * 7, at=[NOON - 10 * MIN] * 10)
    presses([U] * 2 + [H] * 8, at=[NOON + 65 * MIN] * 10)
    presses([U] * 4 + [H] * 6, at=[NOON - 10 * MIN] * 10, location_id="gate-b")
    presses([H] * 4, at=[NOON + 65 * MIN] * 4, location_id="gate-b")
    same = opened_and_resolved(places, place="gate-a", at=NOON, done=NOON + 60 * MIN, window=60)
    few = opened_and_resolved(places, place="gate-b", at=NOON, done=NOON + 60 * MIN, window=60)
    with places.begin() as session:
        assert measure_due(session, now=NOON + 2 * 60 * MIN) == [same, few]
        views = [task_view(session, task_id=t) for t in (same, few)]
    assert [(v.before, v.after, v.recovery) for v in views] == [
        ((3, 10), (2, 10), "not_recovered"),
        ((4, 10), (0, 4), "too_few"),
    ]
    task = opened_and_resolved(
        places, place="gate-b", at=NOON + 3 * 60 * MIN, done=NOON + 3 * 60 * MIN, window=1
    )
    with places.begin() as session:  # the hub's setting can ask for fewer answers
        assert measure_due(session, now=NOON + 4 * 60 * MIN, min_answers=1) == [task]
        assert task_view(session, task_id=task).recovery == "too_few"  # no answer at all


def test_a_long_window_does_not_hold_up_the_short_ones(
    places: sessionmaker[Session], teams: TeamMaker
) -> None:
    teams(members=[(Route.EMAIL, "a@example.org")])
    day = opened_and_resolved(places, place="gate-a", at=NOON, done=NOON + MIN, window=24 * 60)
    hour = [
        opened_and_resolved(places, place="gate-b", at=NOON, done=NOON + 2 * MIN, window=60)
        for _ in range(2)
    ]
    with places.begin() as session:
        assert measure_due(session, now=NOON + 2 * 60 * MIN, limit=1) == hour[:1]
    with places.begin() as session:
        assert measure_due(session, now=NOON + 2 * 60 * MIN, limit=1) == hour[1:]
        assert measure_due(session, now=NOON + 2 * 60 * MIN, limit=1) == []
    with places.begin() as session:
        assert measure_due(session, now=NOON + 25 * 60 * MIN) == [day]


def test_an_unresolved_task_is_not_measured(
    places: sessionmaker[Session], teams: TeamMaker
) -> None:
    teams(members=[(Route.EMAIL, "a@example.org")])
    with places.begin() as session:
        open_by_hand(
            session, team_id="cleaning", location_id="gate-a", title="Bin", by="max", now=NOON
        )
    with places.begin() as session:
        assert measure_due(session, now=NOON + 24 * 60 * MIN) == []
