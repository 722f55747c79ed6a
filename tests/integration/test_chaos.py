"""Jepsen-style: every press a kiosk accepted is stored exactly once, whatever fails.

Kiosks, hub and broker are real processes; `hub.chaos` injects each fault in its own
test, then all of them in one run.
"""

from pathlib import Path

import pytest

from hub.chaos.scenario import FAULTS, ChaosPlan, run_chaos
from hub.mosquitto import mosquitto_binary
from tests.helpers import service_missing

pytestmark = pytest.mark.chaos


@pytest.fixture(autouse=True)
def _needs_mosquitto() -> None:
    if mosquitto_binary() is None:
        service_missing("mosquitto binary not found (apt-get install mosquitto)")


def assert_exactly_once(verdict: dict[str, int], presses: int) -> None:
    """Every committed press stored once; a press cut off before its commit is `aborted`."""
    counts = {k: verdict[k] for k in ("ok", "lost", "duplicated", "unexpected", "aborted")}
    assert (counts["lost"], counts["duplicated"], counts["unexpected"]) == (0, 0, 0), counts
    assert verdict["rollup_mismatch"] == 0, verdict
    assert verdict["ok"] == verdict["stored"] == presses, counts
    assert verdict["intents"] == presses + verdict["aborted"], counts


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_fault_alone(fault: str, tmp_path: Path) -> None:
    plan = ChaosPlan(faults=(fault,), kiosks=2, presses=200, rate_per_s=30)
    verdict = run_chaos(plan, workdir=tmp_path)
    assert_exactly_once(verdict, 2 * 200)


def test_all_faults_in_one_run(tmp_path: Path) -> None:
    plan = ChaosPlan(faults=("all",), kiosks=3, presses=900, rate_per_s=30)
    verdict = run_chaos(plan, workdir=tmp_path)
    assert_exactly_once(verdict, 3 * 900)
