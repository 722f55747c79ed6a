"""`seed-lab bench tasks`: from an alert to the staff's phone, at scale.

The reports bench's 200 touchpoints (4 sites, 20 areas of 10), one team per area (20 teams,
two members each on webhook routes to a local receiver), and one rule per site: the negative
share at least 50 % over 15 minutes with at least 4 answers. The hub's alert engine and task
desk run as a hub runs them (their own threads, alert rules every `--interval` s, on the
chosen backend). In each of `--rounds` rounds a batch of touchpoints turns sour (five very
unhappy presses each, stored as ingest stores them) and the bench waits for every notice.

`latency_ms`: each notice's arrival at the receiver minus its alert's `opened_at` (alert to
notification: the task opened, its notice queued, picked and posted). `sour_to_notice_ms`:
from the presses being stored, so it includes waiting for the next rule evaluation.
"""

import json
import random
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hub.alerts.engine import AlertEngine
from hub.alerts.records import add_rule
from hub.alerts.rules import Rule, RuleKind
from hub.config import AlertSettings, HubSettings, TaskSettings
from hub.db import make_engine, migrate, session_factory
from hub.ingest import store
from hub.models import Alert, Task, TaskNotification
from hub.tasks.desk import TaskDesk
from hub.tasks.teams import Role, Route, add_member, add_team
from lab.ingest_bench import bench_database
from lab.phone_bench import percentiles
from lab.reports_bench import tree
from lab.scratch_postgres import SCRATCH_POSTGRES_URL
from protocol.ids import uuid7
from protocol.messages import Button, PressEvent

MEMBERS_PER_TEAM = 2
SOUR_PRESSES = 5


@dataclass(frozen=True)
class TasksPlan:
    backend: str = "sqlite"
    postgres_url: str = SCRATCH_POSTGRES_URL
    rounds: int = 5
    interval_s: float = 2.0
    """How often alert rules run (SEED_HUB_ALERT_INTERVAL_S)."""
    timeout_s: float = 120.0
    """A round whose notices have not all arrived by then counts the rest as missing."""
    seed: int = 7


@dataclass
class Arrivals:
    """What the receiver got: (task id, arrival time) per notice."""

    notices: list[tuple[int, datetime]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        with self.lock:
            return len(self.notices)


@contextmanager
def receiver(arrivals: Arrivals) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with arrivals.lock:
                arrivals.notices.append((int(body["task_id"]), datetime.now(UTC)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def prepare(sessions: sessionmaker[Session], url: str) -> list[str]:
    """The places, teams and rules; returns the touchpoints."""
    locations, touchpoints = tree()
    now = datetime.now(UTC)
    with sessions.begin() as session:
        session.add_all(locations)
        session.flush()
        for area in (loc.location_id for loc in locations if loc.kind == "area"):
            team = f"team-{area}"
            add_team(session, team_id=team, name=f"Team {area}", location_id=area, now=now)
            for n in range(1, MEMBERS_PER_TEAM + 1):
                add_member(
                    session,
                    team_id=team,
                    name=f"Member {n}",
                    route=Route.WEBHOOK,
                    target=f"{url}/{area}/{n}",
                    role=Role.MEMBER,
                )
        for site in (loc.location_id for loc in locations if loc.kind == "site"):
            rule = Rule(0, site, RuleKind.NEGATIVE_SHARE, 50, 15, min_responses=4)
            add_rule(session, rule=rule, created_by="bench", now=now)
    return [t.location_id for t in touchpoints]


def sour(sessions: sessionmaker[Session], touchpoints: list[str]) -> datetime:
    """Five very unhappy presses at each touchpoint, a minute ago; returns when they were stored."""
    now = datetime.now(UTC)
    events = [
        PressEvent(
            event_id=str(uuid7()),
            device_id=f"k-{location_id}",
            location_id=location_id,
            seq=seq,
            occurred_at=now - timedelta(seconds=60 - seq),
            button=Button.VERY_UNHAPPY,
        )
        for location_id in touchpoints
        for seq in range(1, SOUR_PRESSES + 1)
    ]
    with sessions.begin() as session:
        store.store_events(session, events=events, received_at=now)
    return datetime.now(UTC)


def run_tasks_bench(plan: TasksPlan) -> dict[str, Any]:
    arrivals = Arrivals()
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="seed-tasks-")))
        url = stack.enter_context(bench_database(plan.backend, plan.postgres_url, workdir, "tasks"))
        hook = stack.enter_context(receiver(arrivals))
        engine = make_engine(url)
        stack.callback(engine.dispose)
        migrate(engine)
        sessions = session_factory(engine)
        touchpoints = prepare(sessions, hook)
        settings = HubSettings(
            data_dir=workdir,
            db=url,
            alerts=AlertSettings(
                mqtt=False, webhook_allow_private=True, interval_s=plan.interval_s
            ),
            tasks=TaskSettings(public_url="https://hub.example.org"),
        )
        publish = lambda _topic, _payload: True  # noqa: E731 - alerts go to no broker here
        desk = TaskDesk(sessions, settings, publish)
        alerts = AlertEngine(sessions, settings, publish, on_opened=desk.wake)
        alerts.start()
        stack.callback(alerts.stop)
        desk.start()
        stack.callback(desk.stop)
        return _rounds(plan, sessions, touchpoints, arrivals)
    raise AssertionError("unreachable")  # pragma: no cover (ExitStack swallows nothing)


def _rounds(
    plan: TasksPlan, sessions: sessionmaker[Session], touchpoints: list[str], arrivals: Arrivals
) -> dict[str, Any]:
    rng = random.Random(plan.seed)
    order = rng.sample(touchpoints, len(touchpoints))
    size = -(-len(order) // plan.rounds)
    soured_at: dict[str, datetime] = {}
    missing = 0
    for start in range(0, len(order), size):
        batch = order[start : start + size]
        expected = arrivals.count() + len(batch) * MEMBERS_PER_TEAM
        time.sleep(rng.uniform(0, plan.interval_s))  # anywhere in the rules' interval
        stored = sour(sessions, batch)
        soured_at.update(dict.fromkeys(batch, stored))
        deadline = time.monotonic() + plan.timeout_s
        while arrivals.count() < expected and time.monotonic() < deadline:
            time.sleep(0.05)
        missing += max(0, expected - arrivals.count())
    return _result(plan, sessions, arrivals, soured_at, missing)


def _result(
    plan: TasksPlan,
    sessions: sessionmaker[Session],
    arrivals: Arrivals,
    soured_at: dict[str, datetime],
    missing: int,
) -> dict[str, Any]:
    with sessions() as session:
        tasks = {
            task_id: (opened_at, location_id)
            for task_id, opened_at, location_id in session.execute(
                select(Task.id, Alert.opened_at, Task.location_id).join(
                    Alert, Alert.id == Task.alert_id
                )
            )
        }
        alerts = session.scalar(select(func.count()).select_from(Alert)) or 0
        failed = session.scalar(
            select(func.count())
            .select_from(TaskNotification)
            .where(TaskNotification.state == "failed")
        )
    latency = [(at - tasks[t][0]).total_seconds() * 1000 for t, at in arrivals.notices]
    from_sour = [(at - soured_at[tasks[t][1]]).total_seconds() * 1000 for t, at in arrivals.notices]
    return {
        "backend": plan.backend,
        "locations": len(soured_at),
        "teams": len({loc.rsplit("-", 1)[0] for loc in soured_at}),
        "rounds": plan.rounds,
        "alert_interval_s": plan.interval_s,
        "alerts": alerts,
        "tasks": len(tasks),
        "notices": len(arrivals.notices),
        "missing": missing,
        "failed": failed or 0,
        "latency_ms": percentiles(latency),
        "sour_to_notice_ms": percentiles(from_sour),
    }
