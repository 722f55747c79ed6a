"""Subtree rollups: each place's hours hold its whole subtree's scored presses, so trends and
heat maps of a site read one row an hour, and they equal a recount of the presses."""

import random
from collections import Counter
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from alembic import command
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session, sessionmaker

from hub.config import HubSettings
from hub.db import alembic_config, migrate, session_factory
from hub.fleet.provision import Fleet, Site
from hub.ingest import store
from hub.models import SubtreeHourlyRollup
from hub.reporting.scores import ButtonCounts
from hub.rollups.buckets import Period, hour_bucket
from hub.rollups.checks import rollup_mismatches
from hub.rollups.read import local_counts
from protocol.messages import BUTTONS, PressEvent
from tests.hub.factories import (
    NOON,
    hourly_rollups_before_channels,
    locations_table_before_surveys,
    place,
)
from tests.hub.rollups.recount import random_presses

TOUCHPOINTS = {"hel-gate": "hel-t1", "hel-desk": "hel-t1", "hel-lounge": "hel-t2"}
PLACES = ["hel", "hel-t1", "hel-t2", *TOUCHPOINTS]
DAYS = 150


def _tree(session: Session) -> None:
    place(session, "hel", kind="site")
    for area in ("hel-t1", "hel-t2"):
        place(session, area, kind="area", parent="hel")
    for touchpoint, area in TOUCHPOINTS.items():
        # one touchpoint keeps a zone of its own: the site's views place it in the site's
        zone = "Asia/Kolkata" if touchpoint == "hel-desk" else "Europe/Helsinki"
        place(session, touchpoint, parent=area, time_zone=zone)


def _store(sessions: sessionmaker[Session], events: list[PressEvent]) -> None:
    for i in range(0, len(events), 97):
        with sessions.begin() as session:
            store.store_events(session, events=events[i : i + 97], received_at=NOON)


def _recount(
    events: list[PressEvent], members: set[str], period: Period, zone: str
) -> tuple[Counter[object], Counter[object]]:
    """Days and weekday-hours, each press placed by the local start of its UTC hour."""
    days: Counter[object] = Counter()
    week_hours: Counter[object] = Counter()
    for e in events:
        hour = hour_bucket(e.occurred_at)
        counted = e.location_id in members and not e.misuse
        if counted and hour_bucket(period.since) <= hour < period.until:
            local = hour.astimezone(ZoneInfo(zone))
            days[(local.date(), e.button.value)] += 1
            week_hours[((local.weekday(), local.hour), e.button.value)] += 1
    return days, week_hours


def _flat(per_key: Mapping[Any, ButtonCounts]) -> Counter[object]:
    flat: Counter[object] = Counter()
    for key, counts in per_key.items():
        for button in BUTTONS:
            if n := getattr(counts, button.value):
                flat[(key, button.value)] = n
    return flat


def test_every_place_holds_a_recount_of_its_subtree(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        _tree(session)
    _store(sessions, random_presses(1500, seed=11, places=TOUCHPOINTS, days=DAYS))
    with sessions() as session:
        assert rollup_mismatches(session, location_ids=PLACES) == 0
        site_rows = session.scalars(
            select(SubtreeHourlyRollup).where(SubtreeHourlyRollup.location_id == "hel")
        ).all()
    assert sum(r.very_happy + r.happy + r.unhappy + r.very_unhappy for r in site_rows) > 1000


def test_trends_and_heat_maps_equal_a_recount(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        _tree(session)
    events = random_presses(1500, seed=12, places=TOUCHPOINTS, days=DAYS)
    _store(sessions, events)
    rng = random.Random(13)
    periods = [Period.last(days, until=NOON) for days in (1, 7, 28, 90, 365)]
    for _ in range(10):
        since = NOON - timedelta(days=DAYS, minutes=-rng.randrange(DAYS * 24 * 60))
        periods.append(Period(since, since + timedelta(minutes=rng.randrange(60, 140 * 24 * 60))))
    views = [
        ("hel", {*TOUCHPOINTS}, "Europe/Helsinki"),
        ("hel-t1", {"hel-gate", "hel-desk"}, "America/New_York"),
        ("hel-desk", {"hel-desk"}, "Asia/Kolkata"),
    ]
    with sessions() as session:
        for period in periods:
            for location_id, members, zone in views:
                got = local_counts(session, location_id=location_id, period=period, time_zone=zone)
                days, week_hours = _recount(events, members, period, zone)
                assert _flat(got.days) == days, (location_id, period)
                assert _flat(got.week_hours) == week_hours, (location_id, period)


def test_a_place_put_under_a_parent_brings_its_presses(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with sessions.begin() as session:
        _tree(session)
    events = [
        e.model_copy(update={"location_id": "hel-new"})
        for e in random_presses(200, seed=14, places=TOUCHPOINTS, days=DAYS)
    ]
    _store(sessions, events)  # a kiosk publishing before it was provisioned: a bare location
    site = Site(site="hel", area="hel-t2", location="hel-new", time_zone="Europe/Helsinki")
    with sessions.begin() as session:
        Fleet(session, HubSettings(data_dir=tmp_path)).add(
            "k9", site, auth="password", out_dir=None
        )
    with sessions() as session:
        assert rollup_mismatches(session, location_ids=PLACES) == 0
        year = Period.last(DAYS + 1, until=NOON)
        got = local_counts(session, location_id="hel", period=year, time_zone="UTC")
    scored = sum(1 for e in events if not e.misuse)
    assert sum(c.total for c in got.days.values()) == scored


def test_the_migration_fills_subtree_hours_from_the_hourly_ones(engine: Engine) -> None:
    command.downgrade(alembic_config(engine), "0009")  # the fixture migrated to the head
    counts = {"very_happy": 0, "happy": 1, "unhappy": 2, "very_unhappy": 0}
    with engine.begin() as connection:
        connection.execute(
            insert(locations_table_before_surveys()),
            [
                {
                    "location_id": i,
                    "name": i,
                    "time_zone": "UTC",
                    "created_at": NOON,
                    "kind": k,
                    "parent_id": p,
                }
                for i, k, p in (
                    ("hel", "site", None),
                    ("hel-t1", "area", "hel"),
                    ("gate", "touchpoint", "hel-t1"),
                    ("desk", "touchpoint", "hel-t1"),
                )
            ],
        )
        connection.execute(
            insert(hourly_rollups_before_channels()),
            [
                {"location_id": loc, "bucket_start": NOON, "misuse": misuse, **counts}
                for loc, misuse in (("gate", False), ("desk", False), ("desk", True))
            ],
        )
    migrate(engine)
    with session_factory(engine)() as session:
        rows = {
            r.location_id: (r.happy, r.unhappy)
            for r in session.scalars(select(SubtreeHourlyRollup))
        }
        assert rollup_mismatches(session, location_ids=["hel"]) > 0  # no events: rollups only
    assert rows == {"gate": (1, 2), "desk": (1, 2), "hel-t1": (2, 4), "hel": (2, 4)}
