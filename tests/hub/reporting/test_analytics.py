"""Rankings, roll-ups, trends and heat maps against hand-counted answers (both backends)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub.hierarchy import LocationTree
from hub.ingest import store
from hub.reporting.analytics import MIN_RANKED_RESPONSES, OverviewRow, heatmap, overview, trend
from hub.rollups.buckets import Period
from protocol.messages import Button
from tests.hub.factories import place, press

# Monday 2026-11-23 10:00 UTC is 12:00 in Helsinki (UTC+2 in winter).
MONDAY_10_UTC = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
THIS_WEEK = Period(MONDAY_10_UTC - timedelta(days=7), MONDAY_10_UTC + timedelta(days=1))


def _presses(location: str, buttons: dict[Button, int], at: datetime) -> list:
    events = []
    for button, n in buttons.items():
        events += [
            press(button, location_id=location, device_id=f"k-{location}", seq=i + 1, at=at)
            for i in range(n)
        ]
    return events


@pytest.fixture
def airport(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """HEL -> T2 -> gate-1 (40 presses this week, 10 the week before), gate-2 (5 presses)."""
    with sessions.begin() as session:
        place(session, "hel", kind="site")
        place(session, "t2", kind="area", parent="hel")
        place(session, "gate-1", parent="t2")
        place(session, "gate-2", parent="t2")
        events = (
            _presses("gate-1", {Button.HAPPY: 30, Button.UNHAPPY: 10}, MONDAY_10_UTC)
            + _presses("gate-2", {Button.VERY_UNHAPPY: 5}, MONDAY_10_UTC)
            + _presses("gate-1", {Button.VERY_HAPPY: 10}, MONDAY_10_UTC - timedelta(days=10))
        )
        events = [event.model_copy(update={"seq": i + 1}) for i, event in enumerate(events)]
        store.store_events(session, events=events, received_at=MONDAY_10_UTC)
    return sessions


def _overview(sessions: sessionmaker[Session]) -> dict[str, OverviewRow]:
    with sessions() as session:
        tree = LocationTree.load(session)
        result = overview(session, tree=tree, visible=set(tree.places), period=THIS_WEEK)
    return {row.location: row for row in result.locations}


def test_a_touchpoint_with_enough_responses_is_ranked_with_its_index_and_interval(
    airport: sessionmaker[Session],
) -> None:
    gate = _overview(airport)["gate-1"]
    assert gate.responses == 40
    assert gate.happy_index == pytest.approx(round(100 * (2 * 30 + 10) / 120, 1))
    assert gate.rank == 1
    low, high = gate.positive_ci
    assert low < 0.75 < high


def test_a_small_sample_is_shown_but_not_ranked(airport: sessionmaker[Session]) -> None:
    gate = _overview(airport)["gate-2"]
    assert gate.responses == 5 < MIN_RANKED_RESPONSES
    assert gate.small_sample is True
    assert gate.rank is None
    assert gate.happy_index == 0.0


def test_scores_roll_up_the_tree(airport: sessionmaker[Session]) -> None:
    rows = _overview(airport)
    for parent in ("t2", "hel"):
        assert rows[parent].counts.as_dict() == {
            "very_happy": 0,
            "happy": 30,
            "unhappy": 10,
            "very_unhappy": 5,
        }
    assert rows["hel"].depth == 0 and rows["gate-1"].depth == 2
    assert list(rows) == ["hel", "t2", "gate-1", "gate-2"]


def test_the_change_is_against_the_previous_period_of_the_same_length(
    airport: sessionmaker[Session],
) -> None:
    gate = _overview(airport)["gate-1"]
    assert gate.previous_happy_index == 100.0
    assert gate.change == pytest.approx(round(gate.happy_index - 100.0, 1))
    assert _overview(airport)["gate-2"].change is None


def test_a_manager_sees_only_what_he_is_given(airport: sessionmaker[Session]) -> None:
    with airport() as session:
        tree = LocationTree.load(session)
        result = overview(session, tree=tree, visible=tree.subtree("gate-2"), period=THIS_WEEK)
    assert [row.location for row in result.locations] == ["gate-2"]


def test_the_heat_map_is_in_the_location_s_own_time_zone(
    airport: sessionmaker[Session],
) -> None:
    with airport() as session:
        helsinki = heatmap(
            session, location_id="gate-1", period=THIS_WEEK, time_zone="Europe/Helsinki"
        )
        utc = heatmap(session, location_id="gate-1", period=THIS_WEEK, time_zone="UTC")
    assert helsinki.cells[0][12].responses == 40
    assert helsinki.cells[0][10].responses == 0
    assert utc.cells[0][10].responses == 40
    assert helsinki.cells[0][12].negative_share == 0.25


def test_a_press_late_on_sunday_in_utc_counts_on_monday_in_helsinki(
    sessions: sessionmaker[Session],
) -> None:
    sunday_late_utc = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)  # 01:30 Monday in Helsinki
    with sessions.begin() as session:
        place(session, "gate-1")
        store.store_events(
            session,
            events=[press(at=sunday_late_utc, location_id="gate-1")],
            received_at=sunday_late_utc,
        )
    period = Period(datetime(2026, 11, 16, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC))
    with sessions() as session:
        days = trend(
            session, location_id="gate-1", period=period, time_zone="Europe/Helsinki", step="day"
        )
        weeks = trend(
            session, location_id="gate-1", period=period, time_zone="Europe/Helsinki", step="week"
        )
        in_utc = trend(session, location_id="gate-1", period=period, time_zone="UTC", step="day")
        months = trend(
            session, location_id="gate-1", period=period, time_zone="Europe/Helsinki", step="month"
        )
    by_day = {point.start.isoformat(): point.responses for point in days}
    assert by_day["2026-11-23"] == 1 and by_day["2026-11-22"] == 0
    assert {p.start.isoformat(): p.responses for p in in_utc}["2026-11-22"] == 1
    assert [(p.start.isoformat(), p.responses) for p in weeks] == [
        ("2026-11-16", 0),
        ("2026-11-23", 1),
    ]
    assert len(days) == 10  # every local day of the period, empty ones included
    assert [(p.start.isoformat(), p.responses) for p in months] == [("2026-11-01", 1)]


def test_a_year_of_months_steps_through_december(sessions: sessionmaker[Session]) -> None:
    period = Period(datetime(2025, 11, 15, tzinfo=UTC), datetime(2026, 11, 15, tzinfo=UTC))
    with sessions() as session:
        months = trend(session, location_id="nowhere", period=period, time_zone="UTC", step="month")
    starts = [p.start.isoformat() for p in months]
    assert starts[0] == "2025-11-01" and starts[-1] == "2026-11-01" and len(starts) == 13
    assert "2026-01-01" in starts
