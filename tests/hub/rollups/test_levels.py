"""Months, days, hours and raw presses: any period over several months counts exactly, and
every level can be counted again from the hourly one."""

import random
from collections import Counter
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from hub.ingest import store
from hub.models import DailyRollup, MonthlyRollup, SubtreeHourlyRollup
from hub.reporting.reports import location_scores
from hub.rollups.checks import rollup_mismatches
from hub.rollups.write import rebuild_from_hourly
from protocol.messages import BUTTONS, PressEvent
from tests.hub.factories import NOON, place, press

DAYS = 200
PLACES = ("gate-a", "gate-b")


def _presses(count: int, seed: int) -> list[PressEvent]:
    rng = random.Random(seed)
    start = NOON - timedelta(days=DAYS)
    return [
        press(
            rng.choice(BUTTONS),
            location_id=rng.choice(PLACES),
            seq=seq,
            at=start + timedelta(seconds=rng.randrange(DAYS * 86_400)),
            misuse=rng.random() < 0.1,
        )
        for seq in range(1, count + 1)
    ]


def _stored(sessions: sessionmaker[Session], events: list[PressEvent]) -> None:
    with sessions.begin() as session:
        place(session, "hel", kind="site")
        for location_id in PLACES:
            place(session, location_id, parent="hel")
    for i in range(0, len(events), 101):
        with sessions.begin() as session:
            store.store_events(session, events=events[i : i + 101], received_at=NOON)


def test_periods_across_months_count_exactly(sessions: sessionmaker[Session]) -> None:
    events = _presses(1200, seed=21)
    _stored(sessions, events)
    rng = random.Random(22)
    first = NOON - timedelta(days=DAYS)
    periods = [(first - timedelta(days=1), NOON + timedelta(days=1)), (None, None)]
    for _ in range(30):
        since = first + timedelta(minutes=rng.randrange(DAYS * 24 * 60))
        periods.append((since, since + timedelta(minutes=rng.randrange(1, 150 * 24 * 60))))
    with sessions() as session:
        for since, until in periods:
            expected = Counter(
                (e.location_id, e.misuse)
                for e in events
                if (since is None or since <= e.occurred_at)
                and (until is None or e.occurred_at < until)
            )
            scores = location_scores(session, since=since, until=until)
            got = Counter(
                {
                    (s.location, misuse): c.total
                    for s in scores
                    for misuse, c in ((False, s.counts), (True, s.misuse_counts))
                    if c.total
                }
            )
            assert got == expected, (since, until)


def test_every_level_is_counted_again_from_the_hours(sessions: sessionmaker[Session]) -> None:
    _stored(sessions, _presses(600, seed=23))
    with sessions.begin() as session:
        for model in (DailyRollup, MonthlyRollup, SubtreeHourlyRollup):
            session.execute(delete(model))
        assert rollup_mismatches(session, location_ids=["hel", *PLACES]) > 0
        rebuild_from_hourly(session)
    with sessions() as session:
        assert rollup_mismatches(session, location_ids=["hel", *PLACES]) == 0
