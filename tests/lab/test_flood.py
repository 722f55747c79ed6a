"""`seed-lab bench flood`, run small: a hub process, a private Mosquitto, both phases."""

import json

import pytest

from lab.cli import main
from lab.mosquitto import mosquitto_binary
from tests.conftest import POSTGRES_URL
from tests.helpers import service_missing

MESSAGES, GARBAGE = 300, 30


@pytest.mark.mosquitto
@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
def test_a_small_flood_is_stored_and_its_garbage_dead_lettered(
    request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str], backend: str
) -> None:
    if mosquitto_binary() is None:
        service_missing("mosquitto binary not found (apt-get install mosquitto)")
    if backend == "postgresql":
        request.getfixturevalue("postgres_url")  # skips (or fails in CI) without a server
    command = ["bench", "flood", "--json", "--backend", backend, "--postgres-url", POSTGRES_URL]
    command += ["--messages", str(MESSAGES), "--garbage", str(GARBAGE), "--kiosks", "2"]

    assert main(command) == 0
    result = json.loads(capsys.readouterr().out)

    assert (result["messages"], result["stored"], result["lost"]) == (MESSAGES, MESSAGES, 0)
    assert result["dead_lettered"] == {"oversized_payload": GARBAGE}
    assert result["dead_letters_kept"] == GARBAGE  # within the per-device quota
    assert all(result["targets_met"].values()), result["targets_met"]
    memory = result["hub_rss_mb"]
    assert 0 < memory["before"] <= memory["peak"] < 200
    for phase in result["phases"].values():
        assert phase["hub_rss_peak_of"] == "phase"
        assert phase["hub_rss_before_mb"] > 0 and phase["seconds"] >= 0
    assert result["database_growth_mb"]["messages"] > 0  # the events themselves
