"""`seed-lab bench phone`: the survey on travellers' phones under load, over real HTTP.

Fills a fresh database (SQLite file or a scratch PostgreSQL one) with the reports bench's 200
touchpoints under 4 sites, the security survey (with follow-ups) assigned to half the sites,
one phone link per touchpoint and an admin; then starts `seed-hub serve --role web` in its own
process and lets N simulated phones walk the survey as fast as they can: the question page,
an answer (a random smiley), the follow-up page and an option (where the place's survey asks
one), the comment page and a comment (one flow in four; the others say "No, thanks"), thanks.
Each flow is a new traveller: a fresh address (`X-Forwarded-For: 10.x.y.z`, believed from
127.0.0.1, the hub's default trusted proxy) and no cookies, so the per-address limit and the
misuse flag see what many phones would make them see. Meanwhile one signed-in dashboard
client asks for the overview (`/api/overview?days=7`, what the overview page asks first)
once a second.

`answer_ms` times the POST of the answer (to its 303), `flow_ms` a whole flow; `responses`
counts answers the hub answered with its 303, and `events_stored` the phone responses the
database holds afterwards: they must be equal. A 503 (all write slots taken) ends its flow and
is counted in `busy_503`, a 429 in `limited_429`, anything else unexpected in `errors`.
"""

import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func, select

from hub.db import make_engine, migrate, session_factory
from hub.models import Channel, Comment, Event, FollowUpAnswer
from hub.phone.links import issue_link
from hub.surveys.definition import load_survey_file
from hub.surveys.store import assign_survey, create_survey
from hub.users import Role, add_user
from lab.ingest_bench import bench_database, start_process
from lab.reports_bench import PASSWORD, SURVEY_FILE, machine, signed_in_client, tree
from lab.scratch_postgres import SCRATCH_POSTGRES_URL
from protocol.errors import SeedError

SURVEYED_SITES = ("hel", "jfk")
"""Sites whose touchpoints ask the security survey's follow-ups; the others ask the question."""
BUTTONS = ("very_happy", "happy", "unhappy", "very_unhappy")
COMMENT_SHARE = 0.25
COMMENT = "The queue was long but the staff were kind."
OVERVIEW = "/api/overview?days=7"
TICKET_MARKER = 'name="ticket" value="'
OPTION_MARKER = 'name="option" value="'


@dataclass(frozen=True)
class PhonePlan:
    backend: str = "sqlite"
    postgres_url: str = SCRATCH_POSTGRES_URL
    phones: int = 50
    seconds: float = 20.0
    concurrent_writes: int | None = None
    """SEED_HUB_PHONE_CONCURRENT_WRITES for the hub; None: its default."""
    workers: int = 1
    """Web processes (`seed-hub serve --role web --workers K`) sharing the port."""
    seed: int = 7


class StepError(Exception):
    """A step answered with a status the flow cannot go on from."""


@dataclass
class Tally:
    """What all phones saw; one lock, taken briefly once per request."""

    responses: int = 0
    reasons: int = 0
    comments: int = 0
    flows: int = 0
    errors: int = 0
    busy_503: int = 0
    limited_429: int = 0
    answer_ms: list[float] = field(default_factory=list)
    flow_ms: list[float] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def refused(self, status: int, where: str) -> None:
        with self.lock:
            if status == 503:
                self.busy_503 += 1
            elif status == 429:
                self.limited_429 += 1
            else:
                self.errors += 1
                if len(self.error_samples) < 5:
                    self.error_samples.append(f"{where}: {status}")


class Addresses:
    """A new 10.x.y.z for each traveller."""

    def __init__(self) -> None:
        self._next = 0
        self._lock = threading.Lock()

    def take(self) -> str:
        with self._lock:
            self._next += 1
            n = self._next
        return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare(engine: Engine, *, seed: int) -> list[str]:
    """Places, the survey, an admin and a link per touchpoint; returns the links' tokens."""
    locations, touchpoints = tree()
    now = datetime.now(UTC)
    with session_factory(engine).begin() as session:
        session.add_all(locations)
        session.flush()
        add_user(session, username="admin", role=Role.ADMIN, password=PASSWORD)
        create_survey(session, parsed=load_survey_file(SURVEY_FILE), by="bench", now=now)
        for site in SURVEYED_SITES:
            assign_survey(session, survey_id="security", location_id=site, by="bench", now=now)
        tokens = [
            issue_link(session, location_id=t.location_id, by="bench", now=now).token
            for t in touchpoints
        ]
    random.Random(seed).shuffle(tokens)
    return tokens


def _between(text: str, marker: str) -> str:
    start = text.index(marker) + len(marker)
    return text[start : text.index('"', start)]


def _expect(response: httpx.Response, status: int, where: str) -> httpx.Response:
    if response.status_code != status:
        raise StepError(where, response.status_code)
    return response


def walk(client: httpx.Client, token: str, rng: random.Random, tally: Tally) -> None:
    """One traveller's flow, from the question page to thanks."""
    began = time.perf_counter()
    page = _expect(client.get(f"/t/{token}"), 200, "question page").text
    ticket, lang = _between(page, TICKET_MARKER), "en"
    sent = time.perf_counter()
    answered = client.post(
        f"/t/{token}", data={"ticket": ticket, "button": rng.choice(BUTTONS), "lang": lang}
    )
    answer_ms = (time.perf_counter() - sent) * 1000
    _expect(answered, 303, "answer")
    with tally.lock:
        tally.responses += 1
        tally.answer_ms.append(answer_ms)
    step = client.get(answered.headers["location"])
    if "/reason?" in answered.headers["location"]:
        page = _expect(step, 200, "reason page").text
        options = page.split(OPTION_MARKER)[1:]
        option = rng.choice(options).split('"', 1)[0] if options else ""
        ticket = _between(page, TICKET_MARKER)
        moved = client.post(
            f"/t/{token}/reason", data={"ticket": ticket, "option": option, "lang": lang}
        )
        step = client.get(_expect(moved, 303, "reason").headers["location"])
        with tally.lock:
            tally.reasons += 1
    page = _expect(step, 200, "comment page").text
    form = {"ticket": _between(page, TICKET_MARKER), "lang": lang}
    commented = rng.random() < COMMENT_SHARE
    form.update({"text": COMMENT} if commented else {"skip": "1"})
    thanks = _expect(client.post(f"/t/{token}/comment", data=form), 303, "comment")
    _expect(client.get(thanks.headers["location"]), 200, "thanks page")
    with tally.lock:
        tally.comments += commented
        tally.flows += 1
        tally.flow_ms.append((time.perf_counter() - began) * 1000)


@dataclass(frozen=True)
class Walk:
    """What the phones share: where the hub is, the links, the addresses, the tally."""

    base_url: str
    tokens: list[str]
    addresses: Addresses
    tally: Tally
    deadline: float


def phone(shared: Walk, seed: int) -> None:
    """One phone's loop: flows until the deadline, each as a new traveller."""
    rng, tally = random.Random(seed), shared.tally
    with httpx.Client(base_url=shared.base_url, timeout=30) as client:
        while time.monotonic() < shared.deadline:
            client.cookies.clear()
            client.headers["X-Forwarded-For"] = shared.addresses.take()
            try:
                walk(client, rng.choice(shared.tokens), rng, tally)
            except StepError as failed:
                where, status = failed.args
                tally.refused(status, where)
            except httpx.HTTPError as exc:
                tally.refused(0, f"{type(exc).__name__}: {exc}")


def dashboard(client: httpx.Client, stop: threading.Event, times_ms: list[float | None]) -> None:
    """The overview, once a second, as a manager's open dashboard asks it; None: it failed."""
    while not stop.is_set():
        began = time.perf_counter()
        try:
            client.get(OVERVIEW).raise_for_status()
            times_ms.append((time.perf_counter() - began) * 1000)
        except httpx.HTTPError as exc:
            print(f"phone bench: overview failed: {exc}", file=sys.stderr)
            times_ms.append(None)
        stop.wait(max(0.0, 1.0 - (time.perf_counter() - began)))


def _rank(values: list[float], share: float) -> float:
    """Nearest-rank percentile, in ms to 0.1."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return round(ordered[max(0, min(len(ordered) - 1, int(share * len(ordered) + 0.999) - 1))], 1)


def stored(engine: Engine) -> dict[str, int]:
    with session_factory(engine)() as session:
        web = select(func.count()).select_from(Event).where(Event.channel == Channel.WEB)
        return {
            "events_stored": int(session.scalar(web) or 0),
            "reasons_stored": int(
                session.scalar(select(func.count()).select_from(FollowUpAnswer)) or 0
            ),
            "comments_stored": int(session.scalar(select(func.count()).select_from(Comment)) or 0),
        }


@contextmanager
def web_hub(workdir: Path, db_url: str, plan: PhonePlan) -> Iterator[tuple[str, int]]:
    """`seed-hub serve --role web` in its own process; yields its URL and pid."""
    port = _free_port()
    env = {**os.environ, "SEED_HUB_DATA_DIR": str(workdir)}
    if plan.concurrent_writes is not None:
        env["SEED_HUB_PHONE_CONCURRENT_WRITES"] = str(plan.concurrent_writes)
    command = [sys.executable, "-m", "hub.cli", "--log-level", "WARNING", "serve"]
    command += ["--role", "web", "--workers", str(plan.workers)]
    command += ["--db", db_url, "--web-port", str(port)]
    # With K workers the supervisor says it first, then each worker once it serves.
    ready = 1 if plan.workers == 1 else plan.workers + 1
    process = start_process(command, env, "dashboard at", times=ready, drain=True)
    try:
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _cpu_s(root: int) -> float:
    """User + system CPU seconds so far of a process and its children (from /proc)."""
    ticks: dict[int, tuple[int, int]] = {}  # pid -> (parent, ticks)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks[int(stat.parent.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    family, grown = {root}, True
    while grown:
        before = len(family)
        family |= {pid for pid, (parent, _) in ticks.items() if parent in family}
        grown = len(family) > before
    return sum(ticks[pid][1] for pid in family if pid in ticks) / os.sysconf("SC_CLK_TCK")


def run_phone_bench(plan: PhonePlan) -> dict[str, Any]:
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="seed-phone-")))
        url = stack.enter_context(
            bench_database(plan.backend, plan.postgres_url, workdir, "bench_phone")
        )
        engine = make_engine(url)
        stack.callback(engine.dispose)
        migrate(engine)
        tokens = prepare(engine, seed=plan.seed)
        print(f"phone bench: {len(tokens)} links on {plan.backend}; hub…", file=sys.stderr)
        base_url, hub_pid = stack.enter_context(web_hub(workdir, url, plan))
        manager = signed_in_client(base_url)
        stack.callback(manager.close)
        _warm_up(base_url, tokens)
        tally, overview_ms = Tally(), list[float | None]()
        stop = threading.Event()
        watcher = threading.Thread(target=dashboard, args=(manager, stop, overview_ms))
        hub_cpu, own_cpu = _cpu_s(hub_pid), _own_cpu_s()
        began = time.monotonic()
        deadline = began + plan.seconds
        shared = Walk(base_url, tokens, Addresses(), tally, deadline)
        phones = [
            threading.Thread(target=phone, args=(shared, plan.seed * 1000 + n), name=f"phone-{n}")
            for n in range(plan.phones)
        ]
        watcher.start()
        for thread in phones:
            thread.start()
        _progress(tally, phones, began)
        elapsed = time.monotonic() - began
        stop.set()
        watcher.join()
        hub_cpu, own_cpu = _cpu_s(hub_pid) - hub_cpu, _own_cpu_s() - own_cpu
        counts = stored(engine)
        timed_overview = [t for t in overview_ms if t is not None]
        return {
            "benchmark": "phone",
            "backend": plan.backend,
            "phones": plan.phones,
            "seconds": round(elapsed, 1),
            "machine": machine(engine),
            "concurrent_writes": plan.concurrent_writes,
            "workers": plan.workers,
            "responses": tally.responses,
            "responses_per_s": round(tally.responses / elapsed, 1),
            "flows": tally.flows,
            "reasons": tally.reasons,
            "comments": tally.comments,
            "answer_ms": percentiles(tally.answer_ms),
            "flow_ms": percentiles(tally.flow_ms),
            "errors": tally.errors,
            "error_samples": tally.error_samples,
            "busy_503": tally.busy_503,
            "limited_429": tally.limited_429,
            "overview_ms": {
                "p50": _rank(timed_overview, 0.50),
                "p95": _rank(timed_overview, 0.95),
                "n": len(timed_overview),
                "failed": len(overview_ms) - len(timed_overview),
            },
            **counts,
            "events_match": counts["events_stored"] == tally.responses,
            "cpu_s": {"hub": round(hub_cpu, 1), "phones": round(own_cpu, 1)},
        }
    raise AssertionError("unreachable")  # pragma: no cover (ExitStack swallows nothing)


def percentiles(times_ms: list[float]) -> dict[str, float]:
    """Nearest-rank p50 and p99, the largest and the mean, in ms to 0.1."""
    return {
        "p50": _rank(times_ms, 0.50),
        "p99": _rank(times_ms, 0.99),
        "max": round(max(times_ms), 1) if times_ms else 0.0,
        "mean": round(statistics.fmean(times_ms), 1) if times_ms else 0.0,
    }


def _own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _warm_up(base_url: str, tokens: list[str]) -> None:
    """One question page per place, from addresses the run never uses: imports, templates
    and the places' survey cache are made before the clock starts."""
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for n, token in enumerate(tokens):
            client.headers["X-Forwarded-For"] = f"192.168.{n >> 8}.{n & 255}"
            response = client.get(f"/t/{token}")
            if response.status_code != 200:
                raise SeedError(f"the question page answered {response.status_code}")


def _progress(tally: Tally, phones: list[threading.Thread], began: float) -> None:
    """Wait for the phones, with their count on stderr every 5 s."""
    report_at = began + 5
    while alive := [thread for thread in phones if thread.is_alive()]:
        alive[0].join(timeout=max(0.0, report_at - time.monotonic()))
        if time.monotonic() >= report_at:
            report_at += 5
            with tally.lock:
                done = tally.responses
                refused = tally.errors + tally.busy_503 + tally.limited_429
            print(
                f"phone bench: {time.monotonic() - began:.0f} s, {done} responses, "
                f"{refused} refused",
                file=sys.stderr,
            )
