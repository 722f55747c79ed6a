"""Weekly reports: once per site-week in each site's time zone, e-mailed once across restarts."""

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email import message_from_bytes
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub.config import HubSettings, ReportSettings, SmtpSettings
from hub.reporting.schedule import ReportScheduler, last_full_week, read_sidecar, reports_dir
from tests.hub.alerts.test_delivery import Inbox, smtp_server  # noqa: F401 (a fixture)
from tests.hub.reporting.report_data import WEEK, add_presses, add_site

# Monday 00:30 in Helsinki is still Sunday 23:30 in Oslo: Oslo's week 47 is not over yet.
MONDAY = datetime(2026, 11, 22, 22, 30, tzinfo=UTC)


@pytest.fixture
def sites(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with sessions.begin() as session:
        add_site(session)
        add_site(session, "osl", "Europe/Oslo")
        add_presses(session)
    return sessions


@pytest.fixture
def scheduler_for(sites: sessionmaker[Session], tmp_path: Path) -> Callable[..., ReportScheduler]:
    def make(recipients: str = "", smtp_port: int = 587) -> ReportScheduler:
        hub = HubSettings(
            data_dir=tmp_path,
            reports=ReportSettings(recipients=recipients),
            smtp=SmtpSettings(host="127.0.0.1", port=smtp_port, starttls=False),
        )
        return ReportScheduler(hub, sites, clock=lambda: MONDAY, check_every_s=3600)

    return make


def test_the_last_full_week_ends_at_monday_midnight_local() -> None:
    helsinki = last_full_week("hel", "Europe/Helsinki", MONDAY)
    assert (helsinki.week, helsinki.period) == ("2026-W47", WEEK)
    assert last_full_week("osl", "Europe/Oslo", MONDAY).week == "2026-W46"


def test_each_site_week_is_written_once_and_mailed_once_across_restarts(
    scheduler_for: Callable[..., ReportScheduler],
    smtp_server: tuple[int, Inbox],  # noqa: F811
    tmp_path: Path,
) -> None:
    port, inbox = smtp_server
    recipients = "hel=duty@example.org,boss@example.org"
    down = scheduler_for(recipients=recipients, smtp_port=1)  # nothing listens on 1
    written = down.run_once()
    assert sorted((w.site, w.week) for w in written) == [("hel", "2026-W47"), ("osl", "2026-W46")]
    pdf = reports_dir(down.settings) / "hel" / "hel-2026-W47.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert read_sidecar(pdf)["emailed_at"] is None
    assert inbox.messages == []

    restarted = scheduler_for(recipients=recipients, smtp_port=port)
    assert restarted.run_once() == []  # nothing redone...
    assert scheduler_for(recipients=recipients, smtp_port=port).run_once() == []
    [raw] = inbox.messages  # ...and mailed exactly once when the server came up
    mail = message_from_bytes(raw)
    assert mail["To"] == "duty@example.org, boss@example.org"
    assert mail["Subject"] == "Seed: hel weekly report 2026-W47"
    [attachment] = [part for part in mail.walk() if part.get_filename()]
    assert attachment.get_filename() == "hel-2026-W47.pdf"
    assert attachment.get_payload(decode=True) == pdf.read_bytes()
    state = json.loads(pdf.with_suffix(".json").read_text())
    assert state["emailed_to"] == ["duty@example.org", "boss@example.org"]
    assert state["period"] == WEEK.as_dict()
    assert not (tmp_path / "reports" / "osl" / "osl-2026-W46.json").read_text().count("@")


def test_the_thread_writes_the_due_reports_and_stops(
    scheduler_for: Callable[..., ReportScheduler], tmp_path: Path
) -> None:
    scheduler = scheduler_for()
    scheduler.start()
    pdf = tmp_path / "reports" / "osl" / "osl-2026-W46.pdf"
    deadline = time.monotonic() + 30
    while not pdf.with_suffix(".json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    scheduler.stop()
    assert pdf.exists()


def test_recipients_are_checked_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="'nope' \\(for site 'hel'\\) is not an e-mail address"):
        ReportSettings(recipients="hel=nope")
    with pytest.raises(ValueError, match="write site=address"):
        ReportSettings(recipients="duty@example.org")
    parsed = ReportSettings(recipients='{"hel": ["a@example.org"]}').recipients
    assert parsed == {"hel": ["a@example.org"]}
