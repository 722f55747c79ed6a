"""Daily rollups kept with the hourly ones, and periods read across days, hours and edges."""

import random
from collections import Counter
from datetime import timedelta, timezone

from alembic import command
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session, sessionmaker

from hub.db import alembic_config, migrate
from hub.ingest import store
from hub.models import DailyRollup, Event
from hub.reporting.reports import location_scores
from hub.rollups.buckets import day_bucket
from protocol.messages import BUTTONS
from tests.hub.factories import (
    NOON,
    hourly_rollups_before_channels,
    locations_table_before_surveys,
    press,
)
from tests.hub.rollups.recount import expected_totals, reported_totals

HELSINKI_WINTER = timezone(timedelta(hours=2))
COUNTS = {"very_happy": 0, "happy": 1, "unhappy": 0, "very_unhappy": 0}


def _presses(count: int, seed: int) -> list:
    """Presses at two places over ten days, some stamped in a UTC+2 offset near midnight."""
    rng = random.Random(seed)
    start = NOON - timedelta(days=5)
    events = []
    for seq in range(1, count + 1):
        at = start + timedelta(seconds=rng.randrange(10 * 86_400))
        if seq % 5 == 0:
            at = at.astimezone(HELSINKI_WINTER)
        events.append(
            press(
                rng.choice(BUTTONS),
                location_id=rng.choice(("gate-a", "gate-b")),
                seq=seq,
                at=at,
                misuse=rng.random() < 0.1,
            )
        )
    return events


def _store_in_batches(sessions: sessionmaker[Session], events: list) -> None:
    """Batches of 37, each stored twice over (redeliveries count once)."""
    for i in range(0, len(events), 37):
        for _ in range(2):
            with sessions.begin() as session:
                store.store_events(session, events=events[i : i + 37], received_at=NOON)


def test_daily_rollups_equal_a_recount_of_the_events(sessions: sessionmaker[Session]) -> None:
    _store_in_batches(sessions, _presses(600, seed=1))
    with sessions() as session:
        recount = Counter(
            (loc, day_bucket(at), bool(misuse), button)
            for loc, at, misuse, button in session.execute(
                select(Event.location_id, Event.occurred_at, Event.misuse, Event.button)
            )
        )
        stored = Counter(
            {
                (row.location_id, row.bucket_start, row.misuse, b.value): getattr(row, b.value)
                for row in session.scalars(select(DailyRollup))
                for b in BUTTONS
                if getattr(row, b.value)
            }
        )
    assert stored == recount
    assert sum(stored.values()) == 600


def test_any_period_counts_exactly_what_the_events_say(sessions: sessionmaker[Session]) -> None:
    events = _presses(500, seed=2)
    _store_in_batches(sessions, events)
    rng = random.Random(3)
    midnight = NOON.replace(hour=0)
    periods = [
        (midnight - timedelta(days=3), midnight),  # whole days only
        (midnight - timedelta(days=3, hours=2), midnight + timedelta(hours=5)),  # days and hours
        (midnight - timedelta(days=2, minutes=7), midnight + timedelta(minutes=13)),  # and edges
        (midnight - timedelta(hours=5), midnight + timedelta(hours=5)),  # no whole day
    ]
    for _ in range(25):
        since = midnight - timedelta(days=6, minutes=-rng.randrange(12 * 24 * 60))
        periods.append((since, since + timedelta(minutes=rng.randrange(1, 8 * 24 * 60))))
    for since, until in periods:
        with sessions() as session:
            scores = location_scores(session, since=since, until=until)
        assert reported_totals(scores) == expected_totals(events, since, until), (since, until)


def test_the_migration_fills_daily_rollups_from_the_hourly_ones(engine: Engine) -> None:
    command.downgrade(alembic_config(engine), "0005")  # the fixture migrated to the head
    hours = [NOON - timedelta(hours=h) for h in (0, 11, 12, 13, 30)]  # midnight is 12 h back
    with engine.begin() as connection:
        connection.execute(
            insert(locations_table_before_surveys()),
            {
                "location_id": "gate-a",
                "name": "A",
                "time_zone": "UTC",
                "created_at": NOON,
                "kind": "touchpoint",
            },
        )
        connection.execute(
            insert(hourly_rollups_before_channels()),
            [
                {"location_id": "gate-a", "bucket_start": at, "misuse": False, **COUNTS}
                for at in hours
            ],
        )
    migrate(engine)
    with engine.connect() as connection:
        days = connection.execute(
            select(DailyRollup.bucket_start, DailyRollup.happy).order_by(DailyRollup.bucket_start)
        ).all()
    assert [(at.day, n) for at, n in days] == [(22, 2), (23, 3)]
