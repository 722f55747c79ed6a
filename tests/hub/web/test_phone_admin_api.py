"""The phone survey in the JSON API: a manager issues, revokes and reissues his places' QR
links, downloads their posters, and reads, hides and exports their comments; never another
site's."""

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hub.config import HubSettings, PhoneSettings
from hub.phone.responses import store_comment, store_response
from hub.surveys.definition import parse_survey
from hub.surveys.store import assign_survey, create_survey, set_languages
from hub.web.app import create_app
from protocol.ids import uuid7
from protocol.messages import Button
from tests.hub.factories import NOON, place
from tests.hub.surveys.survey_files import SECURITY
from tests.hub.web.conftest import sign_in

ClientAs = Callable[[str | None], TestClient]


def comment(session: Session, location_id: str, text: str, *, days_ago: float = 1) -> str:
    response_id = str(uuid7())
    at = NOON - timedelta(days=days_ago)
    store_response(
        session,
        response_id=response_id,
        location_id=location_id,
        button=Button.UNHAPPY,
        misuse=False,
        survey=None,
        now=at,
    )
    store_comment(session, response_id=response_id, text=text, language="en", now=at)
    return response_id


def test_a_manager_issues_revokes_and_reissues_links_of_his_sites_only(
    client_as: ClientAs,
) -> None:
    manager = client_as("manager")
    issued = manager.post("/api/locations/hel/phone-links", json={})
    assert issued.status_code == 201, issued.text
    link = issued.json()
    assert link["url"] == f"http://testserver/t/{link['token']}"
    assert (link["location"], link["created_by"], link["live"]) == ("hel", "manager", True)
    reissued = manager.post(f"/api/phone-links/{link['token']}/reissue")
    assert reissued.status_code == 201 and reissued.json()["token"] != link["token"]
    listed = manager.get("/api/locations/hel/phone-links").json()
    assert [(x["token"], x["live"]) for x in listed] == [
        (reissued.json()["token"], True),
        (link["token"], False),
    ]
    revoked = manager.post(f"/api/phone-links/{reissued.json()['token']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    bad_kiosk = manager.post("/api/locations/hel/phone-links", json={"kiosk": "k9"})
    assert bad_kiosk.status_code == 422 and "no kiosk 'k9'" in bad_kiosk.text

    theirs = client_as("admin").post("/api/locations/osl/phone-links", json={}).json()
    assert manager.post("/api/locations/osl/phone-links", json={}).status_code == 404
    assert manager.get("/api/locations/osl/phone-links").status_code == 404
    assert manager.post(f"/api/phone-links/{theirs['token']}/revoke").status_code == 404
    assert manager.post(f"/api/phone-links/{theirs['token']}/reissue").status_code == 404
    assert manager.post("/api/phone-links/nothing/revoke").status_code == 404
    tech = client_as("tech")
    assert tech.get("/api/locations/hel/phone-links").status_code == 403
    assert tech.post("/api/locations/hel/phone-links", json={}).status_code == 403
    assert client_as(None).get("/api/locations/hel/phone-links").status_code == 401


def test_links_point_at_the_public_url_when_one_is_set(
    web_app: FastAPI, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = HubSettings(
        data_dir=tmp_path, db="sqlite://", phone=PhoneSettings(public_url="https://q.example.com/")
    )
    with TestClient(create_app(settings, sessions)) as admin:
        admin.headers["X-CSRF-Token"] = sign_in(admin, "admin")
        link = admin.post("/api/locations/hel/phone-links", json={}).json()
    assert link["url"] == f"https://q.example.com/t/{link['token']}"


def test_posters_download_with_the_places_question_in_its_languages(
    client_as: ClientAs, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        create_survey(session, parsed=parse_survey(SECURITY, source="s"), by="t", now=NOON)
        set_languages(session, location_id="hel", languages=["nl", "en"], now=NOON)
        assign_survey(session, survey_id="security", location_id="hel", by="t", now=NOON)
    manager = client_as("manager")
    pdf = manager.get("/api/locations/hel/poster.pdf?size=a5")
    assert pdf.status_code == 200, pdf.text
    assert pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == 'attachment; filename="poster-hel-a5.pdf"'
    svg = manager.get("/api/locations/hel/poster.svg")
    assert svg.headers["content-disposition"] == 'attachment; filename="poster-hel-a4.svg"'
    assert "Hoe was de veiligheidscontrole?" in svg.text
    assert "How was the security check?" in svg.text
    [link] = manager.get("/api/locations/hel/phone-links").json()  # issued by the first poster
    assert link["url"].replace("&", "&amp;") in svg.text
    assert manager.get("/api/locations/hel/poster.pdf?size=a3").status_code == 422
    assert manager.get("/api/locations/osl/poster.pdf").status_code == 404
    assert client_as("tech").get("/api/locations/hel/poster.svg").status_code == 403


def test_a_manager_reads_hides_and_exports_his_places_comments(
    client_as: ClientAs, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        place(session, "gate-a", parent="hel")
        soap = comment(session, "gate-a", "no soap")
        old = comment(session, "hel", "=SUM(A1)", days_ago=30)
        theirs = comment(session, "osl", "cold")
    manager = client_as("manager")
    listed = manager.get("/api/locations/hel/comments").json()
    assert (listed["count"], listed["total"], listed["retention_days"]) == (2, 2, 90)
    first = listed["comments"][0]
    assert (first["response_id"], first["text"], first["button"]) == (soap, "no soap", "unhappy")
    assert first["location_name"] == "Gate-A"
    hidden = manager.post(f"/api/comments/{soap}/hide")
    assert hidden.json() == {"response_id": soap, "hidden": True}
    shown = manager.get("/api/locations/hel/comments?include_hidden=false").json()
    assert [c["response_id"] for c in shown["comments"]] == [old]
    csv = manager.get("/api/locations/hel/comments.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    assert "'=SUM(A1)" in csv.text and "no soap" not in csv.text  # hidden ones left out
    assert manager.post(f"/api/comments/{soap}/show").json()["hidden"] is False
    assert manager.get("/api/locations/gate-a/comments").json()["count"] == 1

    assert manager.get("/api/locations/osl/comments").status_code == 404
    assert manager.get("/api/locations/osl/comments.csv").status_code == 404
    assert manager.post(f"/api/comments/{theirs}/hide").status_code == 404
    assert manager.post("/api/comments/nothing/hide").status_code == 404
    assert client_as("tech").get("/api/locations/hel/comments").status_code == 403
    assert client_as("admin").get("/api/locations/osl/comments").json()["count"] == 1
