"""`seed-lab bench flood`: big valid messages, then garbage, as fast as they come, against a
running hub; its memory, the database's size, and what became of every message.

One private Mosquitto, one database and `seed-hub serve` in its own process, as `bench
ingest` starts them. Two phases, one after the other:
  1. `messages` valid events padded to the hub's payload limit, from a few kiosks publishing
     as fast as they can (QoS 1, no window). The hub's queue must push back onto the broker,
     its memory stay flat, and every event be stored once everything has drained. An event
     the broker dropped (its queue for the hub is bounded) is sent again, as a kiosk does
     after its ack timeout; what is still missing then is lost.
  2. `garbage` payloads of random bytes (20 KB) on a registered kiosk's own events topic:
     each dead-lettered, and the database must not grow with them.
Memory is the hub's resident set from /proc: VmRSS before and after each phase, and VmHWM
for the peak, its mark reset as each phase starts (before the first: the peak of starting).
"""

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from hub.db import open_session, run_migrated
from hub.ingest import store
from hub.ingest.pipeline import IngestPolicy
from hub.models import DeadLetter
from lab.ingest_bench import PREFIX, BenchKiosk, BenchPlan, Rig, connect_all, publish_all, start_rig
from lab.scratch_postgres import SCRATCH_POSTGRES_URL
from protocol.broker_url import BrokerAddress
from protocol.errors import SeedError
from protocol.messages import PressEvent
from protocol.mqtt import Message, MqttConnection, MqttOptions
from protocol.topics import Topics

MB = 1024 * 1024
PEAK_RSS_TARGET_MB = 200.0
GARBAGE_GROWTH_TARGET_MB = 20.0
GARBAGE_DEVICE = "flood-garbage"
GARBAGE_LOCATION = "flood-loc"
PRESS_SPACING = timedelta(seconds=2)  # slower than a person presses: no press flagged too fast


@dataclass(frozen=True)
class FloodPlan:
    messages: int = 120_000
    garbage: int = 10_000
    kiosks: int = 4
    message_bytes: int = IngestPolicy.max_payload_bytes
    garbage_bytes: int = 20 * 1024
    backend: str = "sqlite"
    postgres_url: str = SCRATCH_POSTGRES_URL
    stall_s: float = 30.0
    """No progress for this long: the hub has taken all it will."""
    resend_rounds: int = 3


class FloodKiosk(BenchKiosk):
    """A bench kiosk whose presses are spaced apart in the past, sent padded with JSON
    whitespace to `size` bytes."""

    def __init__(self, index: int, address: BrokerAddress, events: int, size: int) -> None:
        self._first_press = datetime.now(UTC) - events * PRESS_SPACING
        super().__init__(index, address, events)
        self.payloads = [payload.ljust(size) for payload in self.payloads]

    def _event(self, seq: int) -> PressEvent:
        event = super()._event(seq)
        return event.model_copy(update={"occurred_at": self._first_press + seq * PRESS_SPACING})


def _proc_status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise SeedError(f"no {field} in /proc/{pid}/status")


def database_bytes(db_url: str) -> int:
    """The database's size on disk: a SQLite file with its write-ahead log, or PostgreSQL's
    pg_database_size."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        main = Path(url.database or "")
        files = (main, main.with_name(f"{main.name}-wal"))
        return sum(path.stat().st_size for path in files if path.exists())
    with open_session(db_url) as session:
        return int(session.scalar(text("SELECT pg_database_size(current_database())")) or 0)


def _reset_peak(pid: int) -> bool:
    """Start VmHWM again from the current VmRSS (Linux 4.0+, our own child)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@contextmanager
def measured(rig: Rig, result: dict[str, Any]) -> Iterator[None]:
    """Fill `result` with the hub's memory and the database's growth over the block."""
    pid = rig.hub.pid
    size_before, rss_before = database_bytes(rig.db_url), _proc_status_mb(pid, "VmRSS")
    peak_of = "phase" if _reset_peak(pid) else "process"
    started = time.monotonic()
    yield
    result.update(
        seconds=round(time.monotonic() - started, 1),
        hub_rss_before_mb=rss_before,
        hub_rss_peak_mb=_proc_status_mb(pid, "VmHWM"),
        hub_rss_peak_of=peak_of,
        hub_rss_after_mb=_proc_status_mb(pid, "VmRSS"),
        database_growth_mb=round((database_bytes(rig.db_url) - size_before) / MB, 2),
    )


def wait_drained(progress: Callable[[], int], target: int, stall_s: float, what: str) -> bool:
    """Wait until `progress()` reaches `target` (True) or stops moving for `stall_s` (False);
    says how far it got on stderr every few seconds."""
    last, last_moved, next_report = -1, time.monotonic(), time.monotonic() + 5
    while True:
        done = progress()
        now = time.monotonic()
        if done >= target:
            return True
        if done != last:
            last, last_moved = done, now
        elif now - last_moved > stall_s:
            return False
        if now >= next_report:
            next_report = now + 5
            print(f"flood: {done:,} of {target:,} {what}", file=sys.stderr)
        time.sleep(0.5)


def _acked(kiosks: list[BenchKiosk]) -> int:
    return sum(len(k.acked) for k in kiosks)


def flood_messages(kiosks: list[BenchKiosk], plan: FloodPlan) -> dict[str, Any]:
    """Publish every event at once; then send again what was not acknowledged, as kiosks do."""
    total = sum(len(k.event_ids) for k in kiosks)
    publisher = threading.Thread(target=publish_all, args=(kiosks,), name="flood-publish")
    publisher.start()
    drained = wait_drained(lambda: _acked(kiosks), total, plan.stall_s, "events acknowledged")
    publisher.join()
    resent = 0
    for _ in range(plan.resend_rounds):
        if drained:
            break
        again = sum(k.resend_unacked(older_than_s=0) for k in kiosks)
        print(f"flood: {again:,} unacknowledged events sent again", file=sys.stderr)
        resent += again
        drained = wait_drained(lambda: _acked(kiosks), total, plan.stall_s, "events acknowledged")
    return {"events": total, "acked": _acked(kiosks), "resent": resent}


def _register_garbage_device(session: Session) -> None:
    store.add_location(session, location_id=GARBAGE_LOCATION, name="flood", time_zone="UTC")
    store.register_device(session, device_id=GARBAGE_DEVICE, location_id=GARBAGE_LOCATION)


def _ignore(_message: Message) -> None:
    """The garbage sender listens to nothing."""


def _dead_lettered(db_url: str) -> int:
    with open_session(db_url) as session:
        return sum(store.dead_letter_counts(session).values())


def flood_garbage(rig: Rig, plan: FloodPlan) -> dict[str, Any]:
    """Random bytes on a registered kiosk's events topic, as fast as the broker takes them."""
    run_migrated(rig.db_url, _register_garbage_device)
    connection = MqttConnection(
        MqttOptions(address=rig.broker.address, client_id=GARBAGE_DEVICE, max_in_flight=1000),
        on_message=_ignore,
    )
    connection.start()
    try:
        if not connection.wait_connected(30):
            raise SeedError("the garbage sender could not connect to the bench broker")
        before = _dead_lettered(rig.db_url)
        topic = Topics(PREFIX).events(GARBAGE_DEVICE)
        for _ in range(plan.garbage):
            while not connection.publish(topic, os.urandom(plan.garbage_bytes), qos=1):
                time.sleep(0.01)
        drained = wait_drained(
            lambda: _dead_lettered(rig.db_url) - before, plan.garbage, plan.stall_s, "dead-lettered"
        )
    finally:
        connection.stop()
    return {"garbage": plan.garbage, "drained": drained}


def _outcome(db_url: str) -> dict[str, Any]:
    with open_session(db_url) as session:
        return {
            "stored": store.stored_event_count(session),
            "dead_lettered": store.dead_letter_counts(session),
            "dead_letters_kept": session.scalar(select(func.count()).select_from(DeadLetter)),
        }


def run_flood(plan: FloodPlan) -> dict[str, Any]:
    per_kiosk = plan.messages // plan.kiosks
    phases: dict[str, dict[str, Any]] = {"messages": {}, "garbage": {}}
    with ExitStack() as stack:
        rig = start_rig(stack, BenchPlan(backend=plan.backend, postgres_url=plan.postgres_url))
        print(f"flood: preparing {per_kiosk * plan.kiosks:,} events", file=sys.stderr)
        kiosks: list[BenchKiosk] = [
            FloodKiosk(i, rig.broker.address, per_kiosk, plan.message_bytes)
            for i in range(plan.kiosks)
        ]
        for kiosk in kiosks:
            stack.callback(kiosk.connection.stop)
        connect_all(kiosks)
        start_peak_mb = _proc_status_mb(rig.hub.pid, "VmHWM")
        with measured(rig, phases["messages"]):
            phases["messages"].update(flood_messages(kiosks, plan))
        with measured(rig, phases["garbage"]):
            phases["garbage"].update(flood_garbage(rig, plan))
        outcome = _outcome(rig.db_url)
    return _verdict(plan, phases, start_peak_mb, outcome)


def _verdict(
    plan: FloodPlan,
    phases: dict[str, dict[str, Any]],
    start_peak_mb: float,
    outcome: dict[str, Any],
) -> dict[str, Any]:
    sent = phases["messages"]["events"]
    lost = sent - outcome["stored"]
    peak_mb = max(p["hub_rss_peak_mb"] for p in phases.values())
    garbage_growth = phases["garbage"]["database_growth_mb"]
    return {
        "benchmark": "flood",
        "backend": plan.backend,
        "messages": sent,
        "message_bytes": plan.message_bytes,
        "kiosks": plan.kiosks,
        "garbage": plan.garbage,
        "garbage_bytes": plan.garbage_bytes,
        "seconds": round(sum(p["seconds"] for p in phases.values()), 1),
        "hub_rss_mb": {
            "start_peak": start_peak_mb,
            "before": phases["messages"]["hub_rss_before_mb"],
            "peak": peak_mb,
            "after": phases["garbage"]["hub_rss_after_mb"],
        },
        "database_growth_mb": {name: p["database_growth_mb"] for name, p in phases.items()},
        **outcome,
        "resent": phases["messages"]["resent"],
        "lost": lost,
        "phases": phases,
        "targets_met": {
            f"peak_rss_under_{PEAK_RSS_TARGET_MB:.0f}_mb": peak_mb < PEAK_RSS_TARGET_MB,
            f"garbage_growth_under_{GARBAGE_GROWTH_TARGET_MB:.0f}_mb": garbage_growth
            < GARBAGE_GROWTH_TARGET_MB,
            "none_lost": lost == 0,
        },
    }


def add_flood_bench(bench_commands: Any) -> None:
    """`seed-lab bench flood` (bench_commands: argparse's private _SubParsersAction)."""
    flood = bench_commands.add_parser(
        "flood",
        help="4 KB messages and 20 KB garbage as fast as they come: hub memory, database growth, "
        "lost",
        description="Starts a private Mosquitto and a hub process on SQLite or PostgreSQL, sends "
        "MESSAGES valid events padded to 4 KB, then GARBAGE messages of 20 KB on a registered "
        "kiosk's topic, and reports the hub's peak RSS, the database's growth, what was stored, "
        "dead-lettered and lost. Exits 1 when a target is missed (peak RSS under 200 MB, "
        "garbage growth under 20 MB, nothing lost).",
    )
    flood.add_argument("--json", action="store_true", help="print the result as JSON")
    flood.add_argument(
        "--backend", choices=("sqlite", "postgresql"), default="sqlite", help="the hub's database"
    )
    flood.add_argument(
        "--postgres-url",
        default=FloodPlan.postgres_url,
        help="a server where the bench may make a scratch database (default: %(default)s)",
    )
    flood.add_argument(
        "--messages", type=int, default=FloodPlan.messages, help="valid events (%(default)s)"
    )
    flood.add_argument(
        "--garbage", type=int, default=FloodPlan.garbage, help="garbage messages (%(default)s)"
    )
    flood.add_argument(
        "--kiosks", type=int, default=FloodPlan.kiosks, help="publishers (%(default)s)"
    )
    flood.set_defaults(run=_run)


def _run(args: Any) -> int:
    plan = FloodPlan(
        messages=args.messages,
        garbage=args.garbage,
        kiosks=args.kiosks,
        backend=args.backend,
        postgres_url=args.postgres_url,
    )
    result = run_flood(plan)
    print(json.dumps(result, indent=2) if args.json else result)
    return 0 if all(result["targets_met"].values()) else 1
