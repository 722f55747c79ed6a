"""The kept PDF reports, daily, weekly and monthly, as the scheduler writes them: listed newest
first with cadence and period, filtered by cadence, each downloaded; no other file served."""

import html
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hub.config import HubSettings, ReportSettings, SmtpSettings
from hub.reporting.schedule import ReportScheduler, read_sidecar
from tests.hub.alerts.conftest import smtp_inbox
from tests.hub.reporting.report_data import add_presses, add_site

Client = Callable[[str | None], TestClient]
# Monday 00:30 in Helsinki (Sunday 23:30 in Oslo); the day before, Sunday 00:30.
MONDAY = datetime(2026, 11, 22, 22, 30, tzinfo=UTC)
RECIPIENTS = '{"hel": ["week@example.org", "daily:day@example.org", "monthly:month@example.org"],'
RECIPIENTS += ' "osl": {"daily": ["dag@example.org"]}}'
HEL = [  # newest first: by the period's end, then the shorter first
    ("daily", "2026-11-22", "2026-11-22", "2026-11-22"),
    ("weekly", "2026-W47", "2026-11-16", "2026-11-22"),
    ("daily", "2026-11-21", "2026-11-21", "2026-11-21"),
    ("weekly", "2026-W46", "2026-11-09", "2026-11-15"),
    ("monthly", "2026-10", "2026-10-01", "2026-10-31"),
]


def _clock(now: datetime) -> Callable[[], datetime]:
    return lambda: now


@pytest.fixture
def written(web_app: FastAPI, sessions: sessionmaker[Session], tmp_path: Path) -> Path:
    """Two nights of the real scheduler's reports (e-mailed through a real SMTP server);
    returns the reports' folder."""
    with sessions.begin() as session:
        add_site(session)
        add_site(session, "osl", "Europe/Oslo")
        add_presses(session)
    with smtp_inbox() as (port, _inbox):
        settings = HubSettings(
            data_dir=tmp_path,
            reports=ReportSettings(recipients=RECIPIENTS),
            smtp=SmtpSettings(host="127.0.0.1", port=port, starttls=False),
        )
        for now in (MONDAY - timedelta(days=1), MONDAY):
            ReportScheduler(settings, sessions, clock=_clock(now)).run_once()
    return tmp_path / "reports"


def _described(reports: list[dict[str, str]]) -> list[tuple[str, str, str, str]]:
    return [(r["cadence"], r["label"], r["first_day"], r["last_day"]) for r in reports]


def test_every_report_of_a_managers_sites_is_listed_newest_first(
    client_as: Client, written: Path
) -> None:
    reports = client_as("manager").get("/api/reports").json()
    assert {r["site"] for r in reports} == {"hel"}
    assert _described(reports) == HEL
    weekly, monthly = reports[1], reports[4]
    assert weekly["week"] == "2026-W47"
    assert weekly["file"] == "hel-2026-W47.pdf"
    assert weekly["url"] == "/api/reports/hel/hel-2026-W47.pdf"
    assert monthly["week"] is None
    assert monthly["url"] == "/api/reports/hel/hel-2026-10.pdf"
    assert monthly["period"] == {
        "since": "2026-09-30T21:00:00+00:00",
        "until": "2026-10-31T22:00:00+00:00",
    }
    pdf = written / "hel" / "monthly" / "hel-2026-10.pdf"
    assert monthly["size"] == pdf.stat().st_size
    assert monthly["emailed_at"] == read_sidecar(pdf)["emailed_at"] is not None


def test_an_admin_sees_every_sites_reports_newest_first(client_as: Client, written: Path) -> None:
    reports = client_as("admin").get("/api/reports").json()
    osl = [r for r in reports if r["site"] == "osl"]
    assert _described(osl) == [
        ("daily", "2026-11-21", "2026-11-21", "2026-11-21"),
        ("daily", "2026-11-20", "2026-11-20", "2026-11-20"),
        ("weekly", "2026-W46", "2026-11-09", "2026-11-15"),
    ]
    assert osl[-1]["emailed_at"] is None  # nobody gets Oslo's weekly report
    ends = [(r["last_day"], r["first_day"]) for r in reports]
    assert ends == sorted(ends, reverse=True)
    assert len(reports) == len(HEL) + len(osl)


@pytest.mark.parametrize("cadence", ["daily", "weekly", "monthly"])
def test_the_list_keeps_to_one_cadence(client_as: Client, written: Path, cadence: str) -> None:
    reports = client_as("manager").get("/api/reports", params={"cadence": cadence}).json()
    assert _described(reports) == [r for r in HEL if r[0] == cadence]


def test_the_list_takes_the_newest_few_and_refuses_an_unknown_cadence(
    client_as: Client, written: Path
) -> None:
    manager = client_as("manager")
    assert _described(manager.get("/api/reports", params={"limit": 2}).json()) == HEL[:2]
    assert manager.get("/api/reports", params={"cadence": "yearly"}).status_code == 422
    assert manager.get("/api/reports", params={"limit": 0}).status_code == 422


def test_each_listed_report_downloads(client_as: Client, written: Path) -> None:
    admin = client_as("admin")
    reports = admin.get("/api/reports").json()
    assert {r["cadence"] for r in reports} == {"daily", "weekly", "monthly"}
    for report in reports:
        folder = written / report["site"]
        if report["cadence"] != "weekly":
            folder /= report["cadence"]
        response = admin.get(report["url"])
        assert response.status_code == 200, report["url"]
        assert response.headers["content-type"] == "application/pdf"
        assert response.content == (folder / report["file"]).read_bytes()
        assert response.content.startswith(b"%PDF")


@pytest.fixture
def planted(written: Path) -> Iterator[Path]:
    """Files a report's name must never reach: a secret beside the reports, a link to it
    named like a report, and a report-like name in the wrong folder."""
    secret = written.parent / "secret.pdf"
    secret.write_bytes(b"%PDF secret")
    (written / "hel" / "daily" / "hel-2026-11-23.pdf").symlink_to(secret)
    (written / "hel" / "monthly" / "hel-2026-11-20.pdf").write_bytes(b"%PDF misplaced")
    (written / "hel" / "daily" / "notes.pdf").write_bytes(b"%PDF notes")
    yield secret


OUTSIDE = [
    "/api/reports/hel/..%2F..%2Fsecret.pdf",
    "/api/reports/hel/..%2F..%2Fhub.sqlite3",
    "/api/reports/hel/daily%2Fhel-2026-11-22.pdf",
    "/api/reports/hel/..%2Fosl%2Fdaily%2Fosl-2026-11-21.pdf",
    "/api/reports/hel/osl-2026-11-21.pdf",
    "/api/reports/hel/hel-2026-11-22.json",
    "/api/reports/hel/hel-2026-W47.json",
    "/api/reports/hel/hel-2026-11-23.pdf",
    "/api/reports/hel/hel-2026-11-20.pdf",
    "/api/reports/hel/hel-2026-13-01.pdf",
    "/api/reports/hel/hel-2026-W54.pdf",
    "/api/reports/hel/notes.pdf",
    "/api/reports/hel/%2E%2E%2Fsecret.pdf",
    "/api/reports/..%2Fosl/osl-2026-W46.pdf",
    "/api/reports/daily/hel-2026-11-22.pdf",
    "/api/reports/osl/osl-2026-11-21.pdf",  # not the manager's site
]


def test_no_path_leads_outside_the_sites_reports(client_as: Client, planted: Path) -> None:
    manager = client_as("manager")
    answered = {path: manager.get(path) for path in OUTSIDE}
    assert {path: r.status_code for path, r in answered.items()} == dict.fromkeys(OUTSIDE, 404)
    assert not [path for path, r in answered.items() if b"%PDF" in r.content]


def test_planted_files_are_not_listed(client_as: Client, planted: Path) -> None:
    reports = client_as("admin").get("/api/reports").json()
    assert not {"hel-2026-11-23.pdf", "hel-2026-11-20.pdf", "notes.pdf"} & {
        r["file"] for r in reports
    }
    assert client_as("admin").get("/api/reports/osl/osl-2026-11-21.pdf").status_code == 200


def _rows(page: str) -> list[tuple[str, str]]:
    """The page's table: each row's cadence and link."""
    return re.findall(r'<tr id="report-\d+" data-cadence="(\w+)">.*?<a href="([^"]+)"', page, re.S)


def test_the_page_lists_every_cadence_with_its_period_and_link(
    client_as: Client, written: Path
) -> None:
    page = client_as("manager").get("/reports")
    assert page.status_code == 200
    urls = [f"/api/reports/hel/hel-{label}.pdf" for _, label, _, _ in HEL]
    assert _rows(page.text) == [
        (cadence, url) for (cadence, *_), url in zip(HEL, urls, strict=True)
    ]
    assert "osl-" not in page.text
    assert (
        '<time class="period" datetime="2026-W47" data-cadence="weekly"\n'
        '          data-first="2026-11-16" data-last="2026-11-22">2026-W47</time>'
    ) in page.text
    assert '<option value="all" selected>' in page.text
    for column in ("Cadence", "Period", "E-mailed"):
        assert f'data-label="{column}"' in page.text


def test_the_page_filters_by_cadence(client_as: Client, written: Path) -> None:
    manager = client_as("manager")
    page = manager.get("/reports", params={"cadence": "monthly"}).text
    assert _rows(page) == [("monthly", "/api/reports/hel/hel-2026-10.pdf")]
    assert '<option value="monthly" selected>' in page
    none = client_as("tech").get("/reports", params={"cadence": "daily"})
    assert none.status_code == 403
    assert manager.get("/reports", params={"cadence": "hourly"}).status_code == 422


def test_the_page_lists_the_newest_and_offers_the_older(client_as: Client, written: Path) -> None:
    manager = client_as("manager")
    page = manager.get("/reports", params={"limit": 2}).text
    assert [cadence for cadence, _ in _rows(page)] == ["daily", "weekly"]
    more = re.search(r'<a id="reports-more" href="([^"]+)"', page)
    assert more
    assert html.unescape(more.group(1)) == "/reports?cadence=all&limit=102#report-2"
    page = manager.get(html.unescape(more.group(1))).text
    assert len(_rows(page)) == len(HEL)
    assert 'id="reports-more"' not in page


def test_an_empty_cadence_says_so(client_as: Client, web_app: FastAPI) -> None:
    manager = client_as("manager")
    page = manager.get("/reports").text
    assert 'id="reports-none"' in page
    assert 'id="reports-filter"' not in page
    page = manager.get("/reports", params={"cadence": "daily"}).text
    assert "No reports of this cadence yet." in page
    assert 'id="reports-filter"' in page
