"""The alerts API and page: what each role may see and do, and the shapes it answers with."""

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hub.alerts.records import add_rule, open_alert
from hub.alerts.rules import Rule, RuleKind
from hub.models import AlertRule, Location
from tests.hub.factories import NOON

Client = Callable[[str | None], TestClient]


@pytest.fixture
def alerts(web_app: FastAPI, sessions: sessionmaker[Session]) -> dict[str, int]:
    """An alert at a touchpoint under hel (the manager's site) and one at osl."""
    ids: dict[str, int] = {}
    with sessions.begin() as session:
        session.add(
            Location(
                location_id="hel-gate",
                name="Gate",
                time_zone="Europe/Helsinki",
                created_at=NOON,
                kind="touchpoint",
                parent_id="hel",
            )
        )
        for location_id in ("hel-gate", "osl"):
            rule = Rule(0, location_id, RuleKind.NEGATIVE_SHARE, 50, 15, 4)
            rule = Rule.from_row(add_rule(session, rule=rule, created_by="admin", now=NOON))
            alert = open_alert(
                session,
                rule=rule,
                subject=location_id,
                location_id=location_id,
                message="60 % negative",
                now=NOON,
                channels=("mqtt",),
            )
            ids[location_id] = alert.id
    return ids


def test_a_manager_sees_his_sites_alerts_only(client_as: Client, alerts: dict[str, int]) -> None:
    manager = client_as("manager")
    found = manager.get("/api/alerts").json()
    assert [a["location"] for a in found] == ["hel-gate"]
    assert found[0]["location_name"] == "Gate"
    assert manager.get("/api/alerts?location=hel").json()[0]["id"] == alerts["hel-gate"]
    assert manager.get("/api/alerts?location=osl").status_code == 404
    assert manager.post(f"/api/alerts/{alerts['osl']}/acknowledge", json={}).status_code == 404
    admin = client_as("admin")
    assert len(admin.get("/api/alerts?state=all").json()) == 2


def test_acknowledge_and_comment(client_as: Client, alerts: dict[str, int]) -> None:
    manager = client_as("manager")
    alert_id = alerts["hel-gate"]
    answer = manager.post(f"/api/alerts/{alert_id}/acknowledge", json={"comment": "on it"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["acknowledged_by"] == "manager"
    assert [(c["author"], c["text"]) for c in body["comments"]] == [("manager", "on it")]
    again = manager.post(f"/api/alerts/{alert_id}/comments", json={"text": "cleaned"}).json()
    assert [c["text"] for c in again["comments"]] == ["on it", "cleaned"]
    assert again["acknowledged_at"] == body["acknowledged_at"]
    assert manager.get("/api/alerts?state=open").json() == []
    assert [a["id"] for a in manager.get("/api/alerts?state=acknowledged").json()] == [alert_id]
    assert manager.post(f"/api/alerts/{alert_id}/comments", json={"text": ""}).status_code == 422


def test_acknowledgements_comments_and_rules_are_stamped_by_the_app_s_clock(
    client_at: Callable[[datetime, str], TestClient],
    alerts: dict[str, int],
    sessions: sessionmaker[Session],
) -> None:
    later = NOON + timedelta(minutes=5)
    manager = client_at(later, "manager")
    alert_id = alerts["hel-gate"]
    acknowledged = manager.post(f"/api/alerts/{alert_id}/acknowledge", json={}).json()
    commented = manager.post(f"/api/alerts/{alert_id}/comments", json={"text": "mopped"}).json()
    rule = {"location": "hel", "kind": "negative_share", "threshold": 50, "window_min": 15}
    rule_id = manager.post("/api/alert-rules", json=rule).json()["id"]
    assert datetime.fromisoformat(acknowledged["acknowledged_at"]) == later
    assert [datetime.fromisoformat(c["at"]) for c in commented["comments"]] == [later]
    with sessions() as session:
        row = session.get(AlertRule, rule_id)
        assert row is not None
        assert row.created_at == later


def test_roles(client_as: Client, alerts: dict[str, int]) -> None:
    assert client_as(None).get("/api/alerts").status_code == 401
    tech = client_as("tech")
    assert tech.get("/api/alerts").status_code == 403
    assert tech.post(f"/api/alerts/{alerts['osl']}/acknowledge", json={}).status_code == 403
    assert tech.get("/api/alert-rules").status_code == 403
    no_csrf = client_as("admin")
    no_csrf.headers.pop("X-CSRF-Token")
    assert no_csrf.post(f"/api/alerts/{alerts['osl']}/acknowledge", json={}).status_code == 403


def test_rules_are_made_at_ones_own_places(client_as: Client, alerts: dict[str, int]) -> None:
    manager = client_as("manager")
    rule = {
        "location": "hel",
        "kind": "negative_share",
        "threshold": 50,
        "window_min": 15,
        "min_responses": 4,
        "quiet": "22:00-06:00",
    }
    made = manager.post("/api/alert-rules", json=rule)
    assert made.status_code == 201, made.text
    assert made.json()["description"].endswith("quiet 22:00-06:00")
    assert manager.post("/api/alert-rules", json={**rule, "location": "osl"}).status_code == 404
    assert manager.post("/api/alert-rules", json={**rule, "threshold": 500}).status_code == 422
    assert (
        manager.post("/api/alert-rules", json={**rule, "quiet": "99:00-06:00"}).status_code == 422
    )
    assert (
        manager.post(
            "/api/alert-rules", json={**rule, "kind": "answer_count", "threshold": 3}
        ).status_code
        == 422
    )  # no button
    admin = client_as("admin")
    admin.post("/api/alert-rules", json={**rule, "location": "osl"})
    assert [r["location"] for r in manager.get("/api/alert-rules").json()] == ["hel-gate", "hel"]
    assert len(admin.get("/api/alert-rules").json()) == 4
    osl_rule = admin.get("/api/alert-rules").json()[-1]["id"]
    assert manager.delete(f"/api/alert-rules/{osl_rule}").status_code == 404
    assert admin.delete(f"/api/alert-rules/{osl_rule}").status_code == 204


def test_the_page_lists_alerts_with_controls(client_as: Client, alerts: dict[str, int]) -> None:
    page = client_as("manager").get("/alerts")
    assert page.status_code == 200
    assert "/static/alerts.js" in page.text
    script = client_as(None).get("/static/alerts.js").text
    assert 'class: "acknowledge", "data-alert-id"' in script
    assert client_as("tech").get("/alerts").status_code == 403


def test_the_openapi_document_describes_the_alert_routes(client_as: Client) -> None:
    paths = client_as("admin").get("/openapi.json").json()["paths"]
    assert {
        "/api/alerts",
        "/api/alerts/{alert_id}/acknowledge",
        "/api/alerts/{alert_id}/comments",
        "/api/alert-rules",
    } <= set(paths)


def test_ids_out_of_range_are_refused_not_crashed(client_as: Client) -> None:
    admin = client_as("admin")
    assert admin.post("/api/alerts/99999999999999/comments", json={"text": "x"}).status_code == 422
    assert admin.post("/api/alerts/5/comments", json={"text": "x"}).status_code == 404
    assert admin.get("/api/alerts?location=" + "x" * 65).status_code == 422
