"""Surveys in the JSON API: a manager creates, assigns and retires surveys within his sites."""

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hub.ingest import store
from hub.models import Device
from protocol.messages import decode_remote_config
from tests.hub.factories import place
from tests.hub.surveys.survey_files import SECURITY

ClientAs = Callable[[str | None], TestClient]


def test_a_manager_creates_assigns_and_retires_a_survey_at_his_site(
    client_as: ClientAs, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        place(session, "lane-1", parent="hel")
        store.register_device(session, device_id="k1", location_id="lane-1")
    manager = client_as("manager")
    created = manager.post("/api/surveys", json={"toml": SECURITY})
    assert created.status_code == 201, created.text
    assert created.json()["survey"]["version"] == 1 and created.json()["new"] is True
    again = manager.post("/api/surveys", json={"toml": SECURITY}).json()
    assert (again["new"], again["survey"]["version"]) == (False, 1)
    bad = manager.post("/api/surveys", json={"toml": SECURITY.replace('nl = "Netheid"', "")})
    assert bad.status_code == 422 and "negative.options[cleanliness]: no text in nl" in bad.text
    languages = manager.put("/api/locations/hel/languages", json={"languages": ["nl", "en"]})
    assert languages.status_code == 200, languages.text
    assigned = manager.post("/api/surveys/security/assign", json={"location": "hel"})
    assert assigned.json() == {"configs": 1}
    assert manager.post("/api/surveys/security/assign", json={"location": "osl"}).status_code == 404
    with sessions() as session:
        device = session.get(Device, "k1")
        assert device is not None and device.desired_config is not None
        survey = decode_remote_config(device.desired_config.encode()).survey
        assert survey is not None and survey.languages == ["nl", "en"]
    [listing] = manager.get("/api/surveys").json()
    assert listing["assigned_to"] == ["hel"]
    assert manager.get("/api/surveys/security?version=1").json()["question"]["fa"]
    assert manager.get("/api/surveys/security?version=2").status_code == 404


def test_a_manager_may_not_change_a_survey_asked_beyond_his_sites(
    client_as: ClientAs, sessions: sessionmaker[Session]
) -> None:
    admin, manager = client_as("admin"), client_as("manager")
    assert admin.post("/api/surveys", json={"toml": SECURITY}).status_code == 201
    assert admin.post("/api/surveys/security/assign", json={"location": "osl"}).status_code == 200
    edited = SECURITY.replace("Queue too long", "Waited too long")
    assert manager.post("/api/surveys", json={"toml": edited}).status_code == 403
    assert manager.post("/api/surveys/security/retire").status_code == 403
    assert admin.post("/api/surveys/security/retire").json() == {"configs": 0}
