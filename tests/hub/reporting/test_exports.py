"""CSV exports: every stored press once, scores that add up, and memory that stays bounded."""

import csv
import io
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, text
from sqlalchemy.orm import Session, sessionmaker

from hub.cli import main
from hub.db import make_engine, session_factory
from hub.hierarchy import LocationTree
from hub.models import Event
from hub.reporting import exports
from hub.reporting.exports import (
    REASON_COLUMNS,
    RESPONSE_COLUMNS,
    reasons_csv,
    responses_csv,
    scores_csv,
)
from hub.reporting.scores import wilson_interval
from hub.rollups.buckets import Period
from hub.surveys.store import create_survey
from protocol.messages import Button
from tests.hub.factories import press
from tests.hub.reporting.followup_data import DAY, PERIOD, Traffic, add_places
from tests.hub.reporting.report_data import WEEK, Presses, add_presses, add_site
from tests.hub.surveys.survey_files import reworded


@pytest.fixture
def week(sessions: sessionmaker[Session]) -> Presses:
    with sessions.begin() as session:
        add_site(session)
        add_site(session, "osl", "Europe/Oslo")
        add_presses(session, site="osl")
        return add_presses(session)


def _rows(chunks: object) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO("".join(chunks))))  # type: ignore[arg-type]


def test_responses_are_every_press_of_the_subtree_once(
    sessions: sessionmaker[Session], week: Presses
) -> None:
    with sessions() as session:
        tree = LocationTree.load(session)
        rows = _rows(responses_csv(session, tree.subtree("hel"), WEEK))
    assert list(rows[0]) == list(RESPONSE_COLUMNS)
    assert len(rows) == week.total
    assert len({r["event_id"] for r in rows}) == week.total
    assert sum(r["misuse"] == "true" for r in rows) == week.misuse
    assert {r["location_id"] for r in rows} == {"hel-gate-a", "hel-wc-b"}
    first = rows[0]
    assert first["occurred_at_utc"] == "2026-11-15T22:00:00Z"
    assert first["occurred_at_local"] == "2026-11-16T00:00:00+02:00"
    assert first["time_zone"] == "Europe/Helsinki"


def test_responses_keep_to_the_period_and_the_location(
    sessions: sessionmaker[Session], week: Presses
) -> None:
    day = Period(WEEK.since, WEEK.since + timedelta(days=1))
    with sessions() as session:
        rows = _rows(responses_csv(session, {"hel-gate-a"}, day))
    assert rows and all(r["location_id"] == "hel-gate-a" for r in rows)
    assert all("2026-11-15T22" <= r["occurred_at_utc"] < "2026-11-16T22" for r in rows)
    assert len(rows) == len(range(0, 24 * 60, 47 * 2))


@pytest.mark.parametrize("by", ["hour", "day", "week"])
def test_scores_per_step_add_up_to_the_presses(
    sessions: sessionmaker[Session], week: Presses, by: exports.By
) -> None:
    with sessions() as session:
        tree = LocationTree.load(session)
        rows = _rows(scores_csv(session, tree, tree.subtree("hel"), WEEK, by))
    site = [r for r in rows if r["location_id"] == "hel"]
    assert sum(int(r["responses"]) for r in site) == week.scored
    for button, n in week.by_button.items():
        assert sum(int(r[button.value]) for r in site) == n
    touchpoints = [r for r in rows if r["kind"] == "touchpoint"]
    assert sum(int(r["responses"]) for r in touchpoints) == week.scored
    if by == "day":
        assert site[0]["start_local"] == "2026-11-16T00:00:00+02:00"
        assert len(site) == 7
    if by == "week":
        assert [(r["start_utc"], r["bucket"]) for r in site] == [("2026-11-15T22:00:00Z", "week")]


def test_scores_by_location_rank_and_count_misuse(
    sessions: sessionmaker[Session], week: Presses
) -> None:
    with sessions() as session:
        tree = LocationTree.load(session)
        rows = _rows(scores_csv(session, tree, tree.subtree("hel"), WEEK, "location"))
    by_id = {r["location_id"]: r for r in rows}
    assert list(by_id) == ["hel", "hel-t1", "hel-gate-a", "hel-wc-b"]
    assert int(by_id["hel"]["responses"]) == week.scored
    assert int(by_id["hel"]["misuse"]) == week.misuse
    assert by_id["hel-gate-a"]["rank"] in {"1", "2"}
    assert by_id["hel"]["since_utc"] == "2026-11-15T22:00:00Z"


def _bulk_presses(session: Session, n: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {
            "event_id": f"e{i:09d}",
            "device_id": "k1",
            "location_id": "hel-gate-a",
            "seq": i,
            "occurred_at": start + timedelta(seconds=i),
            "received_at": start + timedelta(seconds=i),
            "button": "happy",
            "misuse": False,
        }
        for i in range(n)
    ]
    session.execute(insert(Event), rows)


def test_a_large_export_streams_in_bounded_memory(
    sessions: sessionmaker[Session], db_url: str
) -> None:
    """200k rows on SQLite; on PostgreSQL fewer, enough to see the server-side cursor."""
    n = 200_000 if db_url.startswith("sqlite") else 30_000
    with sessions.begin() as session:
        add_site(session)
        _bulk_presses(session, n)
    period = Period(datetime(2025, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    with sessions() as session:
        tracemalloc.start()
        try:
            chunks = responses_csv(session, {"hel-gate-a"}, period)
            size, count, lines = 0, 0, 0
            for chunk in chunks:
                size, count, lines = size + len(chunk), count + 1, lines + chunk.count("\n")
                if count == 2 and session.bind and session.bind.dialect.name == "postgresql":
                    open_cursors = session.scalar(text("SELECT count(*) FROM pg_cursors"))
                    assert open_cursors == 1, "PostgreSQL must stream through a server cursor"
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert lines == n + 1
    assert count > n // exports.CHUNK_ROWS
    print(f"export of {n} rows: {size / 1e6:.1f} MB of CSV, peak {peak / 1e6:.1f} MB traced")
    assert peak < 8e6  # 200k rows make 30 MB of CSV, far more as Python rows


def test_the_command_line_exports_to_a_file_and_to_stdout(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sessions = session_factory(make_engine(sqlite_url))
    with sessions.begin() as session:
        add_site(session)
        week = add_presses(session)
    period = ["--since", WEEK.since.isoformat(), "--until", WEEK.until.isoformat()]
    out = tmp_path / "responses.csv"
    args = ["export", "responses", "--location", "hel", *period, "--db", sqlite_url]
    assert main([*args, "--out", str(out)]) == 0
    assert len(_rows(out.read_text())) == week.total
    assert main(["export", "scores", "--by", "week", *period, "--db", sqlite_url]) == 0
    site = [r for r in _rows(capsys.readouterr().out) if r["location_id"] == "hel"]
    assert [int(r["responses"]) for r in site] == [week.scored]
    assert main(["export", "responses", "--location", "nowhere", "--db", sqlite_url]) == 2


FOLLOWUP_COLUMNS = [
    "survey_id",
    "survey_version",
    "followup_question",
    "followup_option",
    "followup_label",
    "followup_language",
    "followup_answered_at",
]


def _followup_traffic() -> Traffic:
    """lane-1: answered, shown and not answered, not asked, answered twice (the latest
    counts), answered to the other question (never its answer); lane-2: answered, and a
    press from a kiosk older than surveys."""
    traffic = Traffic()
    traffic.add(Button.UNHAPPY, "queue")
    traffic.add(Button.VERY_UNHAPPY, None, language="fa")
    traffic.add(Button.HAPPY)
    twice = traffic.add(Button.UNHAPPY, "staff")
    traffic.answer(twice, "cleanliness", after_s=6)
    other = traffic.add(Button.HAPPY)
    traffic.answer(other, "queue", question="negative")
    traffic.add(Button.HAPPY, "fast", location_id="lane-2")
    older = press(Button.VERY_HAPPY, device_id="k-lane-2", location_id="lane-2", seq=99)
    traffic.presses.append(older.model_copy(update={"occurred_at": DAY + timedelta(hours=11)}))
    return traffic


@pytest.fixture
def answered(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with sessions.begin() as session:
        add_places(session)
        _followup_traffic().store(session)
    return sessions


def test_each_response_carries_the_follow_up_that_answered_it(
    answered: sessionmaker[Session],
) -> None:
    with answered() as session:
        rows = _rows(responses_csv(session, {"hel", "lane-1", "lane-2"}, PERIOD))
    assert list(rows[0])[-len(FOLLOWUP_COLUMNS) :] == FOLLOWUP_COLUMNS
    assert [[r[c] for c in ("location_id", "button", *FOLLOWUP_COLUMNS)] for r in rows] == [
        ["lane-1", "unhappy", "security", "1", "negative", "queue", "Queue too long", "en",
         "2026-11-20T10:00:04Z"],
        ["lane-1", "very_unhappy", "security", "1", "negative", "", "", "fa",
         "2026-11-20T10:01:04Z"],
        ["lane-1", "happy", "security", "1", "", "", "", "", ""],
        ["lane-1", "unhappy", "security", "1", "negative", "cleanliness", "Cleanliness", "en",
         "2026-11-20T10:03:06Z"],
        ["lane-1", "happy", "security", "1", "", "", "", "", ""],
        ["lane-2", "happy", "security", "1", "positive", "fast", "Fast", "en",
         "2026-11-20T10:05:04Z"],
        ["lane-2", "very_happy", "", "", "", "", "", "", ""],
    ]  # fmt: skip


def test_follow_ups_are_joined_across_chunks(
    answered: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "CHUNK_ROWS", 2)
    with answered() as session:
        rows = _rows(responses_csv(session, {"lane-1", "lane-2"}, PERIOD))
    assert [r["followup_option"] for r in rows] == ["queue", "", "", "cleanliness", "", "fast", ""]


def _ci(count: int, total: int) -> list[str]:
    low, high = wilson_interval(count, total) or (0.0, 0.0)
    return [str(round(low, 4)), str(round(high, 4))]


def test_reasons_are_a_row_per_location_question_version_and_option(
    answered: sessionmaker[Session],
) -> None:
    with answered() as session:
        tree = LocationTree.load(session)
        rows = _rows(reasons_csv(session, tree, tree.subtree("hel"), PERIOD))
    assert list(rows[0]) == list(REASON_COLUMNS)
    assert {(r["since_utc"], r["until_utc"], r["time_zone"]) for r in rows} == {
        ("2026-11-20T00:00:00Z", "2026-11-23T00:00:00Z", "UTC")
    }
    cells = [[v for k, v in r.items() if k not in REASON_COLUMNS[3:6]] for r in rows]
    half, none_of_2 = _ci(1, 2), _ci(0, 2)
    negative = [
        ["negative", "security", "1", "3", "3", "2", "1", "cleanliness", "1", "0.5", *half,
         "Cleanliness"],
        ["negative", "security", "1", "3", "3", "2", "1", "queue", "1", "0.5", *half,
         "Queue too long"],
        ["negative", "security", "1", "3", "3", "2", "1", "staff", "0", "0.0", *none_of_2,
         "Staff"],
    ]  # fmt: skip
    fast = [
        ["positive", "security", "1", "{n}", "1", "1", "0", "fast", "1", "1.0", *_ci(1, 1),
         "Fast"],
        ["positive", "security", "1", "{n}", "1", "1", "0", "friendly", "0", "0.0", *_ci(0, 1),
         "Friendly staff"],
    ]  # fmt: skip

    def at(place: str, name: str, kind: str, *lines: list[str], n: int = 0) -> list[list[str]]:
        return [[place, name, kind, *(c.format(n=n) for c in line)] for line in lines]

    assert cells == [
        *at("hel", "Hel", "site", *negative, *fast, n=4),
        *at("lane-1", "Lane-1", "touchpoint", *negative),
        *at("lane-1", "Lane-1", "touchpoint",
            ["positive", "", "", "2", "0", "0", "0", "", "", "", "", "", ""]),
        *at("lane-2", "Lane-2", "touchpoint",
            ["negative", "", "", "0", "0", "0", "0", "", "", "", "", "", ""]),
        *at("lane-2", "Lane-2", "touchpoint", *fast, n=2),
    ]  # fmt: skip


def test_reasons_of_two_survey_versions_are_split(sessions: sessionmaker[Session]) -> None:
    traffic = Traffic()
    traffic.add(Button.UNHAPPY, "queue")
    traffic.add(Button.UNHAPPY, "queue")
    traffic.add(Button.UNHAPPY, "staff", day=1, version=2)
    traffic.add(Button.UNHAPPY, None, day=1, version=2)
    with sessions.begin() as session:
        add_places(session)
        create_survey(session, parsed=reworded(), by="ana", now=DAY + timedelta(days=1))
        traffic.store(session)
    with sessions() as session:
        tree = LocationTree.load(session)
        rows = _rows(reasons_csv(session, tree, {"lane-1"}, PERIOD))
    negative = [r for r in rows if r["question"] == "negative"]
    assert [
        [r[c] for c in ("survey_version", "presses", "followups", "answered", "unanswered")]
        + [r["option"], r["count"], r["share"], r["label"]]
        for r in negative
    ] == [
        ["1", "4", "2", "2", "0", "queue", "2", "1.0", "Queue too long"],
        ["1", "4", "2", "2", "0", "cleanliness", "0", "0.0", "Cleanliness"],
        ["1", "4", "2", "2", "0", "staff", "0", "0.0", "Staff"],
        ["2", "4", "2", "1", "1", "staff", "1", "1.0", "Staff"],
        ["2", "4", "2", "1", "1", "cleanliness", "0", "0.0", "Cleanliness"],
        ["2", "4", "2", "1", "1", "queue", "0", "0.0", "Waited too long"],
    ]


def test_the_command_line_exports_reasons(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with session_factory(make_engine(sqlite_url)).begin() as session:
        add_places(session)
        _followup_traffic().store(session)
    period = ["--since", PERIOD.since.isoformat(), "--until", PERIOD.until.isoformat()]
    args = ["export", "reasons", "--location", "lane-2", *period, "--db", sqlite_url]
    assert main(args) == 0
    rows = _rows(capsys.readouterr().out)
    assert [(r["location_id"], r["question"], r["option"], r["count"]) for r in rows] == [
        ("lane-2", "negative", "", ""),
        ("lane-2", "positive", "fast", "1"),
        ("lane-2", "positive", "friendly", "0"),
    ]
