"""`seed-lab bench phone` at CI size: a few phones for a second or two against a real
`seed-hub serve`, every answer stored once."""

import json

import pytest

from lab.cli import main
from lab.phone_bench import Addresses, _rank


def test_bench_phone_prints_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["bench", "phone", "--phones", "2", "--seconds", "1.5", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (result["benchmark"], result["backend"], result["phones"]) == ("phone", "sqlite", 2)
    for key in ("answer_ms", "flow_ms"):
        assert set(result[key]) >= {"p50", "p99"}
        assert 0 < result[key]["p50"] <= result[key]["p99"]
    assert set(result["overview_ms"]) >= {"p50", "p95", "n"}
    assert result["overview_ms"]["n"] >= 1
    assert (result["errors"], result["busy_503"], result["limited_429"]) == (0, 0, 0)
    assert result["responses"] > 0
    assert result["responses_per_s"] > 0
    assert result["events_stored"] == result["responses"]
    assert result["events_match"] is True
    assert result["reasons_stored"] == result["reasons"]
    assert result["comments_stored"] == result["comments"]


def test_each_traveller_comes_from_an_address_of_its_own() -> None:
    addresses = Addresses()
    taken = {addresses.take() for _ in range(70_000)}
    assert len(taken) == 70_000
    assert all(address.startswith("10.") for address in taken)


def test_percentiles_are_nearest_rank() -> None:
    times = [float(n) for n in range(1, 101)]
    assert (_rank(times, 0.50), _rank(times, 0.99), _rank(times, 0.95)) == (50.0, 99.0, 95.0)
    assert _rank([], 0.5) == 0.0
