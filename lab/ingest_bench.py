"""`seed-lab bench ingest`: how fast the hub stores and acknowledges, against the broker itself.

One run, one private Mosquitto, the same publishers, two consumers at once:
  - the hub (`seed-hub serve`, its own process): validate -> store -> ack;
  - a bare paho subscriber (its own process) that only counts what it receives.
`ratio` = stored_per_s / raw_per_s, both timed from the first publish.
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import paho.mqtt.client as paho  # the baseline is bare paho on purpose, not our seam
from paho.mqtt.enums import CallbackAPIVersion

from hub.db import open_session
from hub.ingest import store
from hub.rollups.checks import rollup_press_count
from lab.mosquitto import MosquittoProcess
from lab.scratch_postgres import SCRATCH_POSTGRES_URL, scratch_postgres_database
from protocol.broker_url import BrokerAddress, parse_broker_url
from protocol.errors import SeedError
from protocol.ids import uuid7
from protocol.messages import BUTTONS, PressEvent, decode_ack, encode
from protocol.mqtt import Message, MqttConnection, MqttOptions
from protocol.topics import Topics

PREFIX = "bench"
ACK_WAIT_S = 120.0


@dataclass(frozen=True)
class BenchPlan:
    kiosks: int = 8
    events_per_kiosk: int = 2500
    backend: str = "sqlite"
    postgres_url: str = SCRATCH_POSTGRES_URL
    timeout_s: float = 600
    workers: int = 1
    rate_per_s: float | None = None  # per kiosk; None: as fast as they can (a backlog draining)


class BenchKiosk:
    """A kiosk stripped to its wire: prebuilt events out, acks counted in."""

    def __init__(
        self,
        index: int,
        address: BrokerAddress,
        events: int,
        *,
        window: int | None = None,
        rate_per_s: float | None = None,
    ) -> None:
        self._interval_s = 1 / rate_per_s if rate_per_s else 0.0
        self.device_id = f"bench-{index:03d}"
        self.topics = Topics(PREFIX)
        built = [self._event(seq) for seq in range(1, events + 1)]
        self.event_ids = [e.event_id for e in built]
        self.payloads = [encode(e) for e in built]
        self._window = threading.Semaphore(window) if window else None
        self.acked: set[str] = set()
        self.sent_at: dict[str, float] = {}
        self.latencies_s: list[float] = []
        self.last_ack_at = 0.0
        self.all_acked = threading.Event()
        self._expected = events
        self._lock = threading.Lock()
        self.connection = MqttConnection(
            MqttOptions(
                address=address,
                client_id=self.device_id,
                max_in_flight=1000,
                subscriptions=(self.topics.ack(self.device_id),),
            ),
            on_message=self._on_ack,
        )

    def _event(self, seq: int) -> PressEvent:
        return PressEvent(
            event_id=str(uuid7()),
            device_id=self.device_id,
            location_id=f"bench-loc-{int(self.device_id[-3:]) % 4}",
            seq=seq,
            occurred_at=datetime.now(UTC),
            button=BUTTONS[seq % 4],
        )

    def _on_ack(self, message: Message) -> None:
        ack = decode_ack(message.payload)
        now = time.time()
        with self._lock:
            fresh = set(ack.stored) - self.acked
            self.acked |= fresh
            self.last_ack_at = now
            self.latencies_s.extend(now - self.sent_at[i] for i in fresh if i in self.sent_at)
            if self._window is not None:
                self._window.release(len(fresh))
            if len(self.acked) >= self._expected:
                self.all_acked.set()

    def publish_all(self) -> None:
        """Publish every event; with a window, no more than that many unacknowledged."""
        topic = self.topics.events(self.device_id)
        next_at = time.time()
        for event_id, payload in zip(self.event_ids, self.payloads, strict=True):
            if self._window is not None and not self._window.acquire(timeout=ACK_WAIT_S):
                return  # the hub stopped acknowledging: what is missing counts as lost
            if self._interval_s:
                next_at += self._interval_s
                time.sleep(max(0.0, next_at - time.time()))
            self.sent_at[event_id] = time.time()
            while not self.connection.publish(topic, payload, qos=1):
                time.sleep(0.01)

    def resend_unacked(self, older_than_s: float) -> int:
        """Publish again what the hub has not acknowledged, as a kiosk does after its ack
        timeout (a worker that died took those with it); returns how many."""
        topic = self.topics.events(self.device_id)
        cutoff = time.time() - older_than_s
        with self._lock:
            due = [
                (event_id, payload)
                for event_id, payload in zip(self.event_ids, self.payloads, strict=True)
                if event_id not in self.acked and self.sent_at.get(event_id, 0.0) < cutoff
            ]
        for _event_id, payload in due:
            while not self.connection.publish(topic, payload, qos=1):
                time.sleep(0.01)
        return len(due)


def raw_subscriber(url: str, expected: int, timeout_s: float) -> None:
    """Count events as a bare paho client receives them; print JSON. Run as its own process."""
    address = parse_broker_url(url)
    times: list[float] = []
    done = threading.Event()

    def on_message(_c: Any, _u: Any, _m: Any) -> None:
        times.append(time.time())
        if len(times) >= expected:
            done.set()

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-raw")
    client.on_message = on_message
    client.on_connect = lambda c, *_: c.subscribe(f"{PREFIX}/devices/+/events", qos=1)
    client.connect(address.host, address.port)
    client.loop_start()
    print("ready", flush=True)
    done.wait(timeout_s)
    client.loop_stop()
    print(json.dumps({"received": len(times), "last_at": times[-1] if times else None}), flush=True)


@contextmanager
def bench_database(backend: str, postgres_url: str, workdir: Path, name: str) -> Iterator[str]:
    """A fresh database for one run: a scratch PostgreSQL one, else a SQLite file in workdir."""
    if backend == "postgresql":
        with scratch_postgres_database(postgres_url, prefix=f"seed_{name}") as url:
            yield url
    else:
        yield f"sqlite:///{workdir / f'{name}.sqlite3'}"


def start_process(
    command: list[str], env: dict[str, str], ready_word: str, *, times: int = 1, drain: bool = False
) -> subprocess.Popen[str]:
    """Start a process and read its output until `ready_word` has been printed `times` times;
    with `drain`, go on reading (and dropping) the rest so the child never blocks on it."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    seen = 0
    for line in process.stdout:
        seen += ready_word in line
        if seen >= times:
            if drain:
                threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()
            return process
    raise SeedError(f"{command[:4]} exited before it was ready")


def _drain(stream: IO[str]) -> None:
    """Keep reading a child's output, so it never blocks on a full pipe."""
    for _line in stream:
        pass


@dataclass
class Rig:
    workdir: Path
    broker: MosquittoProcess
    db_url: str
    env: dict[str, str]
    hub: subprocess.Popen[str]


def start_rig(stack: ExitStack, plan: BenchPlan) -> Rig:
    """A private Mosquitto, a database and `seed-hub serve` in its own process."""
    workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="seed-bench-")))
    broker = stack.enter_context(MosquittoProcess())
    db_url = stack.enter_context(bench_database(plan.backend, plan.postgres_url, workdir, "bench"))
    env = {
        **os.environ,
        "SEED_HUB_TOPIC_PREFIX": PREFIX,
        "SEED_HUB_DATA_DIR": str(workdir),
        "SEED_HUB_CLIENT_ID": "bench-hub",
    }
    command = [sys.executable, "-m", "hub.cli", "--log-level", "WARNING", "serve"]
    command += ["--role", "ingest", "--workers", str(plan.workers)]
    hub = start_process(
        [*command, "--broker", broker.url, "--db", db_url],
        env,
        "ingesting",
        times=plan.workers,
        drain=True,
    )
    stack.callback(_terminate, hub)
    return Rig(workdir, broker, db_url, env, hub)


def connect_all(kiosks: list[BenchKiosk]) -> None:
    for kiosk in kiosks:
        kiosk.connection.start()
    for kiosk in kiosks:
        if not kiosk.connection.wait_connected(30):
            raise SeedError("bench kiosk could not connect to the bench broker")
    time.sleep(1.0)  # let the hub's persistent subscription settle


def publish_all(kiosks: list[BenchKiosk]) -> None:
    publishers = [threading.Thread(target=k.publish_all) for k in kiosks]
    for thread in publishers:
        thread.start()
    for thread in publishers:
        thread.join()


def run_ingest_bench(plan: BenchPlan) -> dict[str, Any]:
    total = plan.kiosks * plan.events_per_kiosk
    with ExitStack() as stack:
        rig = start_rig(stack, plan)
        broker, db_url = rig.broker, rig.db_url
        raw = start_process(
            [sys.executable, "-m", "lab.ingest_bench", broker.url, str(total), str(plan.timeout_s)],
            rig.env,
            "ready",
        )
        stack.callback(_terminate, raw)
        kiosks = [
            BenchKiosk(i, broker.address, plan.events_per_kiosk, rate_per_s=plan.rate_per_s)
            for i in range(plan.kiosks)
        ]
        connect_all(kiosks)
        started = time.time()
        publish_all(kiosks)
        published_at = time.time()
        for kiosk in kiosks:
            kiosk.all_acked.wait(plan.timeout_s)
        raw_stdout, _ = raw.communicate(timeout=plan.timeout_s)
        raw_result = json.loads(raw_stdout.strip().splitlines()[-1])
        for kiosk in kiosks:
            kiosk.connection.stop()
        stored, counted = _count_stored(db_url)
    last_ack = max(k.last_ack_at for k in kiosks)
    stored_s = last_ack - started
    raw_s = (raw_result["last_at"] or published_at) - started
    stored_per_s = total / stored_s if stored_s > 0 else 0.0
    raw_per_s = raw_result["received"] / raw_s if raw_s > 0 else 0.0
    return {
        "benchmark": "ingest",
        "backend": plan.backend,
        "kiosks": plan.kiosks,
        "events": total,
        "acked": sum(len(k.acked) for k in kiosks),
        "stored": stored,
        "publish_per_s": round(total / (published_at - started), 1),
        "stored_per_s": round(stored_per_s, 1),
        "raw_per_s": round(raw_per_s, 1),
        "ratio": round(stored_per_s / raw_per_s, 3) if raw_per_s else None,
        "lost": total - stored,
        "duplicates": counted - stored,
        "workers": plan.workers,
        "rate_per_kiosk_per_s": plan.rate_per_s,
        "latency_ms": latency_summary([s for k in kiosks for s in k.latencies_s]),
        "cpu_count": os.cpu_count(),
    }


def latency_summary(seconds: list[float]) -> dict[str, float | None]:
    """Publish to acknowledgement (the ack is sent once the event is committed), in ms."""
    if not seconds:
        return {"p50": None, "p99": None, "max": None}
    ordered = sorted(seconds)

    def at(share: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)

    return {"p50": at(0.50), "p99": at(0.99), "max": round(1000 * ordered[-1], 1)}


def _count_stored(db_url: str) -> tuple[int, int]:
    """(distinct events stored, presses counted in the rollups)."""
    with open_session(db_url) as session:
        return store.stored_event_count(session), rollup_press_count(session)


def _terminate(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


if __name__ == "__main__":
    raw_subscriber(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))
