"""The CUSUM bench and the alert commands, run as a user runs them."""

import json
from pathlib import Path
from typing import Any

import pytest

from hub.cli import main


def _cusum_bench(capsys: pytest.CaptureFixture[str], *flags: str) -> dict[str, Any]:
    assert main(["bench", "cusum", "--json", "--seeds", "2", "--locations", "5", *flags]) == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def test_bench_cusum_prints_delays_and_false_alarms(capsys: pytest.CaptureFixture[str]) -> None:
    result = _cusum_bench(capsys)
    assert result["p1"] == pytest.approx(1 / 3, abs=1e-4)
    delay = result["median_delay_min"]
    assert 0 < delay["min"] <= delay["median"] <= delay["max"]
    alarms = result["false_alarms_per_location_week"]
    assert 0 < alarms["min"] <= alarms["median"] <= alarms["max"]
    for seed_rate in (alarms["min"], alarms["max"]):  # firings over one seed's 5 location-weeks
        assert seed_rate * 5 == pytest.approx(round(seed_rate * 5))


def test_a_higher_threshold_cries_wolf_less_often_and_catches_the_drop_later(
    capsys: pytest.CaptureFixture[str],
) -> None:
    default, strict = _cusum_bench(capsys), _cusum_bench(capsys, "--h", "6")
    alarms = "false_alarms_per_location_week"
    assert strict[alarms]["max"] < default[alarms]["min"]
    assert strict["median_delay_min"]["median"] > default["median_delay_min"]["median"]


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
