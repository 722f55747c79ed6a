"""The cameras' reading in the scores API: shown with its coverage for groups of at least k
readings (k from the hub's settings), nothing of it below; the overview, a location and the
comparison withhold the same groups and read the same whole hours, so that no reading can be
worked out by subtracting one group or period from another."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hub.config import CameraSettings, HubSettings
from hub.ingest import store
from hub.users import Role, add_user
from hub.web.app import create_app
from protocol.messages import Button, ObservedEmotion
from tests.hub.camera.factories import approve_places
from tests.hub.factories import place, press
from tests.hub.web.conftest import PASSWORD, sign_in

ClientAs = Callable[[str | None], TestClient]
NOW = datetime.now(UTC).replace(microsecond=0)
READING = ObservedEmotion(
    emotions=[0.5] * 26, vad=[0.6, 0.5, 0.5], face_score=0.9, age_s=0, faces=1
)


def _seed(
    sessions: sessionmaker[Session],
    readings: int,
    *,
    presses: int = 0,
    gate: str = "gate-1",
    start: datetime = NOW - timedelta(hours=2),
) -> None:
    """Under hel, `gate` with `readings` presses read by the camera and `presses` not, a minute
    apart from `start` on."""
    with sessions.begin() as session:
        place(session, gate, parent="hel")
        approve_places(session, [gate])  # the hub keeps a reading only where one may be
        events = [
            press(
                Button.HAPPY,
                device_id=f"k-{gate}",
                location_id=gate,
                seq=n,
                at=start + timedelta(minutes=n),
            )
            for n in range(1, readings + presses + 1)
        ]
        read = [e.model_copy(update={"emotion": READING}) for e in events[:readings]]
        store.store_events(session, events=[*read, *events[readings:]], received_at=NOW)


def _views(client: TestClient) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The overview, gate-1's overview row and gate-1's summary."""
    overview = client.get("/api/overview").json()
    (row,) = [r for r in overview["locations"] if r["location"] == "gate-1"]
    summary = client.get("/api/locations/gate-1").json()["summary"]
    return overview, row, summary


def test_nine_readings_are_not_shown_anywhere(
    client_as: ClientAs, sessions: sessionmaker[Session]
) -> None:
    _seed(sessions, 9, presses=3)
    client = client_as("manager")
    overview, row, summary = _views(client)
    assert overview["observed_min_readings"] == 10
    assert (row["observed_index"], row["observed_coverage"]) == (None, None)
    assert row["observed_suppressed"] is True
    assert summary["observed"] is None
    assert (summary["observed_suppressed"], summary["observed_min_readings"]) == (True, 10)
    compared = client.get("/api/compare?a=gate-1").json()
    assert compared["a"]["summary"]["observed"] is None
    assert compared["a"]["summary"]["observed_suppressed"] is True


def test_ten_readings_are_shown_with_their_coverage(
    client_as: ClientAs, sessions: sessionmaker[Session]
) -> None:
    _seed(sessions, 10, presses=6)
    _overview, row, summary = _views(client_as("manager"))
    assert row["observed_index"] == 60.0
    assert (row["observed_coverage"], row["observed_suppressed"]) == (0.62, False)
    observed = summary["observed"]
    assert (observed["readings"], observed["presses"], observed["coverage"]) == (10, 16, 0.62)
    assert observed["observed_index"] == 60.0
    assert summary["observed_suppressed"] is False


def test_the_hubs_settings_say_how_many_readings_a_group_needs(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with sessions.begin() as session:  # web_app's fixture is not used: its own app is made here
        place(session, "hel", kind="site")
        add_user(session, username="admin", role=Role.ADMIN, password=PASSWORD)
    _seed(sessions, 4)
    settings = HubSettings(data_dir=tmp_path, db="sqlite://", camera=CameraSettings(min_readings=3))
    with TestClient(create_app(settings, sessions)) as client:
        client.headers["X-CSRF-Token"] = sign_in(client, "admin")
        overview, row, summary = _views(client)
    assert overview["observed_min_readings"] == summary["observed_min_readings"] == 3
    assert row["observed_index"] == 60.0
    assert summary["observed"]["readings"] == 4


def test_every_view_withholds_a_site_that_less_its_shown_gate_is_one_reading(
    client_as: ClientAs, sessions: sessionmaker[Session]
) -> None:
    _seed(sessions, 12)
    _seed(sessions, 1, gate="gate-2")
    client = client_as("manager")
    rows = {r["location"]: r for r in client.get("/api/overview").json()["locations"]}
    assert (rows["hel"]["observed_index"], rows["hel"]["observed_coverage"]) == (None, None)
    assert rows["hel"]["observed_suppressed"] is True
    assert (rows["gate-1"]["observed_index"], rows["gate-1"]["observed_suppressed"]) == (60, False)
    assert rows["gate-2"]["observed_suppressed"] is True
    site = client.get("/api/locations/hel").json()["summary"]
    assert (site["observed"], site["observed_suppressed"]) == (None, True)
    compared = client.get("/api/compare?a=hel&b=gate-1").json()
    first, second = (compared[side]["summary"] for side in ("a", "b"))
    assert (first["observed"], first["observed_suppressed"]) == (None, True)
    assert second["observed"]["readings"] == 12


def test_periods_minutes_apart_show_the_same_reading_in_every_view(
    client_as: ClientAs, sessions: sessionmaker[Session]
) -> None:
    hour = NOW.replace(minute=0, second=0) - timedelta(hours=5)
    _seed(sessions, 10, start=hour)  # hour:01 to hour:10
    _seed(sessions, 1, gate="gate-2", start=hour + timedelta(minutes=89))  # an hour later, :30
    short, long = (
        {"since": hour.isoformat(), "until": (hour + timedelta(minutes=m)).isoformat()}
        for m in (89, 91)
    )
    client = client_as("manager")
    rows = [
        {r["location"]: r for r in client.get("/api/overview", params=p).json()["locations"]}
        for p in (short, long)
    ]
    assert [r["hel"]["responses"] for r in rows] == [10, 11], "the buttons: exact"
    assert [(r["hel"]["observed_index"], r["hel"]["observed_coverage"]) for r in rows] == [
        (60, 1.0),
        (60, 1.0),
    ]
    params = {**short, "a": "hel", "b_since": long["since"], "b_until": long["until"]}
    compared = client.get("/api/compare", params=params).json()
    a, b = (compared[side]["summary"] for side in ("a", "b"))
    assert (a["responses"], b["responses"]) == (10, 11)
    assert a["observed"] == b["observed"]
    assert a["observed"]["readings"] == 10
