"""`seed-kiosk bench press`: a small run prints the figures the issue asks for."""

import json

import pytest

from edge.cli import main


def test_a_small_press_bench_prints_led_and_outbox_percentiles_and_memory(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        ["bench", "press", "--presses", "24", "--rounds", "2", "--rss-seconds", "3",
         "--no-camera", "--json"]
    )  # fmt: skip
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    for figure in ("led_ms", "outbox_ms"):
        assert 0 < result[figure]["p50"] <= result[figure]["p99"] <= result[figure]["max"]
        assert len(result[figure]["p99_rounds"]) == 2
    assert result["led_ms"]["p50"] < result["outbox_ms"]["p50"]  # the LED does not wait
    assert 10 < result["rss_mb"]["without_camera"]["rss"] < 1000
    assert result["rss_mb"]["with_camera"] is None
    assert result["machine"]["cpu_count"] >= 1
