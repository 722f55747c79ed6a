"""The CSV export and kept-report routes: roles, a manager's sites only, streamed CSV, no
path out of the reports folder, and the reports page with its download links."""

import csv
import html
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hub.reporting import exports
from protocol.messages import Button
from tests.hub.factories import place
from tests.hub.reporting.followup_data import PERIOD as DAYS
from tests.hub.reporting.followup_data import Traffic, add_places
from tests.hub.reporting.report_data import WEEK, Presses, add_presses, add_site

Client = Callable[[str | None], TestClient]
PERIOD = {"since": WEEK.since.isoformat(), "until": WEEK.until.isoformat()}
ROUTES = ("/api/exports/responses.csv", "/api/exports/scores.csv", "/api/exports/reasons.csv")


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


def test_reasons_download_is_a_manager_s_sites_reasons(
    client_as: Client, sessions: sessionmaker[Session]
) -> None:
    traffic = Traffic()
    traffic.add(Button.UNHAPPY, "queue")
    traffic.add(Button.UNHAPPY, None)
    traffic.add(Button.UNHAPPY, "staff", location_id="osl-1")
    with sessions.begin() as session:
        add_places(session)
        place(session, "osl", kind="site", time_zone="UTC")
        place(session, "osl-1", parent="osl", time_zone="UTC")
        traffic.store(session)
    period = {"since": DAYS.since.isoformat(), "until": DAYS.until.isoformat()}
    manager = client_as("manager")
    assert manager.get(ROUTES[2], params={"location": "osl", **period}).status_code == 404
    response = manager.get(ROUTES[2], params=period)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        'attachment; filename="seed-reasons-all-2026-11-20-2026-11-23.csv"'
    )
    rows = _rows(response.text)
    assert {r["location_id"] for r in rows} == {"hel", "lane-1", "lane-2"}
    queue = [r for r in rows if r["location_id"] == "hel" and r["option"] == "queue"]
    assert [
        (r["presses"], r["followups"], r["answered"], r["count"], r["share"], r["label"])
        for r in queue
    ] == [("2", "2", "1", "1", "1.0", "Queue too long")]
    everywhere = _rows(client_as("admin").get(ROUTES[2], params=period).text)
    assert {r["location_id"] for r in everywhere} == {"hel", "lane-1", "lane-2", "osl", "osl-1"}


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


@pytest.fixture
def kept(tmp_path: Path) -> dict[str, bytes]:
    """A weekly PDF on disk for each site, as the scheduler leaves them."""
    files = {}
    for site, week in (("hel", "2026-W47"), ("osl", "2026-W46")):
        pdf = tmp_path / "reports" / site / f"{site}-{week}.pdf"
        pdf.parent.mkdir(parents=True)
        pdf.write_bytes(files.setdefault(site, f"%PDF-1.4 {site}".encode()))
        state = {"site": site, "week": week, "period": WEEK.as_dict(), "emailed_at": None}
        pdf.with_suffix(".json").write_text(json.dumps(state))
    return files


@pytest.mark.parametrize("route", ["/api/reports", "/api/reports/hel/hel-2026-W47.pdf", "/reports"])
def test_reports_need_a_manager(client_as: Client, route: str) -> None:
    assert client_as("tech").get(route).status_code == 403
    response = client_as(None).get(route, follow_redirects=False)
    assert response.status_code in {401, 303}


def test_a_manager_lists_and_downloads_his_sites_reports(
    client_as: Client, kept: dict[str, bytes]
) -> None:
    manager = client_as("manager")
    [report] = manager.get("/api/reports").json()
    assert report["site"] == "hel"
    assert report["week"] == "2026-W47"
    assert report["size"] == len(kept["hel"])
    assert report["emailed_at"] is None
    response = manager.get(report["url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content == kept["hel"]
    assert manager.get("/api/reports/osl/osl-2026-W46.pdf").status_code == 404
    assert len(client_as("admin").get("/api/reports").json()) == 2


@pytest.mark.parametrize(
    "path",
    [
        "/api/reports/hel/..%2F..%2Fhub.sqlite3",
        "/api/reports/hel/..%2Fosl%2Fosl-2026-W46.pdf",
        "/api/reports/hel/hel-2026-W47.json",
        "/api/reports/hel/hel-2026-W48.pdf",
        "/api/reports/..%2Fosl/osl-2026-W46.pdf",
    ],
)
def test_no_path_leads_outside_the_sites_reports(
    client_as: Client, kept: dict[str, bytes], path: str
) -> None:
    assert client_as("admin").get(path).status_code == 404


def test_the_page_lists_reports_and_links_the_csv_exports(
    client_as: Client, kept: dict[str, bytes], week: Presses
) -> None:
    manager = client_as("manager")
    page = manager.get("/reports")
    assert page.status_code == 200
    assert 'href="/api/reports/hel/hel-2026-W47.pdf"' in page.text
    assert "osl-2026-W46" not in page.text
    link = re.search(r'<a id="download-responses-csv"[^>]*href="([^"]+)"', page.text)
    assert link
    response = manager.get(html.unescape(link.group(1)))
    assert response.status_code == 200
    assert response.text.startswith("event_id,")
    link = re.search(r'<a id="download-reasons-csv"[^>]*href="([^"]+)"', page.text)
    assert link
    response = manager.get(html.unescape(link.group(1)))
    assert response.status_code == 200
    assert response.text.startswith("location_id,location_name,kind,time_zone,since_utc,")
