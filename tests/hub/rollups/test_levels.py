"""Months, days, hours and raw presses: any period over several months counts exactly, and
every level can be counted again from the hourly one."""

import random
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from hub.ingest import store
from hub.models import DailyRollup, MonthlyRollup, SubtreeHourlyRollup
from hub.reporting.reports import location_scores
from hub.rollups.checks import rollup_mismatches
from hub.rollups.write import rebuild_from_hourly
from protocol.messages import PressEvent
from tests.hub.factories import NOON, place
from tests.hub.rollups.recount import expected_totals, random_presses, reported_totals

DAYS = 200
PLACES = ("gate-a", "gate-b")


def _stored(sessions: sessionmaker[Session], events: list[PressEvent]) -> None:
    with sessions.begin() as session:
        place(session, "hel", kind="site")
        for location_id in PLACES:
            place(session, location_id, parent="hel")
    for i in range(0, len(events), 101):
        with sessions.begin() as session:
            store.store_events(session, events=events[i : i + 101], received_at=NOON)


def test_periods_across_months_count_exactly(sessions: sessionmaker[Session]) -> None:
    events = random_presses(1200, seed=21, places=PLACES, days=DAYS)
    _stored(sessions, events)
    rng = random.Random(22)
    first = NOON - timedelta(days=DAYS)
    periods = [(first - timedelta(days=1), NOON + timedelta(days=1)), (None, None)]
    for _ in range(30):
        since = first + timedelta(minutes=rng.randrange(DAYS * 24 * 60))
        periods.append((since, since + timedelta(minutes=rng.randrange(1, 150 * 24 * 60))))
    with sessions() as session:
        for since, until in periods:
            scores = location_scores(session, since=since, until=until)
            expected = expected_totals(events, since, until)
            assert reported_totals(scores) == expected, (since, until)


def test_every_level_is_counted_again_from_the_hours(sessions: sessionmaker[Session]) -> None:
    _stored(sessions, random_presses(600, seed=23, places=PLACES, days=DAYS))
    with sessions.begin() as session:
        for model in (DailyRollup, MonthlyRollup, SubtreeHourlyRollup):
            session.execute(delete(model))
        assert rollup_mismatches(session, location_ids=["hel", *PLACES]) > 0
        rebuild_from_hourly(session)
    with sessions() as session:
        assert rollup_mismatches(session, location_ids=["hel", *PLACES]) == 0
