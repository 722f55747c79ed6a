"""The site report as a PDF: it opens, has its pages, and shows the analytics' figures."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub.cli import main
from hub.db import make_engine, session_factory
from hub.hierarchy import LocationTree
from hub.models import Alert
from hub.reporting.analytics import overview
from hub.reporting.pdf import NO_ALERTS, NO_FOLLOWUPS, VERSION_CHANGED, write_site_report
from hub.reporting.summary import signed
from hub.surveys.store import create_survey
from protocol.errors import ConfigError
from protocol.messages import Button
from tests.hub.reporting.director_data import add_all
from tests.hub.reporting.followup_data import DAY, PERIOD, Traffic, add_places
from tests.hub.reporting.pdf_text import page_count, shown_text
from tests.hub.reporting.report_data import WEEK, Presses, add_presses, add_site
from tests.hub.surveys.survey_files import reworded


@pytest.fixture
def week(sessions: sessionmaker[Session]) -> Presses:
    with sessions.begin() as session:
        add_site(session)
        return add_presses(session)


def test_the_report_opens_with_ranking_trend_heat_map_and_alerts(
    sessions: sessionmaker[Session], week: Presses, tmp_path: Path
) -> None:
    path = tmp_path / "hel.pdf"
    written = WEEK.until + timedelta(hours=6, minutes=30)
    with sessions() as session:
        write_site_report(session, "hel", WEEK, path, clock=lambda: written)
        tree = LocationTree.load(session)
        rows = overview(session, tree=tree, visible=tree.subtree("hel"), period=WEEK).locations
    pdf = path.read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert page_count(pdf) == 2  # the summary, then the rest
    text = shown_text(pdf)
    headings = ("HEL: perception report", "Trend by local day", "Ranking", "Alerts", NO_ALERTS)
    for heading in headings:
        assert heading in text
    assert text.index("Best and worst touchpoints") < text.index("Ranking")
    assert "Mon 16 Nov 2026 00:00 to Sun 22 Nov 2026 23:59 (Europe/Helsinki)" in text
    assert f"written {written:%Y-%m-%d %H:%M} UTC" in text
    site = rows[0]
    assert site.responses == week.scored
    assert str(week.scored) in text
    assert f"{site.happy_index:.0f}" in text
    for day in ("Mon 16", "Sun 22"):
        assert day in text


def test_an_empty_week_still_makes_a_report(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with sessions.begin() as session:
        add_site(session)
    with sessions() as session:
        write_site_report(session, "hel", WEEK, tmp_path / "empty.pdf")
    pdf = (tmp_path / "empty.pdf").read_bytes()
    assert page_count(pdf) == 2  # the summary, then the rest
    assert shown_text(pdf).count(NO_FOLLOWUPS) == 2


def test_the_report_says_why_top_reasons_and_how_many_were_asked(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    traffic = Traffic()
    for option in ("queue", "queue", "queue", "staff", None):
        traffic.add(Button.UNHAPPY, option)
    traffic.add(Button.VERY_UNHAPPY)  # not asked
    traffic.add(Button.UNHAPPY, "cleanliness", day=1, version=2)
    traffic.add(Button.HAPPY, "fast", location_id="lane-2")
    traffic.add(Button.VERY_HAPPY, location_id="lane-2")
    with sessions.begin() as session:
        add_places(session)
        create_survey(session, parsed=reworded(), by="ana", now=DAY + timedelta(days=1))
        traffic.store(session)
    with sessions() as session:
        write_site_report(session, "hel", PERIOD, tmp_path / "hel.pdf")
    pdf = (tmp_path / "hel.pdf").read_bytes()
    assert page_count(pdf) == 2  # the summary, then the rest
    text = shown_text(pdf)
    why = text[text.index("Why: the reasons given") : text.index("Alerts")]
    assert text.index("When: hour by day of week") < text.index("Why: the reasons given")
    negative, positive = why.split("After a happy answer")
    assert "After an unhappy answer" in negative
    assert "6 of 7 presses got a follow-up (86%, 95 % CI 49%-97%); 5 answered, 1 left" in negative
    rows = negative.split("\n")
    top = rows.index("Share") + 1
    assert rows[top : top + 9] == [
        *("Queue too long", "3", "60%"),
        *("Cleanliness", "1", "20%"),
        *("Staff", "1", "20%"),
    ]
    assert f"{VERSION_CHANGED}, on Sat 21 Nov (answers to security v1, security v2)" in negative
    assert "1 of 2 presses got a follow-up (50%, 95 % CI 9%-91%)" in positive
    assert "Fast\n1\n100%" in positive
    assert VERSION_CHANGED not in positive and NO_FOLLOWUPS not in why


def test_an_unknown_site_is_a_config_error(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    with sessions() as session, pytest.raises(ConfigError, match="no location 'nowhere'"):
        write_site_report(session, "nowhere", WEEK, tmp_path / "x.pdf")


def test_the_command_line_writes_the_pdf(sqlite_url: str, tmp_path: Path) -> None:
    with session_factory(make_engine(sqlite_url)).begin() as session:
        add_site(session)
        add_presses(session)
    out = tmp_path / "hel.pdf"
    period = ["--since", WEEK.since.isoformat(), "--until", WEEK.until.isoformat()]
    assert main(["report", "--pdf", str(out), "--site", "hel", *period, "--db", sqlite_url]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    assert main(["report", "--pdf", str(out), "--db", sqlite_url]) == 2


def test_the_site_alerts_of_the_period_are_listed(
    sessions: sessionmaker[Session], week: Presses, tmp_path: Path
) -> None:
    with sessions.begin() as session:
        for location, opened in (
            ("hel-wc-b", WEEK.since + timedelta(hours=30)),
            ("hel", WEEK.until),
        ):
            session.add(
                Alert(
                    location_id=location,
                    subject=location,
                    kind="negative_share",
                    rule_text="negative > 50 % in 15 min, n >= 4",
                    message=f"{location} turned sour",
                    opened_at=opened,
                )
            )
    with sessions() as session:
        write_site_report(session, "hel", WEEK, tmp_path / "hel.pdf")
    text = shown_text((tmp_path / "hel.pdf").read_bytes())
    assert "hel-wc-b turned sour" in text
    assert "Tue 17 Nov 2026 06:00" in text
    assert "hel turned sour" not in text  # raised after the period
    assert NO_ALERTS not in text


def test_the_first_page_is_the_directors_summary(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with sessions.begin() as session:
        add_all(session, every_min=20)
    with sessions() as session:
        summary = write_site_report(session, "hel", WEEK, tmp_path / "hel.pdf")
    text = shown_text((tmp_path / "hel.pdf").read_bytes())
    first = text[: text.index("Ranking")]
    score = summary.score
    for shown in (
        f"{score.happy_index:.0f}",
        f"{signed(summary.change)} against the week before ({summary.before.happy_index:.0f})",
        f"{score.positive_share:.0%}",
        f"{score.responses:,}",
        f"{summary.channels['kiosk']:,} kiosk, {summary.channels['web']:,} phone",
        "Best touchpoints",
        *(t.name for t in summary.best + summary.worst if t.name.isascii()),
        "Why travellers were unhappy",
        *(r.label or r.option for r in summary.reasons),
        "Cleaning T2",
        "Security team",
        "Washroom B (Cleaning T2): ",
    ):
        assert shown in first
    assert [team.tasks for team in summary.teams] == [2, 1]
