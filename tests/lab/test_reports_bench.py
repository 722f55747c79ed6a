"""`seed-lab bench reports` at CI size: it runs, prints its JSON, and fills exact rollups."""

import json
import os
import platform
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from hub.db import make_engine, migrate, session_factory
from hub.ingest.store import stored_event_count
from hub.models import Base, DailyRollup, HourlyRollup
from hub.rollups.checks import rollup_mismatches, rollup_press_count
from lab import reports_bench
from lab.cli import main


def test_bench_reports_prints_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["bench", "reports", "--events", "20000", "--requests", "3", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["events"] == 20000
    assert result["backend"] == "sqlite"
    assert result["rollup_mismatches"] == 0
    _, touchpoints = reports_bench.tree()
    checked = result["rollups_checked"]
    assert len(checked) >= 3 and set(checked) <= {t.location_id for t in touchpoints}
    assert 0 < result["rollup_rows"] <= 20000  # an hourly rollup row counts at least one press
    machine = result["machine"]
    assert (machine["cores"], machine["python"]) == (os.cpu_count(), platform.python_version())
    assert machine["db_version"] == f"SQLite {sqlite3.sqlite_version}"
    assert machine["ram_gb"] > 0
    assert result["fill_s"] > 0
    views = {"overview", "location_touchpoint", "location_site", "export_location_month"}
    timed = {view.name for view in reports_bench.views(touchpoints)} | {"export_location_month"}
    assert views <= timed == result["views"].keys()
    for figures in result["views"].values():
        assert figures["requests"] == 3
        assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["max_ms"]


def test_filled_rollups_equal_a_recount_of_the_events(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fill.sqlite3'}")
    migrate(engine)
    start = datetime(2026, 1, 1, tzinfo=UTC) - timedelta(hours=reports_bench.HOURS)
    filled = reports_bench.fill(engine, reports_bench.ReportsPlan(events=20_000), start)
    _, touchpoints = reports_bench.tree()
    with session_factory(engine)() as session:
        assert stored_event_count(session) == rollup_press_count(session) == 20_000
        hourly_rows = session.scalar(select(func.count()).select_from(HourlyRollup))
        assert filled["rollup_rows"] == hourly_rows
        daily = sum(getattr(DailyRollup, button) for button in reports_bench.BUTTON_NAMES)
        assert session.scalar(select(func.sum(daily))) == 20_000
        everywhere = [t.location_id for t in touchpoints]
        assert rollup_mismatches(session, location_ids=everywhere) == 0
    with engine.connect() as connection:  # the indexes built after the load are the migrated ones
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    engine.dispose()
