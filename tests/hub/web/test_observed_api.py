"""The cameras' reading in the scores API: shown with its coverage for groups of at least k
readings (k from the hub's settings), nothing of it below."""

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
from tests.hub.factories import place, press
from tests.hub.web.conftest import PASSWORD, sign_in

ClientAs = Callable[[str | None], TestClient]
NOW = datetime.now(UTC).replace(microsecond=0)
READING = ObservedEmotion(
    emotions=[0.5] * 26, vad=[0.6, 0.5, 0.5], face_score=0.9, age_s=0, faces=1
)


def _seed(sessions: sessionmaker[Session], readings: int, *, presses: int = 0) -> None:
    """Under hel, gate-1 with `readings` presses read by the camera and `presses` not."""
    with sessions.begin() as session:
        place(session, "gate-1", parent="hel")
        start = NOW - timedelta(hours=2)
        events = [
            press(Button.HAPPY, location_id="gate-1", seq=n, at=start + timedelta(minutes=n))
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
    assert (row["observed_coverage"], row["observed_suppressed"]) == (0.625, False)
    observed = summary["observed"]
    assert (observed["readings"], observed["presses"], observed["coverage"]) == (10, 16, 0.625)
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
