"""The CUSUM bench and the alert commands, run as a user runs them."""

import json
from pathlib import Path

import pytest

from hub.cli import main


def test_bench_cusum_prints_delays_and_false_alarms(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "cusum", "--json", "--seeds", "2", "--locations", "5"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["p1"] == pytest.approx(1 / 3, abs=1e-4)
    delay = result["median_delay_min"]
    assert 0 < delay["min"] <= delay["median"] <= delay["max"]
    assert result["false_alarms_per_location_week"]["median"] >= 0


def test_rules_add_list_remove(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'hub.sqlite3'}"]
    assert main(["locations", "add", "gate-a", "--tz", "Europe/Helsinki", *db]) == 0
    add = ["alerts", "rules", "add", "--location", "gate-a", "--kind", "negative_share"]
    assert (
        main([*add, "--threshold", "50", "--min-responses", "4", "--quiet", "22:00-06:00", *db])
        == 0
    )
    assert main([*add, "--threshold", "500", *db]) == 2  # refused, with the reason
    assert main(["alerts", "rules", "list", *db]) == 0
    out = capsys.readouterr()
    assert "negative >= 50 % in 15 min (at least 4 responses), quiet 22:00-06:00" in out.out
    assert "threshold must lie in 0..100" in out.err
    assert main(["alerts", "rules", "remove", "1", *db]) == 0
    assert main(["alerts", "list", "--state", "all", *db]) == 0
