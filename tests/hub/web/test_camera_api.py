"""Camera governance in the JSON API: an admin records an approval, sets a place's audience and
turns a kiosk's camera on or off, each switch logged with him as its actor; a camera is refused
(409, saying why) where employees answer or no approval covers the place; a manager reads his
sites' and changes nothing; the audit log is exported and no route edits it."""

import csv
import io
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hub.config import HubSettings, IngestSettings
from hub.fleet.provision import Fleet, Site
from hub.fleet.remote_config import current_settings, write_config
from hub.models import Device
from hub.web.app import create_app
from tests.hub.factories import NOON
from tests.hub.web.conftest import sign_in

ClientAt = Callable[[datetime, str], TestClient]
ClientAs = Callable[[str | None], TestClient]
GATE, LOUNGE = "hel-gate-1", "hel-lounge"
APPROVAL = {
    "approved_by": "Aino Virtanen, DPO",
    "impact_assessment": "DPIA-2026-07",
    "approved_on": "2026-11-02",
    "deployer_name": "Finavia Oyj",
    "deployer_contact": "privacy@finavia.example",
    "legal_basis": "GDPR Art. 6(1)(f), legitimate interest",
}


@pytest.fixture
def kiosks(web_app: FastAPI, sessions: sessionmaker[Session]) -> list[str]:
    """k1 at the gate and k2 in the lounge, both beneath hel > hel-t2."""
    settings = web_app.state.context.settings
    with sessions.begin() as session:
        fleet = Fleet(session, settings, clock=lambda: NOON)
        for device, location in (("k1", GATE), ("k2", LOUNGE)):
            site = Site(site="hel", area="hel-t2", location=location, time_zone="Europe/Helsinki")
            fleet.add(device, site, auth="password", out_dir=None)
    return ["k1", "k2"]


@pytest.fixture
def admin(client_at: ClientAt, kiosks: list[str]) -> TestClient:
    return client_at(NOON, "admin")


def _approve(client: TestClient, location: str = "hel", **changes: str) -> dict[str, Any]:
    answer = client.post(f"/api/locations/{location}/camera-approvals", json=APPROVAL | changes)
    assert answer.status_code == 201, answer.text
    approval: dict[str, Any] = answer.json()
    return approval


def _switch(client: TestClient, device: str, enabled: bool, reason: str | None = None) -> Any:
    return client.post(f"/api/devices/{device}/camera", json={"enabled": enabled, "reason": reason})


def _desired(sessions: sessionmaker[Session], device: str) -> object:
    with sessions() as session:
        kiosk = session.get(Device, device)
        assert kiosk is not None
        return current_settings(kiosk).get("camera_enabled")


def _audit(client: TestClient, **filters: str) -> list[dict[str, Any]]:
    answer = client.get("/api/camera-audit", params=filters)
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()
    return entries


def test_a_camera_is_refused_where_no_approval_covers_the_place(
    admin: TestClient, sessions: sessionmaker[Session]
) -> None:
    refused = _switch(admin, "k1", True, "trial")
    assert refused.status_code == 409
    assert f"no camera approval covers {GATE}" in refused.json()["detail"]
    assert _desired(sessions, "k1") is None, "nothing was written to the kiosk's config"
    assert _audit(admin) == []
    view = admin.get(f"/api/locations/{GATE}/camera").json()
    assert (view["allowed"], view["approval"]) == (False, None)
    assert view["refusal"] == f"no camera approval covers {GATE}"


def test_a_camera_is_refused_where_employees_answer_even_with_an_approval(
    admin: TestClient, sessions: sessionmaker[Session]
) -> None:
    _approve(admin)
    set_to = admin.put("/api/locations/hel-t2/audience", json={"audience": "employees"})
    assert set_to.status_code == 200, set_to.text
    assert set_to.json()["effective_audience"] == "employees"
    refused = _switch(admin, "k1", True)
    assert refused.status_code == 409
    assert "Art. 5(1)(f)" in refused.json()["detail"]
    assert _desired(sessions, "k1") is None
    view = admin.get(f"/api/locations/{GATE}/camera").json()
    assert (view["audience"], view["effective_audience"]) == ("public", "employees")
    assert (view["audience_from"], view["allowed"]) == ("hel-t2", False)
    no_approval = admin.post(f"/api/locations/{GATE}/camera-approvals", json=APPROVAL)
    assert no_approval.status_code == 409, "no approval can allow a camera at a workplace"


def test_an_approved_camera_turned_on_is_logged_with_the_user_as_its_actor(
    admin: TestClient, sessions: sessionmaker[Session]
) -> None:
    approval = _approve(admin)
    assert approval["recorded_by"] == "admin" and approval["active"]
    turned_on = _switch(admin, "k1", True, "trial at gate 1")
    assert turned_on.status_code == 200, turned_on.text
    assert turned_on.json()["camera_enabled"] is True
    assert _desired(sessions, "k1") is True
    recorded, entry = _audit(admin)
    assert (recorded["action"], recorded["device"], recorded["location"]) == ("approve", "-", "hel")
    assert entry["prev_sha256"] == recorded["entry_sha256"], "chained to the one before"
    assert entry["actor"] == "admin", "the signed-in user, not the CLI"
    assert (entry["action"], entry["device"], entry["location"]) == ("on", "k1", GATE)
    assert (entry["reason"], entry["approval"]) == ("trial at gate 1", approval["approval"])
    assert entry["at"] == NOON.isoformat()

    view = admin.get(f"/api/locations/{GATE}/camera").json()
    assert view["allowed"] and view["approval"]["approval"] == approval["approval"]
    assert view["approval"]["location_name"] == "HEL", "recorded at the site, it covers the gate"
    assert [(k["device"], k["camera_enabled"]) for k in view["kiosks"]] == [("k1", True)]
    assert [e["entry"] for e in view["recent"]] == [entry["entry"]]

    default_reason = _switch(admin, "k2", True, "  ")
    assert default_reason.status_code == 200
    assert _audit(admin, device="k2")[0]["reason"] == "approved: DPIA-2026-07 by Aino Virtanen, DPO"
    off = _switch(admin, "k1", False, "trial over")
    assert off.status_code == 200 and off.json()["camera_enabled"] is False
    assert [(e["device"], e["action"]) for e in _audit(admin)] == [
        ("-", "approve"),
        ("k1", "on"),
        ("k2", "on"),
        ("k1", "off"),
    ]


def test_turning_a_place_to_employees_turns_its_cameras_off_with_a_logged_reason(
    admin: TestClient, sessions: sessionmaker[Session]
) -> None:
    _approve(admin)
    assert _switch(admin, "k1", True).status_code == 200
    assert _switch(admin, "k2", True).status_code == 200
    changed = admin.put(f"/api/locations/{LOUNGE}/audience", json={"audience": "employees"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["turned_off"] == ["k2"], "the gate's camera stays on"
    assert (_desired(sessions, "k1"), _desired(sessions, "k2")) == (True, False)
    off = _audit(admin)[-1]
    assert (off["device"], off["action"], off["actor"]) == ("k2", "off", "admin")
    assert "employees" in off["reason"] and "Art. 5(1)(f)" in off["reason"]
    site_wide = admin.put("/api/locations/hel/audience", json={"audience": "education"})
    assert site_wide.json()["turned_off"] == ["k1"]
    view = admin.get("/api/locations/hel/camera").json()
    assert {k["device"]: k["camera_enabled"] for k in view["kiosks"]} == {"k1": False, "k2": False}
    assert [e["action"] for e in view["recent"]] == [
        "off",
        "audience",
        "off",
        "audience",
        "on",
        "on",
        "approve",
    ], "newest first"


def test_withdrawing_the_approval_turns_the_cameras_beneath_it_off(
    admin: TestClient, sessions: sessionmaker[Session]
) -> None:
    site = _approve(admin)
    lounge = _approve(admin, LOUNGE, impact_assessment="DPIA-2026-09")
    for device in ("k1", "k2"):
        assert _switch(admin, device, True).status_code == 200
    withdrawn = admin.post(f"/api/camera-approvals/{site['approval']}/withdraw")
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["turned_off"] == ["k1"], "the lounge's own approval still covers k2"
    assert withdrawn.json()["approval"]["withdrawn_by"] == "admin"
    assert (_desired(sessions, "k1"), _desired(sessions, "k2")) == (False, True)
    again = admin.post(f"/api/camera-approvals/{site['approval']}/withdraw")
    assert again.status_code == 409 and "withdrawn already" in again.json()["detail"]
    assert admin.post("/api/camera-approvals/999999/withdraw").status_code == 404
    listed = admin.get(f"/api/locations/{LOUNGE}/camera-approvals").json()
    assert [(a["approval"], a["active"]) for a in listed] == [
        (site["approval"], False),
        (lounge["approval"], True),
    ]


def test_an_approval_needs_every_field_and_a_day_not_in_the_future(admin: TestClient) -> None:
    blank = admin.post("/api/locations/hel/camera-approvals", json=APPROVAL | {"legal_basis": ""})
    assert blank.status_code == 422
    spaces = admin.post("/api/locations/hel/camera-approvals", json=APPROVAL | {"approved_by": " "})
    assert spaces.status_code == 422 and "who approved" in spaces.json()["detail"]
    tomorrow = (NOON.date() + timedelta(days=1)).isoformat()
    future = admin.post(
        "/api/locations/hel/camera-approvals", json=APPROVAL | {"approved_on": tomorrow}
    )
    assert future.status_code == 422 and "future" in future.json()["detail"]
    year_one = admin.post(
        "/api/locations/hel/camera-approvals", json=APPROVAL | {"approved_on": "0001-01-01"}
    )
    assert year_one.status_code == 422 and "before 2000-01-01" in year_one.json()["detail"]
    control = admin.post(
        "/api/locations/hel/camera-approvals", json=APPROVAL | {"deployer_name": "Fin\u202eavia"}
    )
    assert control.status_code == 422
    assert admin.get("/api/locations/hel/camera-approvals").json() == []


def test_a_manager_reads_his_sites_cameras_and_changes_nothing(
    client_at: ClientAt, admin: TestClient, sessions: sessionmaker[Session]
) -> None:
    approval = _approve(admin)
    manager = client_at(NOON, "manager")
    view = manager.get("/api/locations/hel/camera")
    assert view.status_code == 200
    assert view.json()["approval"]["approval"] == approval["approval"]
    assert [k["device"] for k in view.json()["kiosks"]] == ["k1", "k2"]
    assert manager.get("/api/locations/hel/camera-approvals").status_code == 200
    changes = [
        manager.put("/api/locations/hel/audience", json={"audience": "employees"}),
        manager.post("/api/locations/hel/camera-approvals", json=APPROVAL),
        manager.post(f"/api/camera-approvals/{approval['approval']}/withdraw"),
        _switch(manager, "k1", True),
        manager.get("/api/camera-audit"),
        manager.get("/api/exports/camera-audit.csv"),
    ]
    assert [c.status_code for c in changes] == [403] * len(changes)
    assert _desired(sessions, "k1") is None
    assert [e["action"] for e in _audit(admin)] == ["approve"]


def test_another_sites_places_are_not_found(client_at: ClientAt, admin: TestClient) -> None:
    _approve(admin, "osl")
    manager = client_at(NOON, "manager")
    for path in (
        "/api/locations/osl/camera",
        "/api/locations/osl/camera-approvals",
        "/api/locations/osl/camera-notice.pdf",
    ):
        assert manager.get(path).status_code == 404, path
    technician = client_at(NOON, "tech")
    assert technician.get("/api/locations/hel/camera").status_code == 403
    assert technician.get("/api/locations/hel/camera-notice.pdf").status_code == 403


def test_the_notice_is_refused_until_an_approval_covers_the_place(admin: TestClient) -> None:
    refused = admin.get(f"/api/locations/{GATE}/camera-notice.pdf")
    assert refused.status_code == 409 and "no camera approval" in refused.json()["detail"]
    _approve(admin)
    for size in ("A4", "a5"):
        notice = admin.get(f"/api/locations/{GATE}/camera-notice.pdf", params={"size": size})
        assert notice.status_code == 200, notice.text
        assert notice.headers["content-type"] == "application/pdf"
        assert notice.content.startswith(b"%PDF")
        name = f'filename="camera-notice-{GATE}-{size.lower()}.pdf"'
        assert name in notice.headers["content-disposition"]
    assert admin.get(f"/api/locations/{GATE}/camera-notice.pdf?size=A3").status_code == 422


def test_the_audit_log_is_filtered_and_exported_as_csv(admin: TestClient) -> None:
    _approve(admin)
    later = NOON + timedelta(hours=2)
    assert _switch(admin, "k1", True, '=HYPERLINK("x")').status_code == 200
    assert _switch(admin, "k2", True).status_code == 200
    assert [e["device"] for e in _audit(admin, device="k2")] == ["k2"]
    assert [e["device"] for e in _audit(admin, location=LOUNGE)] == ["k2"]
    assert len(_audit(admin, location="hel")) == 3, "the approval at hel too"
    assert _audit(admin, since=later.isoformat()) == []
    assert len(_audit(admin, until=later.isoformat())) == 3
    backwards = admin.get(
        "/api/camera-audit", params={"since": later.isoformat(), "until": NOON.isoformat()}
    )
    assert backwards.status_code == 422
    assert admin.get("/api/camera-audit", params={"location": "nowhere"}).status_code == 404

    export = admin.get("/api/exports/camera-audit.csv", params={"location": "hel-t2"})
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    day = NOON.date().isoformat()
    assert f'filename="seed-camera-audit-hel-t2-{day}.csv"' in export.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [(r["device_id"], r["action"], r["actor"]) for r in rows] == [
        ("k1", "on", "admin"),
        ("k2", "on", "admin"),
    ]
    assert rows[0]["reason"] == '\'=HYPERLINK("x")', "a spreadsheet does not run it"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_no_route_edits_or_deletes_the_audit_log(
    admin: TestClient, web_app: FastAPI, method: str
) -> None:
    _approve(admin)
    assert _switch(admin, "k1", True).status_code == 200
    _, entry = _audit(admin)
    for path in ("/api/camera-audit", "/api/exports/camera-audit.csv"):
        assert admin.request(method, path, json={"reason": "edited"}).status_code == 405, path
    assert admin.request(method, f"/api/camera-audit/{entry['entry']}").status_code == 404
    assert _audit(admin)[-1] == entry
    paths = web_app.openapi()["paths"]
    logs = {path: set(paths[path]) for path in paths if "camera-audit" in path}
    assert logs == {"/api/camera-audit": {"get"}, "/api/exports/camera-audit.csv": {"get"}}


def test_an_unknown_kiosk_is_not_found(admin: TestClient) -> None:
    assert _switch(admin, "k9", True).status_code == 404
    assert _switch(admin, "K1!", True).status_code == 422


def test_the_approved_on_day_is_kept_as_given(admin: TestClient) -> None:
    approval = _approve(admin, approved_on="2026-11-23")
    assert date.fromisoformat(approval["approved_on"]) == NOON.date()


def test_the_location_page_gives_the_camera_forms_to_admins_only(
    client_at: ClientAt, admin: TestClient
) -> None:
    page = admin.get(f"/locations/{GATE}").text
    assert 'id="camera"' in page and 'data-admin="true"' in page
    for form in ("camera-audience-form", "camera-approve-form", "camera-log-csv"):
        assert f'id="{form}"' in page, form
    assert f"/api/locations/{GATE}/camera-notice.pdf?size=A5" in page
    read_only = client_at(NOON, "manager").get(f"/locations/{GATE}").text
    assert 'id="camera"' in read_only and 'data-admin="false"' in read_only
    for form in ("camera-audience-form", "camera-approve-form", "camera-log-csv"):
        assert f'id="{form}"' not in read_only, form


def test_an_audience_whose_cameras_cannot_be_turned_off_is_refused_and_nothing_changes(
    admin: TestClient, web_app: FastAPI, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """A kiosk's config that no longer fits the broker's limit cannot carry the camera's off:
    the whole change is refused (409, saying why), not half made."""
    _approve(admin)
    assert _switch(admin, "k1", True).status_code == 200  # turned off first, then rolled back
    with sessions.begin() as session:  # k2's config grew past a limit the hub then lowered
        kiosk = session.get(Device, "k2")
        assert kiosk is not None
        notices = [
            {"kind": "requested", "team": "t" * 80, "since": NOON, "time_zone": "Europe/Helsinki"}
        ] * 3
        settings = current_settings(kiosk) | {"camera_enabled": True, "notices": notices}
        write_config(kiosk, settings, now=NOON, max_bytes=4096)
    strict = HubSettings(
        data_dir=tmp_path, db="sqlite://", ingest=IngestSettings(max_payload_bytes=400)
    )
    client = TestClient(create_app(strict, sessions, clock=lambda: NOON))
    client.headers["X-CSRF-Token"] = sign_in(client, "admin")
    before = _audit(admin)
    refused = client.put("/api/locations/hel/audience", json={"audience": "employees"})
    assert refused.status_code == 409, refused.text
    assert "the config of k2 would be" in refused.json()["detail"]
    assert "more than the 400" in refused.json()["detail"]
    assert (_desired(sessions, "k1"), _desired(sessions, "k2")) == (True, True), "none turned off"
    assert _audit(admin) == before, "no entry for a change not made"
    view = admin.get("/api/locations/hel/camera").json()
    assert view["audience"] == "public"
