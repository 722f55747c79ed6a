"""`seed-lab bench cusum`, run as a user runs it."""

import json
from typing import Any

import pytest

from lab.cli import main


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
