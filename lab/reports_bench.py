"""`seed-lab bench reports`: how fast the dashboard answers over a year of responses.

Fills a fresh database (migrated, then bulk-loaded: executemany on SQLite, COPY on
PostgreSQL) with N simulated presses at 200 touchpoints under 4 sites x 5 areas, each site
in its own time zone, over the year ending now (a diurnal and weekly pattern, a Happy Index
of its own per touchpoint, some misuse). About 35 % of the negative presses and 20 % of the
positive ones (misuse left out) get a follow-up to the security survey (firmware_config/),
a tenth of them shown and left unanswered. The hourly rollups are computed from the same
generated rows, the daily ones from those, the reasons rollups from the stored follow-ups.
Then it serves the dashboard (WebServer, a port of its own), signs in as an admin through
the login form, and times the JSON views over HTTP (the location and overview views include
the reasons).
"""

import gc
import logging
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, Table, func, select, text
from sqlalchemy.orm import Session

from hub.config import HubSettings
from hub.db import make_engine, migrate, session_factory
from hub.models import (
    Device,
    Event,
    Location,
    Placement,
    ReasonDailyRollup,
    ReasonHourlyRollup,
    ReasonMonthlyRollup,
    SubtreeReasonDay,
)
from hub.rollups.buckets import hour_bucket
from hub.rollups.checks import reason_mismatches, rollup_mismatches
from hub.rollups.reasons import rebuild_reasons
from hub.rollups.write import rebuild_from_hourly
from hub.surveys.definition import load_survey_file
from hub.surveys.store import assign_survey, create_survey
from hub.users import Role, add_user
from hub.web.app import create_app
from hub.web.server import WebServer
from lab.ingest_bench import bench_database
from lab.scratch_postgres import SCRATCH_POSTGRES_URL
from protocol.messages import BUTTONS

SITES = {
    "hel": "Europe/Helsinki",
    "jfk": "America/New_York",
    "sin": "Asia/Singapore",
    "lhr": "Europe/London",
}
AREAS_PER_SITE = 5
TOUCHPOINTS_PER_AREA = 10
HOURS = 365 * 24
CHUNK = 100_000
PASSWORD = "bench password 123"
BUTTON_NAMES = [b.value for b in BUTTONS]
EVENT_COLUMNS = (
    "event_id",
    "device_id",
    "location_id",
    "seq",
    "occurred_at",
    "received_at",
    "button",
    "misuse",
)
ROLLUP_COLUMNS = ("location_id", "bucket_start", "misuse", *BUTTON_NAMES)
FOLLOWUP_COLUMNS = (
    "followup_id",
    "event_id",
    "device_id",
    "location_id",
    "survey_id",
    "survey_version",
    "question",
    "option",
    "language",
    "answered_at",
    "received_at",
)
SURVEY_FILE = Path(__file__).resolve().parents[1] / "firmware_config" / "surveys" / "security.toml"
FOLLOWED_UP = {"negative": 0.35, "positive": 0.20}
"""The share of scored presses of each polarity that get a follow-up (shown, answered or not)."""
UNANSWERED = 0.10
"""Of the follow-ups, those shown and left."""
NEGATIVE_BUTTON = 2
"""Buttons 2 and 3 (unhappy, very unhappy) are asked the negative question."""

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ReportsPlan:
    events: int = 20_000
    backend: str = "sqlite"
    postgres_url: str = SCRATCH_POSTGRES_URL
    requests: int = 30
    seed: int = 7


@dataclass(frozen=True)
class Touchpoint:
    location_id: str
    site: str
    time_zone: str


def tree() -> tuple[list[Location], list[Touchpoint]]:
    """4 sites -> 5 areas each -> 10 touchpoints each; the touchpoints are where kiosks stand."""
    created = datetime(2025, 1, 1, tzinfo=UTC)
    locations: list[Location] = []
    touchpoints: list[Touchpoint] = []

    def place(location_id: str, kind: str, zone: str, parent: str | None) -> None:
        locations.append(
            Location(
                location_id=location_id,
                name=location_id.upper(),
                time_zone=zone,
                kind=kind,
                parent_id=parent,
                created_at=created,
            )
        )

    for site, zone in SITES.items():
        place(site, "site", zone, None)
        for a in range(AREAS_PER_SITE):
            area = f"{site}-a{a}"
            place(area, "area", zone, site)
            for t in range(TOUCHPOINTS_PER_AREA):
                place(f"{area}-t{t}", "touchpoint", zone, area)
                touchpoints.append(Touchpoint(f"{area}-t{t}", site, zone))
    return locations, touchpoints


def hour_weights(start: datetime, zone: str) -> npt.NDArray[np.float64]:
    """Traffic of each UTC hour of the year by its local hour of day and day of week."""
    local = ZoneInfo(zone)
    diurnal = np.array([0.05] * 5 + [0.3, 0.8, 1.6, 2.0, 1.5, 1.2, 1.3] + [1.4, 1.2, 1.1, 1.3])
    diurnal = np.concatenate([diurnal, [1.8, 2.0, 1.5, 1.0, 0.7, 0.4, 0.2, 0.1]])
    weekly = np.array([1.0, 1.0, 1.0, 1.05, 1.2, 0.8, 0.7])
    moments = (start + timedelta(hours=h) for h in range(HOURS))
    weights = np.fromiter(
        (diurnal[m.hour] * weekly[m.weekday()] for m in (t.astimezone(local) for t in moments)),
        dtype=np.float64,
        count=HOURS,
    )
    normalised: npt.NDArray[np.float64] = weights / weights.sum()
    return normalised


@dataclass
class Generated:
    """One touchpoint's presses, in time order: microseconds since the start, button, misuse."""

    location: Touchpoint
    offsets_us: Ints
    buttons: Ints
    misuse: npt.NDArray[np.bool_]


def generate(
    rng: np.random.Generator, location: Touchpoint, n: int, weights: npt.NDArray[np.float64]
) -> Generated:
    hours = rng.choice(HOURS, size=n, p=weights)
    offsets = np.sort(hours * 3_600_000_000 + rng.integers(0, 3_600_000_000, size=n))
    happy = rng.uniform(0.45, 0.9)  # this touchpoint's share of the two happy buttons
    probabilities = np.array([happy * 0.55, happy * 0.45, (1 - happy) * 0.6, (1 - happy) * 0.4])
    buttons = rng.choice(4, size=n, p=probabilities)
    misuse = rng.random(n) < rng.uniform(0.01, 0.06)
    return Generated(location, offsets.astype(np.int64), buttons.astype(np.int64), misuse)


def rollup_rows(generated: Generated, start: datetime) -> list[dict[str, Any]]:
    """The hourly rollups of one touchpoint's presses, counted with numpy."""
    hours = generated.offsets_us // 3_600_000_000
    keys = (hours * 2 + generated.misuse) * 4 + generated.buttons
    counts = np.bincount(keys, minlength=HOURS * 8).reshape(HOURS, 2, 4)
    rows = []
    for hour, misuse in zip(*np.nonzero(counts.sum(axis=2)), strict=True):
        rows.append(
            {
                "location_id": generated.location.location_id,
                "bucket_start": start + timedelta(hours=int(hour)),
                "misuse": bool(misuse),
                **{b: int(c) for b, c in zip(BUTTON_NAMES, counts[hour, misuse], strict=True)},
            }
        )
    return rows


def event_rows(
    generated: Generated, start: datetime, *, postgres: bool
) -> Iterator[tuple[Any, ...]]:
    """Rows in EVENT_COLUMNS order; times as text the column's dialect stores."""
    epoch = np.datetime64(start.replace(tzinfo=None), "us")
    occurred = np.datetime_as_string(epoch + generated.offsets_us.astype("timedelta64[us]"))
    received = np.datetime_as_string(
        epoch + (generated.offsets_us + 1_500_000).astype("timedelta64[us]")
    )
    suffix = "+00" if postgres else ""
    location = generated.location.location_id
    device = f"k-{location}"
    misuse_text = ("t", "f") if postgres else (1, 0)
    for i, (o, r, b, m) in enumerate(
        zip(occurred, received, generated.buttons.tolist(), generated.misuse.tolist(), strict=True)
    ):
        yield (
            f"{device}-{i + 1:08d}",
            device,
            location,
            i + 1,
            o.replace("T", " ") + suffix,
            r.replace("T", " ") + suffix,
            BUTTON_NAMES[b],
            misuse_text[0] if m else misuse_text[1],
        )


def followup_rows(
    generated: Generated,
    start: datetime,
    rng: np.random.Generator,
    options: dict[str, list[str]],
    *,
    postgres: bool,
) -> Iterator[tuple[Any, ...]]:
    """The follow-ups of a share of one touchpoint's scored presses, in FOLLOWUP_COLUMNS
    order, answered 2 to 7 s after the press; each touchpoint favours its own reasons."""
    negative = generated.buttons >= NEGATIVE_BUTTON
    share = np.where(negative, FOLLOWED_UP["negative"], FOLLOWED_UP["positive"])
    chosen = np.nonzero((rng.random(len(negative)) < share) & ~generated.misuse)[0]
    answered_us = generated.offsets_us[chosen] + rng.integers(2_000_000, 7_000_000, len(chosen))
    epoch = np.datetime64(start.replace(tzinfo=None), "us")
    answered = np.datetime_as_string(epoch + answered_us.astype("timedelta64[us]"))
    received = np.datetime_as_string(epoch + (answered_us + 900_000).astype("timedelta64[us]"))
    suffix, none = ("+00", "\\N") if postgres else ("", None)
    weights = {q: rng.dirichlet(np.ones(len(keys)) * 2) for q, keys in options.items()}
    left = rng.random(len(chosen)) < UNANSWERED
    location = generated.location.location_id
    device = f"k-{location}"
    for n, i in enumerate(chosen.tolist()):
        question = "negative" if negative[i] else "positive"
        keys = options[question]
        option = none if left[n] else keys[int(rng.choice(len(keys), p=weights[question]))]
        yield (
            f"f-{device}-{i + 1:08d}",
            f"{device}-{i + 1:08d}",
            device,
            location,
            "security",
            1,
            question,
            option,
            "en",
            answered[n].replace("T", " ") + suffix,
            received[n].replace("T", " ") + suffix,
        )


def split(total: int, parts: int, rng: np.random.Generator) -> list[int]:
    """`total` presses over `parts` touchpoints, some busier than others."""
    shares = rng.lognormal(0.0, 0.6, size=parts)
    counts = np.floor(total * shares / shares.sum()).astype(np.int64)
    counts[: total - int(counts.sum())] += 1
    return [int(c) for c in counts]


class Progress:
    """Rows per second on stderr, at most once every two seconds."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.started = time.perf_counter()
        self._last = 0.0

    def add(self, rows: int) -> None:
        self.done += rows
        now = time.perf_counter()
        if now - self._last >= 2 or self.done == self.total:
            self._last = now
            rate = self.done / max(now - self.started, 1e-9)
            print(f"fill: {self.done:,}/{self.total:,} rows, {rate:,.0f} rows/s", file=sys.stderr)


def _secondary_indexes() -> list[Any]:
    return sorted(cast(Table, Event.__table__).indexes, key=lambda ix: str(ix.name))


Batches = Iterator[list[tuple[Any, ...]]]


def _write_sqlite(engine: Engine, table: str, columns: Sequence[str], batches: Batches) -> None:
    placeholders = ", ".join("?" * len(columns))
    insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA synchronous=OFF")  # a scratch database
        raw = connection.connection.driver_connection
        assert raw is not None
        for batch in batches:
            raw.executemany(insert, batch)
        connection.commit()
        connection.exec_driver_sql("PRAGMA synchronous=NORMAL")


def _write_postgres(engine: Engine, table: str, columns: Sequence[str], batches: Batches) -> None:
    copy = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with engine.begin() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor, cursor.copy(copy) as pipe:
            for batch in batches:
                lines = "\n".join("\t".join(str(v) for v in row) for row in batch)
                pipe.write(lines + "\n")


def _rollup_batches(rows: list[dict[str, Any]], *, postgres: bool) -> Batches:
    """Rollup rows as the bulk writers take them: times and booleans as the dialect stores."""
    for i in range(0, len(rows), CHUNK):
        yield [
            (
                row["location_id"],
                row["bucket_start"].isoformat(sep=" ")
                if postgres
                else row["bucket_start"].strftime("%Y-%m-%d %H:%M:%S.%f"),
                ("t" if row["misuse"] else "f") if postgres else int(row["misuse"]),
                *(row[b] for b in BUTTON_NAMES),
            )
            for row in rows[i : i + CHUNK]
        ]


def fill(engine: Engine, plan: ReportsPlan, start: datetime) -> dict[str, Any]:
    """Locations, kiosks, events and rollups; secondary indexes built after the load."""
    rng = np.random.default_rng(plan.seed)
    locations, touchpoints = tree()
    counts = split(plan.events, len(touchpoints), rng)
    weights = {zone: hour_weights(start, zone) for zone in set(SITES.values())}
    postgres = engine.dialect.name == "postgresql"
    _add_places(engine, locations, touchpoints)
    with engine.begin() as connection:
        for index in _secondary_indexes():
            index.drop(connection)
    rollups: list[dict[str, Any]] = []
    followups: list[tuple[Any, ...]] = []
    options = _survey_options()
    progress = Progress(plan.events)

    def batches() -> Iterator[list[tuple[Any, ...]]]:
        for touchpoint, n in zip(touchpoints, counts, strict=True):
            generated = generate(rng, touchpoint, n, weights[touchpoint.time_zone])
            rollups.extend(rollup_rows(generated, start))
            followups.extend(followup_rows(generated, start, rng, options, postgres=postgres))
            rows = list(event_rows(generated, start, postgres=postgres))
            for i in range(0, len(rows), CHUNK):
                yield rows[i : i + CHUNK]
                progress.add(len(rows[i : i + CHUNK]))

    write = _write_postgres if postgres else _write_sqlite
    write(engine, "events", EVENT_COLUMNS, batches())
    write(engine, "hourly_rollups", ROLLUP_COLUMNS, _rollup_batches(rollups, postgres=postgres))
    chunks = (followups[i : i + CHUNK] for i in range(0, len(followups), CHUNK))
    write(engine, "followups", FOLLOWUP_COLUMNS, chunks)
    with session_factory(engine)() as session, session.begin():
        rebuild_from_hourly(session)
        rebuild_reasons(session)
    _index_and_analyze(engine)
    return {"rollup_rows": len(rollups), "followups": len(followups)}


def _survey_options() -> dict[str, list[str]]:
    survey = load_survey_file(SURVEY_FILE).survey
    options = {}
    for question in ("negative", "positive"):
        follow_up = survey.follow_up(question)
        assert follow_up is not None, f"{SURVEY_FILE} asks no {question} question"
        options[question] = [o.key for o in follow_up.options]
    return options


def _add_places(engine: Engine, locations: list[Location], touchpoints: list[Touchpoint]) -> None:
    now = datetime.now(UTC)
    with session_factory(engine).begin() as session:
        session.add_all(locations)
        session.flush()
        for touchpoint in touchpoints:
            device = f"k-{touchpoint.location_id}"
            session.add(
                Device(
                    device_id=device,
                    location_id=touchpoint.location_id,
                    registered=True,
                    state="online",
                    first_seen_at=now,
                    last_seen_at=now,
                )
            )
            session.flush()
            session.add(
                Placement(device_id=device, location_id=touchpoint.location_id, placed_at=now)
            )
        add_user(session, username="admin", role=Role.ADMIN, password=PASSWORD)
        create_survey(session, parsed=load_survey_file(SURVEY_FILE), by="bench", now=now)
        for site in SITES:
            assign_survey(session, survey_id="security", location_id=site, by="bench", now=now)


def _index_and_analyze(engine: Engine) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SET maintenance_work_mem = '1GB'")
        for index in _secondary_indexes():
            index.create(connection)
    settle = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(settle)  # what autovacuum / `seed-hub` upkeep would have done
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


@dataclass(frozen=True)
class View:
    name: str
    paths: Callable[[int], str]


def views(touchpoints: list[Touchpoint]) -> list[View]:
    sites = list(SITES)
    return [
        View("overview", lambda i: "/api/overview"),
        View("overview_year", lambda i: "/api/overview?days=365"),
        View(
            "location_touchpoint",
            lambda i: f"/api/locations/{touchpoints[i * 7 % len(touchpoints)].location_id}",
        ),
        View("location_site", lambda i: f"/api/locations/{sites[i % len(sites)]}"),
        View("location_site_year", lambda i: f"/api/locations/{sites[i % len(sites)]}?days=365"),
    ]


def signed_in_client(base_url: str) -> httpx.Client:
    """A client with an admin's session, signed in through the login form as a browser is."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    client = httpx.Client(base_url=base_url, timeout=120)
    form = client.get("/login").text
    marker = 'name="csrf_token" value="'
    token = form[form.index(marker) + len(marker) :].split('"', 1)[0]
    response = client.post(
        "/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token}
    )
    if client.get("/api/me").status_code != 200:
        raise RuntimeError(f"could not sign in: {response.status_code}")
    return client


def timed(run: Callable[[int], None], requests: int, warmup: int = 3) -> dict[str, float]:
    for i in range(warmup):
        run(i)
    times = []
    for i in range(requests):
        began = time.perf_counter()
        run(i)
        times.append((time.perf_counter() - began) * 1000)
    return summary(times)


def summary(times_ms: list[float]) -> dict[str, float]:
    ordered = sorted(times_ms)
    p95 = ordered[math.ceil(0.95 * len(ordered)) - 1]  # nearest rank
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(ordered[-1], 1),
        "requests": len(ordered),
    }


def time_views(client: httpx.Client, plan: ReportsPlan) -> dict[str, dict[str, float]]:
    _, touchpoints = tree()
    results = {}
    for view in views(touchpoints):

        def run(i: int, view: View = view) -> None:
            response = client.get(view.paths(i))
            response.raise_for_status()

        results[view.name] = timed(run, plan.requests)
    return results


def time_export(client: httpx.Client, plan: ReportsPlan, start: datetime) -> dict[str, float]:
    """One touchpoint's 30 days of raw events as CSV (GET /api/exports/responses.csv), read
    to the last byte of the stream."""
    _, touchpoints = tree()

    def run(i: int) -> None:
        month = start + timedelta(days=30 * (1 + i % 11))
        params = {
            "location": touchpoints[i * 13 % len(touchpoints)].location_id,
            "since": month.isoformat(),
            "until": (month + timedelta(days=30)).isoformat(),
        }
        with client.stream("GET", "/api/exports/responses.csv", params=params) as response:
            response.raise_for_status()
            for _chunk in response.iter_bytes():
                pass

    return timed(run, plan.requests)


def _reason_rows(session: Session) -> dict[str, int]:
    """Rows in each reasons rollup."""
    models = (ReasonHourlyRollup, ReasonDailyRollup, ReasonMonthlyRollup, SubtreeReasonDay)
    return {
        model.__tablename__: int(session.scalar(select(func.count()).select_from(model)) or 0)
        for model in models
    }


def machine(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            version = connection.execute(text("SHOW server_version")).scalar()
        else:
            version = "SQLite " + str(
                connection.exec_driver_sql("select sqlite_version()").scalar()
            )
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return {
        "cores": os.cpu_count(),
        "ram_gb": round(pages / 2**30, 1),
        "python": platform.python_version(),
        "db_version": str(version),
        "platform": platform.machine(),
    }


def run_reports_bench(plan: ReportsPlan) -> dict[str, Any]:
    start = hour_bucket(datetime.now(UTC)) - timedelta(hours=HOURS - 1)
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="seed-reports-")))
        url = stack.enter_context(
            bench_database(plan.backend, plan.postgres_url, workdir, "bench_reports")
        )
        engine = make_engine(url)
        stack.callback(engine.dispose)
        migrate(engine)
        began = time.perf_counter()
        filled = fill(engine, plan, start)
        fill_s = time.perf_counter() - began
        _, touchpoints = tree()
        with session_factory(engine)() as session:
            sample = [t.location_id for t in touchpoints[:: max(1, len(touchpoints) // 3)]]
            mismatches = rollup_mismatches(session, location_ids=sample)
            sample_places = [*sample, *SITES]
            reasons_off = reason_mismatches(session, location_ids=sample_places)
            reason_rows = _reason_rows(session)
        settings = HubSettings(data_dir=workdir, db=url)
        server = WebServer(create_app(settings, session_factory(engine)), "127.0.0.1", 0)
        base_url = server.start()
        stack.callback(server.stop)
        server.wait_started()
        gc.freeze()  # as `seed-hub serve` does once it has started
        client = signed_in_client(base_url)
        stack.callback(client.close)
        timings = time_views(client, plan)
        timings["export_location_month"] = time_export(client, plan, start)
        return {
            "benchmark": "reports",
            "events": plan.events,
            "backend": plan.backend,
            "machine": machine(engine),
            "fill_s": round(fill_s, 1),
            "rollup_rows": filled["rollup_rows"],
            "followups": filled["followups"],
            "rollup_mismatches": mismatches,
            "rollups_checked": sample,
            "reason_mismatches": reasons_off,
            "reasons_checked": sample_places,
            "reason_rows": reason_rows,
            "views": timings,
        }
