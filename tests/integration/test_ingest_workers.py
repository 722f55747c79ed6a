"""Three ingest workers on one shared subscription, a real Mosquitto, PostgreSQL: 20,000
events end stored exactly once, the rollups equal a recount, and killing a worker mid-run
loses nothing (the kiosks resend what was left unacknowledged, as real ones do)."""

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.db import open_session
from hub.ingest import store
from hub.models import Location
from hub.rollups.checks import rollup_mismatches, rollup_press_count
from lab.ingest_bench import PREFIX, BenchKiosk, connect_all, publish_all, start_process
from lab.mosquitto import MosquittoProcess

pytestmark = [pytest.mark.mosquitto, pytest.mark.postgresql]

KIOSKS = 10
EVENTS_PER_KIOSK = 2000
WORKERS = 3
RESEND_AFTER_S = 5.0
DEADLINE_S = 240.0


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(child) for child in text.split()]


def _acked(kiosks: list[BenchKiosk]) -> int:
    return sum(len(k.acked) for k in kiosks)


def _kill_one_worker_when(supervisor: int, kiosks: list[BenchKiosk], acked: int) -> list[int]:
    """SIGKILL one worker once `acked` events are acknowledged; returns the pid killed."""
    killed: list[int] = []

    def watch() -> None:
        while _acked(kiosks) < acked:
            time.sleep(0.05)
        victim = _children(supervisor)[0]
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)

    threading.Thread(target=watch, daemon=True).start()
    return killed


def test_three_workers_store_each_event_once_even_when_one_is_killed(
    mosquitto: MosquittoProcess, postgres_url: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "SEED_HUB_TOPIC_PREFIX": PREFIX,
        "SEED_HUB_DATA_DIR": str(tmp_path),
        "SEED_HUB_CLIENT_ID": "workers-test",
    }
    command = [sys.executable, "-m", "hub.cli", "--log-level", "WARNING", "serve"]
    command += ["--role", "ingest", "--workers", str(WORKERS), "--broker", mosquitto.url]
    hub = start_process(
        [*command, "--db", postgres_url], env, "ingesting", times=WORKERS, drain=True
    )
    try:
        kiosks = [BenchKiosk(i, mosquitto.address, EVENTS_PER_KIOSK) for i in range(KIOSKS)]
        connect_all(kiosks)
        total = KIOSKS * EVENTS_PER_KIOSK
        killed = _kill_one_worker_when(hub.pid, kiosks, acked=total // 3)
        publish_all(kiosks)
        deadline = time.monotonic() + DEADLINE_S
        while _acked(kiosks) < total and time.monotonic() < deadline:
            time.sleep(RESEND_AFTER_S)
            for kiosk in kiosks:
                kiosk.resend_unacked(older_than_s=RESEND_AFTER_S)
        for kiosk in kiosks:
            kiosk.connection.stop()
        assert killed, "no worker was killed: the run ended before a third was acknowledged"
        assert _acked(kiosks) == total
        assert len(_children(hub.pid)) == WORKERS, "the killed worker was not started again"
    finally:
        hub.send_signal(signal.SIGTERM)
        hub.wait(timeout=60)
    with open_session(postgres_url) as session:
        assert store.stored_event_count(session) == total
        assert rollup_press_count(session) == total
        locations = session.scalars(select(Location.location_id)).all()
        assert rollup_mismatches(session, location_ids=locations) == 0
