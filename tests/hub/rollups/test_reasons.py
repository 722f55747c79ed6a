"""Reasons rollups: whatever order presses and follow-ups arrive in (a follow-up before its
press, redelivered, answered anew, of the wrong question, from another kiosk, of a misuse
press), the reasons read from the rollups equal those computed from the raw rows as the hub
did before (tests/hub/rollups/raw_reasons.py), over any period, and the rollups equal a
recount of the raw rows."""

import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from hub.db import alembic_config, make_engine, migrate, session_factory
from hub.hierarchy import LocationTree
from hub.ingest import store
from hub.models import (
    DailyRollup,
    Event,
    FollowUpAnswer,
    HourlyRollup,
    Location,
    MonthlyRollup,
    ReasonDailyRollup,
    ReasonHourlyRollup,
    ReasonMonthlyRollup,
    SubtreeHourlyRollup,
    SubtreeReasonDay,
    observations,
)
from hub.reporting.reasons import reasons, top_negative_reasons
from hub.rollups.buckets import Period
from hub.rollups.checks import reason_mismatches
from hub.rollups.reasons import graft_reasons, rebuild_reasons
from hub.surveys.store import create_survey
from protocol.messages import BUTTONS, FollowUp, PressEvent
from tests.hub.factories import place
from tests.hub.rollups.raw_reasons import raw_reasons, raw_top_negative_reasons
from tests.hub.surveys.survey_files import SECURITY, security

START = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
"""An hour and a half before midnight in Kolkata (+05:30): its local days cut UTC hours."""
SPAN_MIN = 2 * 24 * 60
KOLKATA_MIDNIGHT = datetime(2026, 11, 20, 18, 30, tzinfo=UTC)
"""The first local midnight of the site (Asia/Kolkata) after START."""
DEVICES = {"k1": "t1", "k2": "t2", "k3": "solo"}
PLACES = ("s", "t1", "t2", "solo")
OPTIONS = {
    "negative": [None, "queue", "staff", "cleanliness", "other"],
    "positive": [None, "fast", "friendly", "other"],
}
"""None: shown, not answered; `other` is no option of the survey."""
RESET = (
    FollowUpAnswer,
    Event,
    HourlyRollup,
    DailyRollup,
    MonthlyRollup,
    SubtreeHourlyRollup,
    ReasonHourlyRollup,
    ReasonDailyRollup,
    ReasonMonthlyRollup,
    SubtreeReasonDay,
)


@dataclass(frozen=True)
class Case:
    presses: list[PressEvent]
    followups: list[FollowUp]
    batches: list[tuple[list[PressEvent], list[FollowUp], bool]]
    """Each a transaction: its presses and follow-ups, and whether follow-ups go first."""
    periods: list[Period]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    presses = []
    for i in range(draw(st.integers(1, 16))):
        device = draw(st.sampled_from(sorted(DEVICES)))
        presses.append(
            PressEvent(
                event_id=f"e{i}",
                device_id=device,
                location_id=DEVICES[device],
                seq=i + 1,
                occurred_at=START
                + timedelta(
                    minutes=draw(st.integers(0, SPAN_MIN)), seconds=draw(st.integers(0, 59))
                ),
                button=draw(st.sampled_from(BUTTONS)),
                misuse=draw(st.integers(0, 7)) == 0,
                survey_id="security",
                survey_version=1,
            )
        )
    followups = []
    targets: list[PressEvent | None] = [
        p for p in presses for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2, 3])))
    ]
    targets += [None] * draw(st.integers(0, 2))  # answering a press never stored
    for i, pressed in enumerate(targets):
        own_device = pressed.device_id if pressed else "k1"
        device = own_device if draw(st.integers(0, 5)) else draw(st.sampled_from(sorted(DEVICES)))
        negative = pressed is not None and pressed.button.value in ("unhappy", "very_unhappy")
        question = "negative" if negative else "positive"
        if draw(st.integers(0, 5)) == 0:
            question = "positive" if negative else "negative"  # not its press's question
        at = pressed.occurred_at if pressed else START
        followups.append(
            FollowUp(
                followup_id=f"f{draw(st.integers(0, 3))}-{i}",  # ties in time: the id decides
                event_id=pressed.event_id if pressed else "e-missing",
                device_id=device,
                location_id=DEVICES[device],
                survey_id="security",
                survey_version=draw(st.integers(1, 2)),
                question=question,
                option=draw(st.sampled_from(OPTIONS[question])),
                language="en",
                answered_at=at + timedelta(seconds=draw(st.sampled_from([2, 2, 5, 40, 600]))),
            )
        )
    items: list[PressEvent | FollowUp] = [*presses, *followups]
    items += draw(st.lists(st.sampled_from(items), max_size=4))  # redelivered
    items = draw(st.permutations(items))
    cuts = sorted(draw(st.lists(st.integers(0, len(items)), max_size=4)))
    batches = []
    for first, last in zip([0, *cuts], [*cuts, len(items)], strict=True):
        chunk = items[first:last]
        batches.append(
            (
                [p for p in chunk if isinstance(p, PressEvent)],
                [f for f in chunk if isinstance(f, FollowUp)],
                draw(st.booleans()),
            )
        )
    since = START + timedelta(minutes=draw(st.integers(-60, SPAN_MIN)))
    until = since + timedelta(minutes=draw(st.integers(1, SPAN_MIN)))
    everything = Period(START - timedelta(hours=1), START + timedelta(days=4))
    after_midnight = KOLKATA_MIDNIGHT + timedelta(minutes=draw(st.integers(1, 300)))
    before_midnight = KOLKATA_MIDNIGHT + timedelta(days=1, minutes=-draw(st.integers(1, 300)))
    return Case(
        presses,
        followups,
        batches,
        [
            everything,
            Period(since, until),
            Period(after_midnight, everything.until),
            Period(everything.since, before_midnight),
        ],
    )


def _places(session: Session) -> None:
    place(session, "s", kind="site", time_zone="Asia/Kolkata")
    place(session, "t1", parent="s", time_zone="Europe/Helsinki")
    place(session, "t2", parent="s", time_zone="Asia/Kolkata")
    place(session, "solo", time_zone="UTC")
    now = START - timedelta(days=1)
    create_survey(session, parsed=security(), by="ana", now=now)
    # version 2 asks in other words, its options keep theirs: labels agree whichever is read
    again = SECURITY.replace('en = "What went wrong?"', 'en = "What went badly?"')
    create_survey(session, parsed=security(again), by="ana", now=now)


def _reset(session: Session) -> None:
    session.execute(delete(observations))
    for model in RESET:
        session.execute(delete(model))


def _store(sessions: sessionmaker[Session], case: Case) -> None:
    received = START + timedelta(days=5)
    for presses, followups, followups_first in case.batches:
        with sessions.begin() as session:
            if followups_first:
                store.store_followups(session, followups=followups, received_at=received)
            store.store_events(session, events=presses, received_at=received)
            if not followups_first:
                store.store_followups(session, followups=followups, received_at=received)


def _assert_as_raw(sessions: sessionmaker[Session], case: Case) -> None:
    with sessions() as session:
        tree = LocationTree.load(session)
        for period in case.periods:
            for location_id in PLACES:
                expected = raw_reasons(session, tree=tree, location_id=location_id, period=period)
                found = reasons(session, tree=tree, location_id=location_id, period=period)
                assert found == expected, (location_id, period)
            visible = set(PLACES)
            expected_tops = raw_top_negative_reasons(
                session, tree=tree, visible=visible, period=period
            )
            assert top_negative_reasons(session, tree=tree, visible=visible, period=period) == (
                expected_tops
            )
        assert reason_mismatches(session, location_ids=PLACES) == 0


@pytest.fixture
def sqlite_sessions(sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(sqlite_url)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        _places(session)
    yield sessions
    engine.dispose()


@pytest.fixture
def postgres_sessions(postgres_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(postgres_url)
    migrate(engine)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        _places(session)
    yield sessions
    engine.dispose()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=cases())
def test_reasons_from_rollups_equal_the_raw_reasons_on_sqlite(
    sqlite_sessions: sessionmaker[Session], case: Case
) -> None:
    with sqlite_sessions.begin() as session:
        _reset(session)
    _store(sqlite_sessions, case)
    _assert_as_raw(sqlite_sessions, case)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=cases())
def test_reasons_from_rollups_equal_the_raw_reasons_on_postgresql(
    postgres_sessions: sessionmaker[Session], case: Case
) -> None:
    with postgres_sessions.begin() as session:
        _reset(session)
    _store(postgres_sessions, case)
    _assert_as_raw(postgres_sessions, case)


def _seeded(rng: random.Random, count: int) -> Case:
    """Presses and follow-ups like the property test's, from one seed, in batches of 25."""
    presses = []
    for i in range(count):
        device = rng.choice(sorted(DEVICES))
        presses.append(
            PressEvent(
                event_id=f"e{i}",
                device_id=device,
                location_id=DEVICES[device],
                seq=i + 1,
                occurred_at=START + timedelta(seconds=rng.randrange(SPAN_MIN * 60)),
                button=rng.choice(BUTTONS),
                misuse=rng.random() < 0.1,
                survey_id="security",
                survey_version=1,
            )
        )
    followups = []
    for i, pressed in enumerate(p for p in presses for _ in range(rng.choice([0, 1, 1, 2]))):
        negative = pressed.button.value in ("unhappy", "very_unhappy")
        question = "negative" if negative else "positive"
        if rng.random() < 0.1:
            question = "positive" if negative else "negative"
        followups.append(
            FollowUp(
                followup_id=f"f{i:04d}",
                event_id=pressed.event_id,
                device_id=pressed.device_id,
                location_id=pressed.location_id,
                survey_id="security",
                survey_version=rng.choice([1, 2]),
                question=question,
                option=rng.choice(OPTIONS[question]),
                language="en",
                answered_at=pressed.occurred_at + timedelta(seconds=rng.choice([2, 5, 40])),
            )
        )
    items: list[PressEvent | FollowUp] = [*presses, *followups]
    rng.shuffle(items)
    batches = [
        (
            [p for p in items[i : i + 25] if isinstance(p, PressEvent)],
            [f for f in items[i : i + 25] if isinstance(f, FollowUp)],
            rng.random() < 0.5,
        )
        for i in range(0, len(items), 25)
    ]
    everything = Period(START - timedelta(hours=1), START + timedelta(days=4))
    return Case(presses, followups, batches, [everything])


Snapshot = dict[str, set[tuple[object, ...]]]


def _snapshot(session: Session) -> Snapshot:
    """Every reasons rollup's non-zero rows."""
    tables = (ReasonHourlyRollup, ReasonDailyRollup, ReasonMonthlyRollup, SubtreeReasonDay)
    return {
        model.__tablename__: {
            tuple(row) for row in session.execute(select(model.__table__)) if row[-1]
        }
        for model in tables
    }


def test_a_rebuild_counts_what_ingest_counted(sqlite_sessions: sessionmaker[Session]) -> None:
    case = _seeded(random.Random(3), 120)
    _store(sqlite_sessions, case)
    with sqlite_sessions.begin() as session:
        kept = _snapshot(session)
        rebuild_reasons(session)
    with sqlite_sessions() as session:
        assert _snapshot(session) == kept
        assert sum(len(rows) for rows in kept.values()) > 100


def test_the_migration_fills_the_rollups_from_the_stored_rows(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        _places(session)
    case = _seeded(random.Random(5), 80)
    _store(sessions, case)
    with sessions() as session:
        kept = _snapshot(session)
    config = alembic_config(engine)
    command.downgrade(config, "0012")
    command.upgrade(config, "head")
    with sessions() as session:
        assert _snapshot(session) == kept
        assert reason_mismatches(session, location_ids=PLACES) == 0


def test_a_place_s_new_time_zone_and_a_grafted_place_are_counted_again(
    sqlite_sessions: sessionmaker[Session],
) -> None:
    case = _seeded(random.Random(7), 80)
    _store(sqlite_sessions, case)
    with sqlite_sessions.begin() as session:
        store.add_location(session, location_id="s", name="S", time_zone="America/St_Johns")
    with sqlite_sessions.begin() as session:
        solo = session.get(Location, "solo")
        assert solo is not None
        solo.parent_id = "s"
        session.flush()
        graft_reasons(session, location_id="solo")
    _assert_as_raw(sqlite_sessions, case)
    with sqlite_sessions() as session:
        tree = LocationTree.load(session)
        site = reasons(session, tree=tree, location_id="s", period=case.periods[0])
        assert site.negative.followups + site.positive.followups > 20


@pytest.mark.parametrize("first", ["press", "follow-up"])
def test_a_press_and_its_follow_up_stored_at_once_by_two_workers_count_once(
    postgres_sessions: sessionmaker[Session], first: str
) -> None:
    """PostgreSQL, read committed: one worker stores a press (or its follow-up) and has not
    committed when another stores the follow-up (or the press); the second waits for the
    first, so it sees what the first stored and counts the press."""
    case = _seeded(random.Random(11), 1)
    pressed = case.presses[0].model_copy(update={"button": BUTTONS[0], "misuse": False})
    followup = FollowUp(
        followup_id="f-1",
        event_id=pressed.event_id,
        device_id=pressed.device_id,
        location_id=pressed.location_id,
        survey_id="security",
        survey_version=1,
        question="positive",
        option="fast",
        language="en",
        answered_at=pressed.occurred_at + timedelta(seconds=3),
    )
    received = START + timedelta(days=5)

    def store_press(session: Session) -> None:
        store.store_events(session, events=[pressed], received_at=received)

    def store_followup(session: Session) -> None:
        store.store_followups(session, followups=[followup], received_at=received)

    early, late = (
        (store_press, store_followup) if first == "press" else (store_followup, store_press)
    )
    errors: list[BaseException] = []

    def second_worker() -> None:
        try:
            with postgres_sessions.begin() as session:
                late(session)
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    with postgres_sessions.begin() as session:
        early(session)
        worker = threading.Thread(target=second_worker)
        worker.start()
        worker.join(timeout=0.5)  # it waits for this transaction's lock
    worker.join()
    assert errors == []
    answered = Case([pressed], [followup], [], case.periods)
    _assert_as_raw(postgres_sessions, answered)
    with postgres_sessions() as session:
        tree = LocationTree.load(session)
        found = reasons(session, tree=tree, location_id=pressed.location_id, period=case.periods[0])
        assert found.positive.followups == 1
