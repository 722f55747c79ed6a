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
from hub.reporting.exports import RESPONSE_COLUMNS, responses_csv, scores_csv
from hub.rollups.buckets import Period
from tests.hub.reporting.report_data import WEEK, Presses, add_presses, add_site


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
    assert peak < 8e6  # 200k rows make 28 MB of CSV, far more as Python rows


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
