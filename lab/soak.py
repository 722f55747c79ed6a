"""`seed-lab soak`: a long run through a real Mosquitto and hub, watching the hub's memory.

Kiosks keep at most `window` events unacknowledged each, as real ones do, so the broker's
queue stays bounded however long the run. At the end the chaos checker classifies every
event; the hub's resident memory is sampled every second from /proc.
"""

import statistics
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.chaos.checker import Intent, check, read_stored
from lab.ingest_bench import BenchKiosk, BenchPlan, connect_all, publish_all, start_rig
from lab.scratch_postgres import SCRATCH_POSTGRES_URL


@dataclass(frozen=True)
class SoakPlan:
    events: int = 1_000_000
    kiosks: int = 200
    window: int = 50
    backend: str = "sqlite"
    postgres_url: str = SCRATCH_POSTGRES_URL


class MemorySampler:
    """Resident set size of a process, once a second, from /proc/<pid>/status."""

    def __init__(self, pid: int) -> None:
        self._status = Path(f"/proc/{pid}/status")
        self.samples_mb: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            for line in self._status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    self.samples_mb.append(int(line.split()[1]) / 1024)

    def summary(self) -> dict[str, float | None]:
        samples = self.samples_mb
        if len(samples) < 10:
            return {"peak_mb": max(samples, default=0.0), "final_mb": None, "growth": None}
        tenth = len(samples) // 10
        first, last = statistics.median(samples[:tenth]), statistics.median(samples[-tenth:])
        return {
            "peak_mb": round(max(samples), 1),
            "first_tenth_mb": round(first, 1),
            "final_mb": round(samples[-1], 1),
            "last_tenth_mb": round(last, 1),
            "growth": round(last / first - 1, 4),
        }


def _progress(kiosks: list[BenchKiosk], total: int, done: threading.Event) -> None:
    while not done.wait(10.0):
        acked = sum(len(k.acked) for k in kiosks)
        print(f"soak: {acked:,} of {total:,} events stored and acknowledged", file=sys.stderr)


def run_soak(plan: SoakPlan) -> dict[str, Any]:
    per_kiosk = plan.events // plan.kiosks
    total = per_kiosk * plan.kiosks
    bench_plan = BenchPlan(backend=plan.backend, postgres_url=plan.postgres_url)
    with ExitStack() as stack:
        rig = start_rig(stack, bench_plan)
        print(f"soak: preparing {total:,} events for {plan.kiosks} kiosks", file=sys.stderr)
        kiosks = [
            BenchKiosk(i, rig.broker.address, per_kiosk, window=plan.window)
            for i in range(plan.kiosks)
        ]
        connect_all(kiosks)
        done = threading.Event()
        threading.Thread(target=_progress, args=(kiosks, total, done), daemon=True).start()
        with MemorySampler(rig.hub.pid) as memory:
            started = time.monotonic()
            publish_all(kiosks)
            for kiosk in kiosks:
                kiosk.all_acked.wait(60)
            seconds = time.monotonic() - started
        done.set()
        for kiosk in kiosks:
            kiosk.connection.stop()
        verdict = _verdict(rig.db_url, kiosks)
    return {
        "benchmark": "soak",
        "backend": plan.backend,
        "kiosks": plan.kiosks,
        "events": total,
        "seconds": round(seconds, 1),
        "stored_per_s": round(verdict["stored"] / seconds, 1),
        "hub_memory": memory.summary(),
        **verdict,
    }


def _verdict(db_url: str, kiosks: list[BenchKiosk]) -> dict[str, Any]:
    intents = [
        Intent(k.device_id, event_id, seq)
        for k in kiosks
        for seq, event_id in enumerate(k.event_ids, start=1)
    ]
    stored, counted = read_stored(db_url)
    return check(intents, stored, counted)
