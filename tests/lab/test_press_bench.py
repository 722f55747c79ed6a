"""`seed-lab bench press`: a small run prints the figures the issue asks for."""

import json
import os
import statistics

import pytest

from lab.cli import main


def test_a_small_press_bench_prints_led_and_outbox_percentiles_and_memory(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        ["bench", "press", "--presses", "24", "--rounds", "2", "--rss-seconds", "3",
         "--no-camera", "--json"]
    )  # fmt: skip
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["presses_per_round"], result["rounds"]) == (24, 2)
    for figure in ("led_ms", "outbox_ms"):
        summary = result[figure]
        assert 0 < summary["p50"] <= summary["p99"] <= summary["max"]
        assert len(summary["p50_rounds"]) == len(summary["p99_rounds"]) == 2
        for p50, p99 in zip(summary["p50_rounds"], summary["p99_rounds"], strict=True):
            assert 0 < p50 <= p99 <= summary["max"]
        assert summary["p50"] == pytest.approx(statistics.median(summary["p50_rounds"]), abs=1e-3)
        assert summary["p99"] == pytest.approx(statistics.median(summary["p99_rounds"]), abs=1e-3)
    # that the LED does not wait for the outbox: test_panel.py, which cannot flake on timing
    memory = result["rss_mb"]["without_camera"]
    assert 10 < memory["rss"] <= memory["peak"] < 1000
    assert result["rss_mb"]["with_camera"] is None
    assert result["machine"]["cpu_count"] == os.cpu_count()
