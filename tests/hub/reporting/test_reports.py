"""Scores over periods, read from rollups with exact part-hour edges (SQLite and PostgreSQL)."""

from datetime import timedelta, timezone

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub.ingest import store
from hub.reporting.reports import location_scores
from protocol.messages import Button
from tests.hub.factories import NOON, press

MINUTE = timedelta(minutes=1)


@pytest.fixture
def day(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Presses at gate-a at 11:50, 12:10, 12:40, 13:05, 14:30; one misuse; washroom at 12:00."""
    events = [
        press(Button.VERY_HAPPY, at=NOON - 10 * MINUTE),
        press(Button.HAPPY, at=NOON + 10 * MINUTE),
        press(Button.UNHAPPY, at=NOON + 40 * MINUTE),
        press(Button.UNHAPPY, at=NOON + 41 * MINUTE, misuse=True),
        press(Button.VERY_UNHAPPY, at=NOON + 65 * MINUTE),
        press(Button.VERY_HAPPY, at=NOON + 150 * MINUTE),
        press(Button.VERY_UNHAPPY, location_id="washroom-b", at=NOON),
    ]
    with sessions.begin() as session:
        store.add_location(
            session, location_id="washroom-b", name="Washroom B", time_zone="Europe/Helsinki"
        )
        store.store_events(session, events=events, received_at=NOON)
    return sessions


def _by_location(sessions: sessionmaker[Session], **period: object) -> dict[str, dict]:
    with sessions() as session:
        return {s.location: s.as_dict() for s in location_scores(session, **period)}


def test_whole_history(day: sessionmaker[Session]) -> None:
    gate = _by_location(day)["gate-a"]
    assert gate["counts"] == {"very_happy": 2, "happy": 1, "unhappy": 1, "very_unhappy": 1}
    assert gate["responses"] == 5
    assert gate["misuse"] == 1
    assert gate["happy_index"] == pytest.approx(round(100 * (6 + 2 + 1) / 15, 1))
    assert gate["positive_share"] == pytest.approx(0.6)
    low, high = gate["positive_ci"]
    assert low < 0.6 < high


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        (NOON, NOON + timedelta(hours=2), 3),  # whole hours only: 12:10, 12:40, 13:05
        (NOON + 5 * MINUTE, NOON + 66 * MINUTE, 3),  # part-hours at both ends
        (NOON + 11 * MINUTE, NOON + 64 * MINUTE, 1),  # inside one hour... and the next
        (NOON + 11 * MINUTE, NOON + 39 * MINUTE, 0),  # within one hour, nothing
        (NOON - 15 * MINUTE, None, 5),  # open end
        (None, NOON + 11 * MINUTE, 2),  # open start
    ],
)
def test_any_period_counts_exactly(
    day: sessionmaker[Session], since: object, until: object, expected: int
) -> None:
    assert _by_location(day, since=since, until=until)["gate-a"]["responses"] == expected


def test_misuse_can_be_included(day: sessionmaker[Session]) -> None:
    gate = _by_location(day, include_misuse=True)["gate-a"]
    assert gate["responses"] == 6
    assert gate["counts"]["unhappy"] == 2


def test_ranked_by_happy_index_and_empty_locations_last(day: sessionmaker[Session]) -> None:
    with day.begin() as session:
        store.add_location(session, location_id="lounge", name="Lounge", time_zone="UTC")
    with day() as session:
        ranking = [s.as_dict() for s in location_scores(session)]
    assert [r["location"] for r in ranking] == ["gate-a", "washroom-b", "lounge"]
    assert ranking[1]["time_zone"] == "Europe/Helsinki"
    assert ranking[2]["responses"] == 0 and ranking[2]["happy_index"] is None


def test_periods_in_half_hour_zones_are_exact(day: sessionmaker[Session]) -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    since = (NOON + 5 * MINUTE).astimezone(india)  # 17:35+05:30, not on a UTC hour
    until = (NOON + 66 * MINUTE).astimezone(india)
    assert _by_location(day, since=since, until=until)["gate-a"]["responses"] == 3
    since = NOON.astimezone(india) - timedelta(minutes=30)  # 17:00+05:30 = 11:30 UTC
    assert _by_location(day, since=since, until=NOON + 11 * MINUTE)["gate-a"]["responses"] == 2
