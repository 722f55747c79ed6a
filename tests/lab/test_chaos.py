"""Jepsen-style: every press a kiosk accepted is stored exactly once, whatever fails.

Kiosks, hub, broker and (for PostgreSQL) the database server are real processes;
`lab.chaos` injects each fault in its own test, then all of them in one run.
"""

from pathlib import Path
from typing import Any

import pytest

from lab.chaos.checker import poison_slowed_ingest
from lab.chaos.postgres import postgres_bindir
from lab.chaos.scenario import DATABASE_FAULTS, Backend, ChaosPlan, faults_for, run_chaos
from lab.mosquitto import mosquitto_binary
from tests.helpers import service_missing

pytestmark = pytest.mark.chaos


@pytest.fixture(autouse=True)
def _needs_mosquitto() -> None:
    if mosquitto_binary() is None:
        service_missing("mosquitto binary not found (apt-get install mosquitto)")


def needs_backend(backend: Backend) -> None:
    if backend == "postgresql" and postgres_bindir() is None:
        service_missing(
            "PostgreSQL binaries (initdb, pg_ctl) not found (apt-get install postgresql)"
        )


def assert_exactly_once(verdict: dict[str, Any], presses: int) -> None:
    """Every committed press stored once; a press cut off before its commit is `aborted`."""
    counts = {k: verdict[k] for k in ("ok", "lost", "duplicated", "unexpected", "aborted")}
    assert (counts["lost"], counts["duplicated"], counts["unexpected"]) == (0, 0, 0), counts
    assert verdict["rollup_mismatch"] == 0, verdict
    assert verdict["ok"] == verdict["stored"] == presses, counts
    assert verdict["intents"] == presses + verdict["aborted"], counts


def assert_poison_does_not_slow_ingest(verdict: dict[str, Any]) -> None:
    assert not poison_slowed_ingest(verdict), verdict["stored_per_s"]
    assert verdict["poison_sent"] > 0, verdict


@pytest.mark.parametrize("fault", sorted(set(faults_for("sqlite")) - {"poison"}))
def test_each_fault_alone(fault: str, tmp_path: Path) -> None:
    plan = ChaosPlan(faults=(fault,), kiosks=2, presses=200, rate_per_s=30)
    verdict = run_chaos(plan, workdir=tmp_path)
    assert_exactly_once(verdict, 2 * 200)


@pytest.mark.parametrize("fault", sorted(DATABASE_FAULTS["postgresql"]))
def test_postgresql_server_fault_alone(fault: str, tmp_path: Path) -> None:
    """The private PostgreSQL server stopped (`pg_ctl stop -m fast`) or its postmaster
    killed mid-batch, then started again, while the kiosks press."""
    needs_backend("postgresql")
    plan = ChaosPlan(faults=(fault,), kiosks=2, presses=200, rate_per_s=30, backend="postgresql")
    verdict = run_chaos(plan, workdir=tmp_path)
    assert_exactly_once(verdict, 2 * 200)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_poison_kiosk_alone(backend: Backend, tmp_path: Path) -> None:
    """A kiosk sending a poison status every second neither loses presses nor slows the
    three others down (the kiosks press for 15 s, past both 5 s rate windows)."""
    needs_backend(backend)
    plan = ChaosPlan(faults=("poison",), kiosks=3, presses=450, rate_per_s=30, backend=backend)
    verdict = run_chaos(plan, workdir=tmp_path)
    assert_exactly_once(verdict, 3 * 450)
    assert_poison_does_not_slow_ingest(verdict)


def test_all_faults_in_one_run(tmp_path: Path) -> None:
    plan = ChaosPlan(faults=("all",), kiosks=3, presses=900, rate_per_s=30)
    verdict = run_chaos(plan, workdir=tmp_path)
    assert_exactly_once(verdict, 3 * 900)
    assert_poison_does_not_slow_ingest(verdict)
