"""The scores API as each role sees it: what it returns and what it refuses."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hub.ingest import store
from protocol.messages import Button
from tests.hub.factories import place, press, status

ClientAs = Callable[[str | None], TestClient]
ClientAt = Callable[[datetime, str], TestClient]
NOW = datetime.now(UTC).replace(microsecond=0)


def _seed(sessions: sessionmaker[Session]) -> None:
    """hel -> gate-1 with three presses an hour ago; osl -> gate-9 with one; a kiosk at gate-1."""
    with sessions.begin() as session:
        place(session, "gate-1", parent="hel")
        place(session, "gate-9", parent="osl")
        hour_ago = NOW - timedelta(hours=1)
        events = [
            press(Button.HAPPY, location_id="gate-1", seq=1, at=hour_ago),
            press(Button.VERY_HAPPY, location_id="gate-1", seq=2, at=hour_ago),
            press(Button.UNHAPPY, location_id="gate-1", seq=3, at=hour_ago),
            press(Button.UNHAPPY, location_id="gate-9", device_id="k9", seq=1, at=hour_ago),
        ]
        store.store_events(session, events=events, received_at=NOW)
        heard = datetime.now(UTC)  # not NOW: the suite may have run for minutes since import
        store.apply_status(session, status=status(sent_at=heard, outbox_depth=2), received_at=heard)


def test_a_manager_s_overview_holds_his_sites_only(
    client_as: ClientAs, sessions: sessionmaker[Session]
) -> None:
    _seed(sessions)
    rows = client_as("manager").get("/api/overview").json()["locations"]
    assert [row["location"] for row in rows] == ["hel", "gate-1"]
    assert rows[0]["responses"] == 3
    assert rows[0]["devices"]["online"] == 1


def test_an_admin_sees_every_site(client_as: ClientAs, sessions: sessionmaker[Session]) -> None:
    _seed(sessions)
    rows = client_as("admin").get("/api/overview?days=1").json()["locations"]
    assert {row["location"] for row in rows} == {"hel", "gate-1", "osl", "gate-9"}


def test_a_location_page_holds_trend_heat_map_and_buttons(
    client_as: ClientAs, sessions: sessionmaker[Session]
) -> None:
    _seed(sessions)
    view = client_as("manager").get("/api/locations/hel?days=7").json()
    assert view["summary"]["counts"]["unhappy"] == 1
    assert len(view["heatmap"]["cells"]) == 7
    assert all(len(row) == 24 for row in view["heatmap"]["cells"])
    assert sum(c["responses"] for row in view["heatmap"]["cells"] for c in row) == 3
    assert sum(point["responses"] for point in view["trend_day"]) == 3
    assert view["children"] == ["gate-1"]


def test_a_location_outside_the_manager_s_sites_is_not_found(
    client_as: ClientAs, sessions: sessionmaker[Session]
) -> None:
    _seed(sessions)
    client = client_as("manager")
    assert client.get("/api/locations/gate-9").status_code == 404
    assert client.get("/locations/gate-9").status_code == 404
    assert client.get("/api/compare?a=gate-1&b=gate-9").status_code == 404


def test_two_periods_of_one_place_side_by_side(
    client_as: ClientAs, sessions: sessionmaker[Session]
) -> None:
    _seed(sessions)
    earlier = (NOW - timedelta(days=30)).isoformat()
    later = (NOW - timedelta(days=20)).isoformat()
    sides = (
        client_as("admin")
        .get(
            "/api/compare", params={"a": "gate-1", "b_since": earlier, "b_until": later, "days": 7}
        )
        .json()
    )
    assert sides["a"]["summary"]["responses"] == 3
    assert sides["b"]["summary"]["responses"] == 0
    assert sides["b"]["period"]["until"].startswith(later[:16])


def test_a_period_that_ends_before_it_starts_is_refused(client_as: ClientAs) -> None:
    response = client_as("admin").get(
        "/api/overview", params={"since": "2026-11-02T00:00:00", "until": "2026-11-01T00:00:00"}
    )
    assert response.status_code == 422


def test_the_fleet_is_for_technicians_and_shows_outbox_and_heartbeat(
    client_as: ClientAs, sessions: sessionmaker[Session]
) -> None:
    _seed(sessions)
    assert client_as("manager").get("/api/fleet").status_code == 403
    kiosks = {d["device"]: d for d in client_as("tech").get("/api/fleet").json()}
    assert kiosks["k1"]["online"] is True
    assert kiosks["k1"]["outbox_depth"] == 2
    assert kiosks["k1"]["last_heartbeat"] is not None


def test_the_app_s_clock_ends_the_default_period_and_judges_who_is_online(
    client_at: ClientAt, sessions: sessionmaker[Session]
) -> None:
    """A hub whose clock says 23 Nov 2026 12:00 shows the 28 days before it, with a press made
    six days before, and a kiosk heard a minute before as online, whatever the wall clock says."""
    hub_now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    with sessions.begin() as session:
        place(session, "gate-1", parent="hel")
        week_ago = hub_now - timedelta(days=6)
        event = press(Button.HAPPY, location_id="gate-1", at=week_ago)
        store.store_events(session, events=[event], received_at=week_ago)
        heard = hub_now - timedelta(minutes=1)
        store.apply_status(session, status=status(sent_at=heard), received_at=heard)
    admin = client_at(hub_now, "admin")
    view = admin.get("/api/locations/hel").json()
    [kiosk] = admin.get("/api/fleet").json()
    period = {key: datetime.fromisoformat(view["period"][key]) for key in ("since", "until")}
    assert period == {"since": hub_now - timedelta(days=28), "until": hub_now}
    assert view["summary"]["responses"] == 1
    assert kiosk["online"] is True
