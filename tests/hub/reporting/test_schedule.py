"""Scheduled reports: daily, weekly and monthly per recipient, each in its site's time zone,
written once and e-mailed once to each recipient across restarts."""

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub.config import HubSettings, ReportSettings, SmtpSettings
from hub.reporting.schedule import (
    ReportScheduler,
    last_full,
    last_full_week,
    read_sidecar,
    reports_dir,
)
from hub.rollups.buckets import Period
from tests.hub.alerts.test_delivery import Inbox, smtp_server  # noqa: F401 (a fixture)
from tests.hub.reporting.pdf_text import shown_text
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
    def make(recipients: str = "", smtp_port: int = 587, now: datetime = MONDAY) -> ReportScheduler:
        hub = HubSettings(
            data_dir=tmp_path,
            reports=ReportSettings(recipients=recipients),
            smtp=SmtpSettings(host="127.0.0.1", port=smtp_port, starttls=False),
        )
        return ReportScheduler(hub, sites, clock=lambda: now, check_every_s=3600)

    return make


def test_the_last_full_week_ends_at_monday_midnight_local() -> None:
    helsinki = last_full_week("hel", "Europe/Helsinki", MONDAY)
    assert (helsinki.label, helsinki.period, helsinki.previous) == (
        "2026-W47",
        WEEK,
        WEEK.previous(),
    )
    assert last_full_week("osl", "Europe/Oslo", MONDAY).label == "2026-W46"


def test_days_and_months_end_at_local_midnight() -> None:
    sunday = Period(WEEK.until - timedelta(days=1), WEEK.until)
    day = last_full("daily", "hel", "Europe/Helsinki", MONDAY)
    assert (day.label, day.period, day.previous) == ("2026-11-22", sunday, sunday.previous())
    assert last_full("daily", "osl", "Europe/Oslo", MONDAY).label == "2026-11-21"
    assert last_full("monthly", "hel", "Europe/Helsinki", MONDAY).label == "2026-10"
    first_of_december = datetime(2026, 11, 30, 22, 30, tzinfo=UTC)  # 00:30 in Helsinki
    november = last_full("monthly", "hel", "Europe/Helsinki", first_of_december)
    october_1 = datetime(2026, 9, 30, 21, tzinfo=UTC)  # summer time: UTC+3
    assert (november.label, november.previous) == (
        "2026-11",
        Period(october_1, november.period.since),
    )
    assert november.period == Period(
        datetime(2026, 10, 31, 22, tzinfo=UTC), first_of_december - timedelta(minutes=30)
    )
    assert last_full("monthly", "osl", "Europe/Oslo", first_of_december).label == "2026-10"


def _parts(raw: bytes) -> tuple[EmailMessage, str, str, bytes]:
    """The message, its plain text, its HTML and its PDF."""
    mail = message_from_bytes(raw, policy=policy.default)
    assert isinstance(mail, EmailMessage)
    assert mail.get_content_type() == "multipart/mixed"
    [alternative] = [
        p for p in mail.iter_parts() if p.get_content_type() == "multipart/alternative"
    ]
    text, html = (alternative.get_body((kind,)) for kind in ("plain", "html"))
    assert text is not None and html is not None
    [attachment] = list(mail.iter_attachments())
    pdf = attachment.get_payload(decode=True)
    assert isinstance(pdf, bytes)
    return mail, text.get_content(), html.get_content(), pdf


def test_each_site_week_is_written_once_and_mailed_once_across_restarts(
    scheduler_for: Callable[..., ReportScheduler],
    smtp_server: tuple[int, Inbox],  # noqa: F811
    tmp_path: Path,
) -> None:
    port, inbox = smtp_server
    recipients = "hel=duty@example.org,boss@example.org"
    down = scheduler_for(recipients=recipients, smtp_port=1)  # nothing listens on 1
    written = down.run_once()
    assert sorted((w.site, w.label) for w in written) == [("hel", "2026-W47"), ("osl", "2026-W46")]
    pdf = reports_dir(down.settings) / "hel" / "hel-2026-W47.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert read_sidecar(pdf)["emailed_at"] is None
    assert inbox.messages == []

    restarted = scheduler_for(recipients=recipients, smtp_port=port)
    assert restarted.run_once() == []  # nothing redone...
    assert scheduler_for(recipients=recipients, smtp_port=port).run_once() == []
    duty, boss = inbox.messages  # ...and mailed once to each when the server came up
    for raw, address in ((duty, "duty@example.org"), (boss, "boss@example.org")):
        mail, text, html, attached = _parts(raw)
        assert mail["To"] == address
        assert mail["Subject"] == "Seed: hel weekly report 2026-W47"
        assert mail.get_filename() is None and attached == pdf.read_bytes()
        assert text.startswith(
            "The weekly perception report of HEL for Mon 16 Nov to Sun 22 Nov 2026 is attached."
        )
        assert "Happy Index" in text and "Responses" in text
        assert '<html lang="en">' in html and "Happy Index" in html
    state = json.loads(pdf.with_suffix(".json").read_text())
    assert state["emailed_to"] == ["duty@example.org", "boss@example.org"]
    assert state["period"] == WEEK.as_dict()
    assert state["week"] == "2026-W47"
    assert not (tmp_path / "reports" / "osl" / "osl-2026-W46.json").read_text().count("@")


def test_daily_weekly_and_monthly_go_to_their_recipients_at_local_midnight(
    scheduler_for: Callable[..., ReportScheduler],
    smtp_server: tuple[int, Inbox],  # noqa: F811
    tmp_path: Path,
) -> None:
    port, inbox = smtp_server
    recipients = (
        '{"hel": ["week@example.org", "daily:day@example.org", "monthly:month@example.org"],'
        ' "osl": {"daily": ["dag@example.org"]}}'
    )
    scheduler = scheduler_for(recipients=recipients, smtp_port=port)
    written = scheduler.run_once()
    # Monday 00:30 in Helsinki, Sunday 23:30 in Oslo
    assert sorted((w.site, w.cadence, w.label) for w in written) == [
        ("hel", "daily", "2026-11-22"),
        ("hel", "monthly", "2026-10"),
        ("hel", "weekly", "2026-W47"),
        ("osl", "daily", "2026-11-21"),
        ("osl", "weekly", "2026-W46"),
    ]
    assert _sent(inbox) == {
        ("day@example.org", "Seed: hel daily report 2026-11-22"),
        ("month@example.org", "Seed: hel monthly report 2026-10"),
        ("week@example.org", "Seed: hel weekly report 2026-W47"),
        ("dag@example.org", "Seed: osl daily report 2026-11-21"),
    }
    daily = tmp_path / "reports" / "hel" / "daily" / "hel-2026-11-22.pdf"
    assert "Trend by local hour" in shown_text(daily.read_bytes())
    assert not list((tmp_path / "reports" / "osl").glob("monthly"))  # nobody gets it

    an_hour_later = MONDAY + timedelta(hours=1)  # Oslo's Sunday is over too
    inbox.messages.clear()
    again = scheduler_for(recipients=recipients, smtp_port=port, now=an_hour_later)
    assert [(w.site, w.label) for w in again.run_once()] == [
        ("osl", "2026-11-22"),
        ("osl", "2026-W47"),
    ]
    assert _sent(inbox) == {("dag@example.org", "Seed: osl daily report 2026-11-22")}
    inbox.messages.clear()
    assert scheduler_for(recipients=recipients, smtp_port=port, now=an_hour_later).run_once() == []
    assert inbox.messages == []


def _sent(inbox: Inbox) -> set[tuple[str, str]]:
    mails = [message_from_bytes(raw) for raw in inbox.messages]
    sent = {(mail["To"], mail["Subject"]) for mail in mails}
    assert len(sent) == len(mails)  # none twice
    return sent


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
    with pytest.raises(ValueError, match="write daily:, weekly: or monthly: before an address"):
        ReportSettings(recipients="hel=hourly:a@example.org")
    with pytest.raises(ValueError, match=r"not JSON .*write site=address"):
        ReportSettings(recipients='{"hel": nope}')
    with pytest.raises(ValueError, match="site 'hel': a list of addresses is wanted"):
        ReportSettings(recipients='{"hel": "a@example.org"}')
    parsed = ReportSettings(recipients='{"hel": ["a@example.org"]}').recipients
    assert parsed == {"hel": ["a@example.org"]}
    given = "hel=a@example.org,Daily:b@example.org,weekly:a@example.org,monthly:c@example.org"
    settings = ReportSettings(recipients=given)
    assert settings.recipients == {
        "hel": ["a@example.org", "daily:b@example.org", "monthly:c@example.org"]
    }
    assert [settings.addresses("hel", c) for c in ("daily", "weekly", "monthly")] == [
        ["b@example.org"],
        ["a@example.org"],
        ["c@example.org"],
    ]
    mapped = ReportSettings(recipients='{"hel": {"daily": ["b@example.org"], "weekly": []}}')
    assert mapped.recipients == {"hel": ["daily:b@example.org"]}
    assert settings.addresses("osl", "weekly") == []
