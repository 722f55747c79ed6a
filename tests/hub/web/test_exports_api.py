"""The CSV export routes: roles, a manager's sites only, attachments, streamed in chunks."""

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hub import exports
from tests.hub.report_data import WEEK, Presses, add_presses, add_site

Client = Callable[[str | None], TestClient]
PERIOD = {"since": WEEK.since.isoformat(), "until": WEEK.until.isoformat()}
ROUTES = ("/api/exports/responses.csv", "/api/exports/scores.csv")


@pytest.fixture
def week(web_app: FastAPI, sessions: sessionmaker[Session]) -> Presses:
    with sessions.begin() as session:
        add_site(session)
        add_site(session, "osl", "Europe/Oslo")
        add_presses(session, site="osl")
        return add_presses(session)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(("who", "status"), [(None, 401), ("tech", 403)])
def test_only_managers_and_admins_export(
    client_as: Client, route: str, who: str | None, status: int
) -> None:
    assert client_as(who).get(route).status_code == status


@pytest.mark.parametrize("route", ROUTES)
def test_a_manager_exports_his_sites_only(client_as: Client, week: Presses, route: str) -> None:
    manager = client_as("manager")
    assert manager.get(route, params={"location": "osl-gate-a"}).status_code == 404
    assert manager.get(route, params={"location": "nowhere"}).status_code == 404
    response = manager.get(route, params={**PERIOD, "by": "location"})
    assert response.status_code == 200
    assert {r["location_id"][:3] for r in _rows(response.text)} == {"hel"}


def test_responses_download_is_an_attachment_of_every_press(
    client_as: Client, week: Presses
) -> None:
    response = client_as("admin").get(ROUTES[0], params={"location": "hel", **PERIOD})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        'attachment; filename="seed-responses-hel-2026-11-15-2026-11-22.csv"'
    )
    rows = _rows(response.text)
    assert len(rows) == week.total
    assert sum(r["misuse"] == "true" for r in rows) == week.misuse


def test_scores_download_adds_up(client_as: Client, week: Presses) -> None:
    response = client_as("manager").get(
        ROUTES[1], params={"location": "hel", "by": "day", **PERIOD}
    )
    assert response.status_code == 200
    assert "seed-scores-by-day-hel-" in response.headers["content-disposition"]
    site = [r for r in _rows(response.text) if r["location_id"] == "hel"]
    assert sum(int(r["responses"]) for r in site) == week.scored


def test_bad_parameters_are_refused(client_as: Client) -> None:
    admin = client_as("admin")
    assert admin.get(ROUTES[1], params={"by": "month"}).status_code == 422
    backwards = {"since": WEEK.until.isoformat(), "until": WEEK.since.isoformat()}
    assert admin.get(ROUTES[0], params=backwards).status_code == 422


def test_the_body_is_sent_in_chunks(
    client_as: Client, web_app: FastAPI, week: Presses, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "CHUNK_ROWS", 50)
    bodies: list[int] = []

    async def spy(scope: Any, receive: Any, send: Any) -> None:
        async def counted(message: Any) -> None:
            if message["type"] == "http.response.body":
                bodies.append(len(message.get("body", b"")))
            await send(message)

        await web_app(scope, receive, counted)

    signed_in = client_as("admin")
    with TestClient(spy, cookies=signed_in.cookies) as client:
        response = client.get(ROUTES[0], params={"location": "hel", **PERIOD})
    assert response.status_code == 200
    assert len([n for n in bodies if n]) >= week.total // 50
