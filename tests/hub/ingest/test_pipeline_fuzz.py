"""Property-based tests of hub ingest: whatever arrives is accounted for, and counts add up.

1. Any topic, any bytes, JSON of any shape, every message the hub ingests (events with and
   without a camera reading, statuses live, retained and probing) with fields mutated,
   removed, added or retyped, huge strings and deep nesting, NUL and other control
   characters, lone surrogates (escaped, and as raw invalid UTF-8) and the largest integers
   in every field, in any batches and redelivered: `Ingestor.process` does not raise, and
   every message is accounted for exactly once, as a stored event (acked as stored to its
   kiosk and in the events table), a processed status, or a dead letter with a reason that
   fits it. Every batch carries a valid event beside the poison, which must be stored.
2. Valid events in any order, redelivered within and across batches, some from kiosks with
   a skewed clock, end as exactly one row each, and the hourly rollups equal a recount of
   the events table.

Both run on SQLite and on PostgreSQL (which refuses what SQLite takes: NUL in text, text
longer than its column, integers beyond their column). Each example gets an empty database
(function-scoped fixtures are not reset between hypothesis examples): a copy of one
migrated SQLite file, or one migrated PostgreSQL database emptied. Inputs that once broke
ingest are pinned as regression tests at the end, on both.
"""

import json
import os
import re
import shutil
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from copy import deepcopy
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from itertools import pairwise
from pathlib import Path
from typing import Any, Protocol

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, MetaData, func, select
from sqlalchemy.orm import Session, sessionmaker

from hub.db import make_engine, migrate, session_factory
from hub.ingest.pipeline import Inbound, Ingestor, IngestPolicy, Outbound
from hub.ingest.store import MAX_KEPT_PAYLOAD, MAX_PASSERSBY_PER_S, storable_text
from hub.models import DeadLetter, Event, HourlyFootfall, HourlyRollup
from lab.scratch_postgres import scratch_postgres_database
from protocol.errors import ProtocolError, StoreError
from protocol.messages import (
    BUTTONS,
    EVENT_ID_PATTERN,
    INT32_MAX,
    Ack,
    Button,
    decode_ack,
    decode_event,
    decode_status,
)
from protocol.topics import Topics
from tests.conftest import POSTGRES_URL
from tests.helpers import service_missing

TOPICS = Topics("seed")
POLICY = IngestPolicy()
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # batch n is received at NOW + n seconds
MAX_PAYLOAD = POLICY.max_payload_bytes
INT64_MAX = 2**63 - 1
# the edges of 32- and 64-bit columns, signed and unsigned, on both sides
EDGE_INTS = (
    *(INT32_MAX, 2**31, 2**32, INT64_MAX, 2**63, 2**64, 10**30),
    *(-1, -(2**31), -(2**31) - 1, -(2**63), -(2**63) - 1, -(2**64)),
)
# C0 and C1 controls, DEL, line and paragraph separators, lone surrogates: no field takes them
POISON_CHARACTERS = (
    *("\x00", "\x01", "\t", "\n", "\r", "\x1b", "\x7f", "\x85", "\x9f", "\u2028", "\u2029"),
    *("\ud800", "\udbff", "\udc00", "\udfff"),
)
PRINTABLE = st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp"))
# Event ids are "<device>-..." (no device id is a prefix of another followed by "-", so they
# never collide), or from a pool that kiosks share, for event_id_conflict.
SHARED_IDS = ("shared-0", "shared-1")
# Ids every version of the protocol accepts; an invalid event with one must be refused to its kiosk.
PLAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")
DEVICES = ("k1", "k2", "kiosk-3.b", "0")
WITNESS = "witness"  # a kiosk apart whose valid event rides in every batch
LOCATIONS = ("gate-a", "gate-b", "lane_1", "l" * 64)
ZONES: tuple[tzinfo, ...] = (
    UTC,
    timezone(timedelta(hours=3)),
    timezone(-timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=14)),
)
# Kiosk clock skews: none, or far beyond the tolerance, so the hub corrects them exactly.
SKEWS = (
    timedelta(0),
    timedelta(0),
    -timedelta(hours=3),
    timedelta(days=1),
    -timedelta(days=20_000),
)
DECODER_REASONS = frozenset({"malformed_json", "unknown_schema_version", "invalid_payload"})
# No readable event to refuse, or (impossible_timestamp) kept by the kiosk until it knows the
# hub's clock and can send it corrected.
NOT_REFUSED = frozenset({"oversized_payload", "unknown_topic", "impossible_timestamp"})

# 100 examples per property and backend keep the file near 40 s on two cores; a deeper hunt:
# SEED_FUZZ_EXAMPLES=2000 pytest tests/hub/ingest/test_pipeline_fuzz.py
FUZZ = settings(
    max_examples=int(os.environ.get("SEED_FUZZ_EXAMPLES", "100")),
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # only the autouse thread_errors; it is harmless
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


class Databases(Protocol):
    def fresh(self) -> AbstractContextManager[sessionmaker[Session]]:
        """An empty migrated database for one example."""
        ...


class SqliteCopies:
    """A copy of one migrated SQLite file for each example."""

    def __init__(self, template: Path) -> None:
        self._template = template

    @contextmanager
    def fresh(self) -> Iterator[sessionmaker[Session]]:
        with tempfile.TemporaryDirectory(prefix="ingest-fuzz-") as tmp:
            path = Path(tmp) / "hub.sqlite3"
            shutil.copyfile(self._template, path)
            engine = make_engine(f"sqlite:///{path}")
            try:
                yield session_factory(engine)
            finally:
                engine.dispose()


class EmptiedPostgres:
    """One migrated PostgreSQL database, emptied for each example: making one takes seconds,
    TRUNCATE a third of one, DELETE on tables this small a hundredth."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        schema = MetaData()
        schema.reflect(engine)
        kept = {"alembic_version", "camera_audit_log"}  # the audit log refuses DELETE
        self._tables = [t for t in reversed(schema.sorted_tables) if t.name not in kept]

    @contextmanager
    def fresh(self) -> Iterator[sessionmaker[Session]]:
        with self._engine.begin() as connection:
            for table in self._tables:
                connection.execute(table.delete())
        yield session_factory(self._engine)


def _sqlite_template(directory: Path) -> Path:
    path = directory / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
def databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Databases]:
    if request.param == "sqlite":
        yield SqliteCopies(_sqlite_template(tmp_path_factory.mktemp("ingest_fuzz")))
        return
    with ExitStack() as stack:
        try:
            url = stack.enter_context(scratch_postgres_database(POSTGRES_URL, prefix="seed_fuzz"))
        except StoreError as exc:
            service_missing(str(exc))
        engine = make_engine(url)
        stack.callback(engine.dispose)
        migrate(engine)
        yield EmptiedPostgres(engine)


# ---------------------------------------------------------------- generators: any input


@dataclass(frozen=True)
class Sent:
    """A message to send, and what it must become when the generator knows.

    expect: "event", "status", "dead" (any reason), "dead:<reason>", or "any".
    """

    topic: str
    payload: bytes
    expect: str = "any"
    retained: bool = False


characters = st.characters() | st.integers(0xD800, 0xDFFF).map(chr)  # with lone surrogates
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(EDGE_INTS),
    st.floats(),
    st.text(characters, max_size=12),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(characters, max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
near_window = st.datetimes(
    min_value=datetime(2019, 12, 31),
    max_value=datetime(2026, 11, 23, 12, 10),
    timezones=st.sampled_from(ZONES),
)
any_times = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.sampled_from(ZONES)
)
timestamp_texts = st.one_of(
    near_window.map(datetime.isoformat),
    any_times.map(datetime.isoformat),
    st.sampled_from(
        [
            POLICY.earliest_event.isoformat(),
            (POLICY.earliest_event - timedelta(microseconds=1)).isoformat(),
            (NOW + POLICY.max_clock_ahead).isoformat(),
            (NOW + POLICY.max_clock_ahead + timedelta(microseconds=1)).isoformat(),
            "1970-01-01T00:00:05Z",
            "2026-11-23T12:00:00",  # naive
            "2026-11-23",
            "2026-11-23T12:00:00+23:59",
            "2026-11-23T12:00:00+24:00",
            "2026-13-01T00:00:00Z",
            "2026-11-23T12:00:00.123456789Z",
            "1700000000",
            "",
            "yesterday",
            "0001-01-01T00:00:00Z",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59Z",
            "9999-12-31T23:59:59-01:00",
        ]
    ),
    st.text(max_size=30),
)
TWEAKS: dict[str, list[Any]] = {
    "v": [2, 0, 1.0, True, "1", None],
    "device_id": [*DEVICES, "K1", "", "a" * 65, "k 1", "kä", "k1\n"],
    "location_id": [*LOCATIONS, "Gate A", "", "l" * 65, "ä", None],
    "seq": [0, -1, 1, *EDGE_INTS, "3", 1.5, True, None],
    "button": [*(b.value for b in BUTTONS), "meh", "HAPPY", "", 1],
    "misuse": [True, False, 1, 0, "true", None],
    "state": ["online", "offline", "ONLINE", "gone", None],
    "uptime_s": [0, -0.0, -1, 1e308, 10**400, float("inf"), float("nan"), "12", None],
    "outbox_depth": [0, -1, *EDGE_INTS, 1.0, None],
    "outbox_capacity": [0, 1, *EDGE_INTS, None],
    "outbox_dropped": [0, -1, *EDGE_INTS, None],
    "version": ["", "1.0", "ü" * 64, "ü" * 65, None, 1],
    "config_version": [0, 1, INT32_MAX, 2**31, None],
    "config_error": ["", "x" * 300, "x" * 301, None, 1],
    "camera": ["off", "fault", "broken", "", None],
    "camera_fault": ["", "ü" * 300, "ü" * 301, None],
    "passersby_total": [0, -1, *EDGE_INTS, 1.0, None],
    "probe": [True, False, 1, "true", None],
    "emotion": [None, {}, [], {"faces": 1}],
}
DEEP = re.compile(r'"\\u0000deep:(\d+)\\u0000"')  # a marker, json-encoded, for nesting
RAW_CONTROL = re.compile(rb"\\u00([01][0-9a-f])")  # a control character as json.dumps escapes it
FUZZ_SOURCES = (
    *("event", "event", "event", "timed", "status", "status", "status"),
    *("poison", "poison", "poison", "bytes", "json", "deep"),
)
# Press times at the window's edges, for a kiosk whose clock is not corrected (batches are
# received from NOW on, so the latest allowed time is NOW + max_clock_ahead or later).
INSIDE_WINDOW = (POLICY.earliest_event, NOW + POLICY.max_clock_ahead)
OUTSIDE_WINDOW = (
    POLICY.earliest_event - timedelta(microseconds=1),
    datetime(1970, 1, 1, tzinfo=UTC),
    NOW + POLICY.max_clock_ahead + timedelta(minutes=1),
    datetime(2200, 1, 1, tzinfo=UTC),
)
MUTATIONS = ("drop", "add", "retype", "tweak", "tweak", "time", "time", "huge", "deep")
WHERE = ("own",) * 6 + ("other_device", "other_kind", "bad", "random")
BAD_TOPICS = (
    "",
    "seed",
    "seed/devices/k1",
    "seed/devices/k1/ack",
    "seed/devices/k1/config",
    "seed/devices/k1/Events",
    "seed/devices/k1/events/",
    "seed/devices/k1/events/extra",
    "seed/devices//events",
    "seed/devices/+/events",
    "seed/devices/#",
    "seed/devices/K1/events",
    "seed/devices/-k1/events",
    "seed/devices/k 1/status",
    "seed/devices/kä/events",
    "seed/devices/k1\n/events",
    f"seed/devices/{'a' * 65}/events",
    "/seed/devices/k1/events",
    "seed/device/k1/events",
    "seeds/devices/k1/events",
    "other/devices/k1/status",
    "\uff53eed/devices/k1/events",  # a fullwidth s
    "seed/devices/k1/events\x00",
)


def _up_to(low: int, high: int) -> st.SearchStrategy[int]:
    """An integer in [low, high], its edges often."""
    return st.sampled_from([low, high]) | st.integers(low, high)


probabilities = st.floats(0, 1)
camera_readings = st.fixed_dictionaries(
    {
        "emotions": st.lists(probabilities, min_size=26, max_size=26),
        "vad": st.lists(probabilities, min_size=3, max_size=3),
        "face_score": probabilities,
        "age_s": st.floats(-30, 30),
        "faces": _up_to(1, 1000),
    },
    optional={"expressions": st.lists(probabilities, min_size=7, max_size=7)},
)


STATUS_FIELDS: dict[str, st.SearchStrategy[Any]] = {  # optional, valid, often at their edges
    "location_id": st.sampled_from(LOCATIONS),
    "version": st.text(PRINTABLE, max_size=64),
    # finite only: the protocol refuses JSON's Infinity (allow_inf_nan=False), which the
    # "status-uptime-infinity-with-passersby" example sends as the invalid payload it is
    "uptime_s": st.floats(min_value=0, allow_nan=False, allow_infinity=False),
    "outbox_depth": _up_to(0, INT32_MAX),
    "outbox_capacity": _up_to(1, INT32_MAX),
    "outbox_dropped": _up_to(0, INT32_MAX),
    "config_version": _up_to(1, INT32_MAX),
    "config_error": st.text(PRINTABLE, max_size=300),
    "camera": st.sampled_from(["off", "starting", "ok", "fault"]),
    "camera_fault": st.text(PRINTABLE, max_size=300),
    "passersby_total": _up_to(0, INT32_MAX),
    "probe": st.booleans(),
}


@st.composite
def event_documents(draw: st.DrawFn, device: str) -> dict[str, Any]:
    """A valid event, pressed well inside the allowed window, maybe from a skewed clock."""
    skew = draw(st.sampled_from(SKEWS))
    zone = draw(st.sampled_from(ZONES))
    at = draw(
        st.datetimes(
            min_value=datetime(2020, 1, 2),
            max_value=datetime(2026, 11, 23, 11, 59),
            timezones=st.just(UTC),
        )
    )
    doc: dict[str, Any] = {
        "v": 1,
        # small pools, for redeliveries
        "event_id": draw(st.sampled_from([f"{device}-e{n}" for n in range(5)] + [*SHARED_IDS])),
        "device_id": device,
        "location_id": draw(st.sampled_from(LOCATIONS)),
        "seq": draw(_up_to(1, INT64_MAX)),
        "occurred_at": (at + skew).astimezone(zone).isoformat(),
        "button": draw(st.sampled_from(BUTTONS)).value,
    }
    misuse = draw(st.booleans())
    if misuse or draw(st.booleans()):
        doc["misuse"] = misuse
    if draw(st.booleans()):
        doc["sent_at"] = (NOW + skew).astimezone(zone).isoformat()
    if skew or draw(st.booleans()):  # hub minus kiosk clock, as the kiosk measured it
        doc["clock_offset_s"] = -skew.total_seconds()
    if draw(st.integers(0, 3)) == 0:
        doc["emotion"] = draw(camera_readings)
    return doc


@st.composite
def status_documents(draw: st.DrawFn, device: str) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "v": 1,
        "device_id": device,
        "state": draw(st.sampled_from(["online", "offline"])),
        "sent_at": draw(any_times).isoformat(),
    }
    for key, values in STATUS_FIELDS.items():
        if draw(st.booleans()):
            doc[key] = draw(values)
    return doc


def _tweaks(key: str, device: str) -> st.SearchStrategy[Any]:
    if key in ("occurred_at", "sent_at"):
        return timestamp_texts
    if key == "event_id":
        prefix = f"{device}-"
        return st.sampled_from(
            [
                "",
                prefix.ljust(64, "x"),
                prefix.ljust(65, "x"),
                f"{prefix}ü",
                f"{prefix}a b",
                f"{prefix}\x00",
                "\ud800",
                *SHARED_IDS,
                5,
                None,
                ["x"],
            ]
        )
    return st.sampled_from(TWEAKS.get(key, [None]))


def _mutate(draw: st.DrawFn, doc: dict[str, Any], device: str) -> bool:
    """Mutate, remove, add or retype fields; True if anything was done."""
    rounds = draw(st.sampled_from([0, 0, 0, 1, 2, 3]))
    for _ in range(rounds):
        how = draw(st.sampled_from(MUTATIONS))
        key = draw(st.sampled_from(sorted(doc))) if doc else "v"
        if how == "drop":
            doc.pop(key, None)
        elif how == "add":
            doc[draw(st.text(max_size=12))] = draw(json_values)
        elif how == "retype":
            doc[key] = draw(json_values)
        elif how == "tweak":
            doc[key] = draw(_tweaks(key, device))
        elif how == "time":
            doc[draw(st.sampled_from(["occurred_at", "sent_at"]))] = draw(timestamp_texts)
        elif how == "huge":
            doc[key] = draw(st.text(characters, min_size=1, max_size=2)) * draw(
                st.integers(100, 3000)
            )
        else:
            doc[key] = f"\x00deep:{draw(st.integers(1, 1500))}\x00"
    # a moved or retyped id is made "<payload device>-...", so only shared ids ever conflict
    event_id, device_id = doc.get("event_id"), doc.get("device_id")
    prefix = f"{device_id}-"
    if (
        isinstance(event_id, str)
        and event_id
        and event_id not in SHARED_IDS
        and not event_id.startswith(prefix)
    ):
        doc["event_id"] = f"{prefix}{event_id}"
    return rounds > 0


def _dump(doc: object, ascii_only: bool) -> bytes:
    """JSON; a lone surrogate is escaped if ascii_only, else it makes the UTF-8 invalid."""
    text = json.dumps(doc, ensure_ascii=ascii_only)
    text = DEEP.sub(lambda m: "[" * int(m[1]) + "]" * int(m[1]), text)
    return text.encode("utf-8", "surrogatepass")


deep_payloads = st.one_of(
    st.integers(1, 2100).map(lambda n: b"[" * n + b"]" * n),
    st.integers(1, 800).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.integers(1, 1500).map(
        lambda n: b'{"v":1,"event_id":"x","misuse":' + b"[" * n + b"]" * n + b"}"
    ),
)


def _topic(draw: st.DrawFn, where: str, device: str, kind: str) -> str:
    if where == "own":
        return f"seed/devices/{device}/{kind}"
    if where == "other_device":
        other = draw(st.sampled_from([d for d in DEVICES if d != device]))
        return f"seed/devices/{other}/{kind}"
    if where == "other_kind":
        return f"seed/devices/{device}/{'status' if kind == 'events' else 'events'}"
    if where == "bad":
        return draw(st.sampled_from(BAD_TOPICS))
    return draw(
        st.text(max_size=40) | st.text(max_size=12).map(lambda d: f"seed/devices/{d}/{kind}")
    )


def _expect(source: str, valid_as: str | None, where: str, payload: bytes) -> str:
    """What a message must become; `valid_as` is what it is on its own topic, if known."""
    if len(payload) > MAX_PAYLOAD:
        return "dead:oversized_payload"
    if where in ("bad", "random"):
        return "dead:unknown_topic" if where == "bad" else "any"
    if source in ("bytes", "json", "deep") or valid_as == "dead":
        return "dead"  # never a valid message (random dict keys are too short to be fields)
    if valid_as is None:
        return "any"
    return {
        "own": valid_as,
        "other_device": "dead:device_mismatch",
        "other_kind": "dead",  # an event is no status, nor a status an event
    }[where]


@st.composite
def fuzz_messages(draw: st.DrawFn) -> Sent:
    device = draw(st.sampled_from(DEVICES))
    source = draw(st.sampled_from(FUZZ_SOURCES))
    kind = draw(st.sampled_from(["events", "status"]))
    valid_as: str | None = None
    if source in ("event", "status"):
        kind = "events" if source == "event" else "status"
        documents = event_documents if source == "event" else status_documents
        doc = draw(documents(device))
        if not _mutate(draw, doc, device) and doc.get("event_id") not in SHARED_IDS:
            valid_as = "event" if kind == "events" else "status"
        payload = _dump(doc, draw(st.booleans()))
    elif source == "timed":
        kind, doc = "events", draw(event_documents(device))
        inside = draw(st.booleans())
        at = draw(st.sampled_from(INSIDE_WINDOW if inside else OUTSIDE_WINDOW))
        doc["occurred_at"] = at.astimezone(draw(st.sampled_from(ZONES))).isoformat()
        doc.pop("clock_offset_s", None)
        if draw(st.booleans()):
            doc["clock_offset_s"] = 0.5  # a clock within the tolerance: no correction
        valid_as = "event" if inside else "dead:impossible_timestamp"
        if inside and doc["event_id"] in SHARED_IDS:
            valid_as = None  # or event_id_conflict
        payload = _dump(doc, draw(st.booleans()))
    elif source == "poison":
        kind = draw(st.sampled_from(["events", "status"]))
        doc = draw((event_documents if kind == "events" else status_documents)(device))
        valid_as = "dead" if _poison(draw, doc) else None
        payload = _dump(doc, draw(st.booleans()))
        if draw(st.booleans()):  # unescaped: raw control bytes inside a JSON string
            payload = RAW_CONTROL.sub(lambda m: bytes([int(m[1], 16)]), payload)
    elif source == "bytes":
        payload = draw(st.binary(max_size=300))
    elif source == "json":
        payload = _dump(draw(json_values), draw(st.booleans()))
    else:
        payload = draw(deep_payloads)
    pad_to = draw(st.sampled_from([None] * 6 + [MAX_PAYLOAD, MAX_PAYLOAD + 1]))
    if pad_to is not None and len(payload) < pad_to:
        payload += b" " * (pad_to - len(payload))  # JSON allows trailing whitespace
    where = draw(st.sampled_from(WHERE))
    topic = _topic(draw, where, device, kind)
    return Sent(topic, payload, _expect(source, valid_as, where, payload), draw(st.booleans()))


@st.composite
def poisoned_texts(draw: st.DrawFn, around: object) -> str:
    """`around` (or some text, if it is none) with a control character or lone surrogate."""
    text = around if isinstance(around, str) else draw(st.text(max_size=8))
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(st.sampled_from(POISON_CHARACTERS)) + text[at:]


# (kind, text?) -> the fields a poison aims at: free text, which only the protocol's refusal
# of control characters guards (PostgreSQL refuses NUL), and integers stored in columns
AIMED = {
    ("status", True): ("version", "config_error", "camera_fault"),
    ("status", False): (
        *("outbox_depth", "outbox_capacity", "outbox_dropped"),
        *("config_version", "passersby_total"),
    ),
    ("event", True): ("event_id", "location_id"),
    ("event", False): ("seq",),
}


def _poison(draw: st.DrawFn, doc: dict[str, Any]) -> bool:
    """Put poisoned text or an edge integer in one field: often one whose type alone does not
    refuse it, else any (maybe nested, maybe an item of a list), or a new field with a
    poisoned name. True if text went in: no field takes it."""
    as_text = draw(st.booleans())
    aimed = AIMED[("status" if "state" in doc else "event", as_text)]
    target: Any = doc["emotion"] if "emotion" in doc and draw(st.booleans()) else doc
    key: Any = draw(st.sampled_from(aimed) | st.sampled_from([*sorted(target), None]))
    if key in aimed:
        target = doc
    elif key is None:
        target[draw(poisoned_texts(""))] = draw(st.sampled_from(["x", 1, None]))
        return True
    elif isinstance(target[key], list) and target[key] and draw(st.booleans()):
        target, key = target[key], draw(st.integers(0, len(target[key]) - 1))
    around = target.get(key) if isinstance(target, dict) else target[key]
    target[key] = draw(poisoned_texts(around) if as_text else st.sampled_from(EDGE_INTS))
    return as_text


def _event(**changes: object) -> bytes:
    document: dict[str, object] = {
        "v": 1,
        "event_id": "k1-e1",
        "device_id": "k1",
        "location_id": "gate-a",
        "seq": 1,
        "occurred_at": "2026-11-23T11:00:00Z",
        "button": "happy",
        **changes,
    }
    return json.dumps(document).encode()


def _status(**changes: object) -> bytes:
    document = {"v": 1, "device_id": "k1", "state": "online", "sent_at": "2026-11-23T12:00:00Z"}
    return json.dumps({**document, **changes}).encode()


def _witness(number: int) -> Sent:
    """A valid event, in batch `number` beside whatever poison: it must be stored."""
    payload = _event(
        event_id=f"{WITNESS}-{number}",
        device_id=WITNESS,
        seq=number + 1,
        occurred_at=f"2026-11-23T11:{number:02d}:00Z",  # minutes apart: never too fast
    )
    return Sent(TOPICS.events(WITNESS), payload, "event")


@st.composite
def fuzz_plans(draw: st.DrawFn) -> list[list[Sent]]:
    """Batches drawn from a pool of messages, so identical messages recur within and across;
    each with a valid event of its own somewhere in it."""
    pool = draw(st.lists(fuzz_messages(), min_size=3, max_size=20))
    picks = st.lists(st.integers(0, len(pool) - 1), min_size=len(pool) // 2, max_size=2 * len(pool))
    batches = [[pool[i] for i in batch] for batch in draw(st.lists(picks, min_size=1, max_size=4))]
    for number, batch in enumerate(batches):
        batch.insert(draw(st.integers(0, len(batch))), _witness(number))
    return batches


# ----------------------------------------------------------------- checks


def _acks_by_device(outbound: Sequence[Outbound]) -> dict[str, Ack]:
    acks: dict[str, Ack] = {}
    for out in outbound:
        parsed = TOPICS.parse(out.topic)
        assert parsed is not None and parsed[1] == "ack", out.topic
        assert parsed[0] not in acks, f"two acks to {parsed[0]}"
        ack = decode_ack(out.payload)
        assert ack.hub_time is not None, "an ack without the hub's clock"
        # an empty ack answers a live status (the kiosk measures its clock on it)
        assert len(set(ack.stored)) == len(ack.stored), ack
        acks[parsed[0]] = ack
    return acks


def _event_id_in(payload: bytes) -> str | None:
    """The event id in a payload that is a JSON object with a string `event_id`."""
    try:
        document = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    event_id = document.get("event_id") if isinstance(document, dict) else None
    return event_id if isinstance(event_id, str) else None


def _assert_reason_fits(
    topic: str, payload: bytes, reason: str, received_at: datetime, owners: dict[str, str]
) -> None:
    """A dead letter's reason is true of the message it was given for."""
    assert reason, "a dead letter without a reason"
    if reason == "oversized_payload":
        assert len(payload) > MAX_PAYLOAD
        return
    assert len(payload) <= MAX_PAYLOAD, f"{reason} for an oversized payload"
    parsed = TOPICS.parse(topic)
    if reason == "unknown_topic":
        assert parsed is None or parsed[1] not in ("events", "status"), topic
        return
    assert parsed is not None and parsed[1] in ("events", "status"), (reason, topic)
    device, kind = parsed
    decode = decode_event if kind == "events" else decode_status
    if reason in DECODER_REASONS:
        with pytest.raises(ProtocolError) as caught:
            decode(payload)
        assert caught.value.reason == reason
        return
    message = decode(payload)
    if reason == "device_mismatch":
        assert message.device_id != device
    elif reason == "impossible_timestamp":
        press = decode_event(payload)
        assert press.device_id == device
        if press.clock_offset_s is None:  # no correction: the kiosk's time is the one judged
            latest = received_at + POLICY.max_clock_ahead
            assert not POLICY.earliest_event <= press.occurred_at <= latest
    elif reason == "event_id_conflict":  # the id is stored for another kiosk
        press = decode_event(payload)
        assert press.device_id == device
        assert owners.get(press.event_id) not in (None, device), owners.get(press.event_id)
    else:
        pytest.fail(f"dead-lettered as {reason!r} under the default policy: {topic!r}")


def _accept(
    topic: str, payload: bytes, acks: dict[str, Ack], owners: dict[str, str]
) -> tuple[str, str, str | None]:
    """(kind, device, event id) of a message that was not dead-lettered; it must be valid."""
    parsed = TOPICS.parse(topic)
    assert parsed is not None and parsed[1] in ("events", "status"), f"accepted on {topic!r}"
    assert len(payload) <= MAX_PAYLOAD, "accepted an oversized payload"
    device, kind = parsed
    try:
        message = decode_event(payload) if kind == "events" else decode_status(payload)
    except ProtocolError as exc:
        pytest.fail(f"accepted, yet {exc.reason}: {exc.detail} ({topic!r} {payload!r:.300})")
    assert message.device_id == device
    if kind == "status":
        return "status", device, None
    event_id = decode_event(payload).event_id
    assert device in acks and event_id in acks[device].stored, f"{event_id!r} not acked"
    assert owners.get(event_id) == device, f"{event_id!r} is stored for {owners.get(event_id)!r}"
    return "event", device, event_id


def _fits(expect: str, outcome: str) -> bool:
    if expect in ("any", outcome):
        return True
    return expect == "dead" and outcome.startswith("dead:")


@dataclass
class _Tally:
    """One batch's messages, sorted by what became of them."""

    accepted: Counter[str] = field(default_factory=Counter)  # "event"/"status" -> messages
    acked: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    may_refuse: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # dead, with id
    must_refuse: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # a plain id


def _kept(topic: str, payload: bytes) -> tuple[str, bytes, int]:
    """A message as the dead-letter table keeps it (long payloads cut short, with the size)."""
    return storable_text(topic)[:300], payload[:MAX_KEPT_PAYLOAD], len(payload)


def _tally(
    batch: Sequence[Sent],
    letters: Sequence[tuple[str, bytes, int, str]],
    acks: dict[str, Ack],
    owners: dict[str, str],
    received_at: datetime,
) -> _Tally:
    """Match every message to its dead letter, or check that it was valid and taken."""
    dead_reasons: dict[tuple[str, bytes, int], list[str]] = defaultdict(list)
    for topic, payload, size, reason in letters:
        dead_reasons[(topic, payload, size)].append(reason)
    expects: dict[tuple[str, bytes, int], set[str]] = defaultdict(set)
    full: dict[tuple[str, bytes, int], tuple[str, bytes]] = {}
    for s in batch:
        expects[_kept(s.topic, s.payload)].add(s.expect)
        full.setdefault(_kept(s.topic, s.payload), (s.topic, s.payload))
    tally = _Tally()
    for key, n in Counter(_kept(s.topic, s.payload) for s in batch).items():
        topic, payload = full[key]
        reasons = dead_reasons.pop(key, [])
        assert len(reasons) in (0, n), f"{len(reasons)} of {n} identical messages dead: {key!r}"
        if reasons:
            assert len(set(reasons)) == 1, reasons
            _assert_reason_fits(topic, payload, reasons[0], received_at, owners)
            outcome = f"dead:{reasons[0]}"
            parsed, event_id = TOPICS.parse(topic), _event_id_in(payload)
            if parsed and parsed[1] == "events" and event_id and reasons[0] not in NOT_REFUSED:
                tally.may_refuse[(parsed[0], event_id, reasons[0])] = 1  # once per event
                if PLAIN_ID.fullmatch(event_id):
                    tally.must_refuse[(parsed[0], event_id, reasons[0])] = 1
        else:
            outcome, device, event_id = _accept(topic, payload, acks, owners)
            tally.accepted[outcome] += n
            if event_id is not None:
                tally.acked[device].add(event_id)
        for expect in expects[key]:
            assert _fits(expect, outcome), f"expected {expect}, got {outcome}: {key!r:.300}"
    assert not dead_reasons, f"dead letters that match no message: {list(dead_reasons)!r:.300}"
    return tally


def _process_and_account(
    sessions: sessionmaker[Session],
    ingestor: Ingestor,
    batch: Sequence[Sent],
    received_at: datetime,
) -> None:
    """Process one batch and account for every message in it exactly once."""
    with sessions() as session:
        last_dead = session.scalar(select(func.max(DeadLetter.id))) or 0
        ids_before = set(session.scalars(select(Event.event_id)))
    before = deepcopy(ingestor.stats)
    messages = [Inbound(s.topic, s.payload, received_at, s.retained) for s in batch]
    acks = _acks_by_device(ingestor.process(messages))  # never raises
    after = ingestor.stats
    stored, duplicates = after.stored - before.stored, after.duplicates - before.duplicates
    statuses, dead = after.statuses - before.statuses, after.dead_letters - before.dead_letters
    with sessions() as session:
        letters = session.execute(
            select(
                DeadLetter.topic, DeadLetter.payload, DeadLetter.payload_size, DeadLetter.reason
            ).where(DeadLetter.id > last_dead)
        ).all()
        owners = {i: d for i, d in session.execute(select(Event.event_id, Event.device_id))}
    tally = _tally(batch, [(t, p, n, r) for t, p, n, r in letters], acks, owners, received_at)

    # exactly once: dead letters + valid events (with redeliveries) + statuses == messages
    assert dead == Counter(reason for *_, reason in letters)
    assert dead.total() + tally.accepted["event"] + tally.accepted["status"] == len(batch)
    assert statuses == tally.accepted["status"]
    assert stored + duplicates == tally.accepted["event"]
    new_ids = set(owners) - ids_before
    assert ids_before <= set(owners) and len(new_ids) == stored
    assert new_ids <= set().union(*tally.acked.values()) <= set(owners)
    assert {d: set(a.stored) for d, a in acks.items() if a.stored} == dict(tally.acked)
    refused = Counter((d, r.event_id, r.reason) for d, a in acks.items() for r in a.rejected)
    assert max(refused.values(), default=1) == 1, "an event refused twice in one ack"
    assert not refused - tally.may_refuse, "refused what was not dead-lettered"
    assert not tally.must_refuse - refused, "an invalid event with a plain id was not refused"


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _rollups_equal_a_recount(session: Session) -> Counter[tuple[str, datetime, bool, str]]:
    recount: Counter[tuple[str, datetime, bool, str]] = Counter(
        (location_id, _hour(at), misuse, button)
        for location_id, at, misuse, button in session.execute(
            select(Event.location_id, Event.occurred_at, Event.misuse, Event.button)
        )
    )
    rolled: Counter[tuple[str, datetime, bool, str]] = Counter()
    for row in session.scalars(select(HourlyRollup)):
        counts = {b.value: getattr(row, b.value) for b in BUTTONS}
        assert all(n >= 0 for n in counts.values()) and any(counts.values()), counts
        assert row.bucket_start == _hour(row.bucket_start)
        for button, n in counts.items():
            rolled[(row.location_id, row.bucket_start, row.misuse, button)] += n
    assert rolled == recount
    return recount


def account_for(sessions: sessionmaker[Session], batches: Sequence[Sequence[Sent]]) -> Ingestor:
    ingestor = Ingestor(sessions, TOPICS, POLICY)
    for number, batch in enumerate(batches):
        _process_and_account(sessions, ingestor, batch, NOW + timedelta(seconds=number))
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == ingestor.stats.stored
        _rollups_equal_a_recount(session)
    return ingestor


# ---------------------------------------------------------------- property 1


@FUZZ
@given(plan=fuzz_plans())
def test_any_input_is_accounted_for_exactly_once_and_never_fatal(
    databases: Databases, plan: list[list[Sent]]
) -> None:
    with databases.fresh() as sessions:
        stats = account_for(sessions, plan).stats
    for reason in stats.dead_letters:  # coverage, shown by --hypothesis-show-statistics
        event(f"dead letter: {reason}")
    for outcome, n in [("stored", stats.stored), ("redelivered", stats.duplicates)]:
        event(f"{outcome} events: {'some' if n else 'none'}")
    event(f"statuses: {'some' if stats.statuses else 'none'}")


# ---------------------------------------------------------------- property 2


@dataclass(frozen=True)
class Press:
    event_id: str
    device_id: str
    location_id: str
    seq: int
    at: datetime  # when it really happened, in UTC
    button: Button
    misuse: bool


presses = st.builds(
    Press,
    event_id=st.from_regex(EVENT_ID_PATTERN, fullmatch=True),
    device_id=st.sampled_from(DEVICES),
    location_id=st.sampled_from(LOCATIONS),
    seq=st.integers(1, INT64_MAX),
    at=st.one_of(
        st.datetimes(
            min_value=POLICY.earliest_event.replace(tzinfo=None),
            max_value=(NOW + POLICY.max_clock_ahead).replace(tzinfo=None),
            timezones=st.just(UTC),
        ),
        st.sampled_from([POLICY.earliest_event, NOW, NOW + POLICY.max_clock_ahead]),
    ),
    button=st.sampled_from(BUTTONS),
    misuse=st.booleans(),
)


def _delivery(data: st.DataObject, press: Press, skew: timedelta, received_at: datetime) -> bytes:
    """The press as its kiosk sends it: stamped by the kiosk's clock, fields in any order."""
    zone = data.draw(st.sampled_from(ZONES))
    doc: dict[str, Any] = {
        "v": 1,
        "event_id": press.event_id,
        "device_id": press.device_id,
        "location_id": press.location_id,
        "seq": press.seq,
        "occurred_at": (press.at + skew).astimezone(zone).isoformat(),
        "button": press.button.value,
    }
    if press.misuse or data.draw(st.booleans()):
        doc["misuse"] = press.misuse
    if data.draw(st.booleans()):  # sent as it is received, by the kiosk's clock
        doc["sent_at"] = (received_at + skew).astimezone(zone).isoformat()
    if skew or data.draw(st.booleans()):  # hub minus kiosk clock, as the kiosk measured it
        doc["clock_offset_s"] = -skew.total_seconds()
    order = data.draw(st.permutations(sorted(doc)))
    return json.dumps({key: doc[key] for key in order}).encode()


@FUZZ
@given(
    events=st.lists(presses, min_size=1, max_size=30, unique_by=lambda p: p.event_id),
    skews=st.fixed_dictionaries({d: st.sampled_from(SKEWS) for d in DEVICES}),
    data=st.data(),
)
def test_valid_events_are_stored_once_whatever_the_order_and_rollups_match_a_recount(
    databases: Databases, events: list[Press], skews: dict[str, timedelta], data: st.DataObject
) -> None:
    redeliveries = data.draw(st.lists(st.integers(0, len(events) - 1), max_size=2 * len(events)))
    order = data.draw(st.permutations([*range(len(events)), *redeliveries]))
    cuts = data.draw(st.sets(st.integers(1, len(order) - 1))) if len(order) > 1 else set()
    bounds = [0, *sorted(cuts), len(order)]
    batches = [order[start:end] for start, end in pairwise(bounds)]

    with databases.fresh() as sessions:
        ingestor = Ingestor(sessions, TOPICS, POLICY)
        for number, batch in enumerate(batches):
            received_at = NOW + timedelta(seconds=number)
            messages = [
                Inbound(
                    TOPICS.events(events[i].device_id),
                    _delivery(data, events[i], skews[events[i].device_id], received_at),
                    received_at,
                )
                for i in batch
            ]
            acks = _acks_by_device(ingestor.process(messages))
            expected: dict[str, set[str]] = defaultdict(set)
            for i in batch:
                expected[events[i].device_id].add(events[i].event_id)
            assert {d: set(a.stored) for d, a in acks.items()} == dict(expected)
            assert all(not a.rejected for a in acks.values())

        assert ingestor.stats.stored == len(events)
        assert ingestor.stats.duplicates == len(order) - len(events)
        assert (ingestor.stats.statuses, dict(ingestor.stats.dead_letters)) == (0, {})
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(DeadLetter)) == 0
            _assert_one_row_each(session, events)


def _assert_one_row_each(session: Session, events: Sequence[Press]) -> None:
    """One row per press, at its real time however skewed the kiosk's clock; a press the hub
    flagged (too fast, back-dated) is kept as misuse is, and the rollups count it so."""
    stored = {e.event_id: e for e in session.scalars(select(Event))}
    assert {
        i: (e.device_id, e.location_id, e.seq, e.occurred_at, e.button) for i, e in stored.items()
    } == {p.event_id: (p.device_id, p.location_id, p.seq, p.at, p.button.value) for p in events}
    misuse = {i: e.misuse for i, e in stored.items()}
    assert misuse == {p.event_id: p.misuse or stored[p.event_id].flag is not None for p in events}
    assert _rollups_equal_a_recount(session) == Counter(
        (p.location_id, _hour(p.at), misuse[p.event_id], p.button.value) for p in events
    )


# ------------------------------------------ inputs that broke ingest: regression tests


EVENTS, STATUS = "seed/devices/k1/events", "seed/devices/k1/status"
GOOD = Sent(EVENTS, _event(event_id="k1-good"), "event")  # must survive the poison beside it
SAME_ID_FROM_K2 = Sent("seed/devices/k2/events", _event(event_id="same", device_id="k2"))
INVALID = "dead:invalid_payload"


def _beside_good(poison: Sent) -> list[list[Sent]]:
    return [[GOOD, poison]]


def _footfall(total: int, second: int) -> Sent:
    """A kiosk claiming 30 years of uptime: the hub counts only what it saw pass since."""
    sent_at = f"2026-11-23T12:00:{second:02d}Z"
    payload = _status(location_id="gate-a", passersby_total=total, sent_at=sent_at, uptime_s=1e9)
    return Sent(STATUS, payload, "status")


# Each once made `Ingestor.process` raise, losing its whole batch; some only on PostgreSQL
# (the insert failed with DataError and the batch rolled back with every good message in it).
POISON = {
    "timestamp-offset-beyond-datetime-range": _beside_good(
        Sent(EVENTS, _event(occurred_at="0001-01-01T00:00:00+01:00"), "dead")
    ),
    "status-sent-at-beyond-datetime-range": _beside_good(
        Sent(STATUS, _status(sent_at="9999-12-31T23:59:59-01:00"), "dead")
    ),
    "clock-correction-beyond-datetime-range": _beside_good(
        Sent(
            EVENTS,
            _event(occurred_at="9999-12-31T00:00:00Z", sent_at="2000-01-01T00:00:00Z"),
            "dead:impossible_timestamp",
        )
    ),
    "seq-beyond-64-bits": _beside_good(Sent(EVENTS, _event(seq=2**63), "dead")),
    "outbox-depth-beyond-64-bits": _beside_good(Sent(STATUS, _status(outbox_depth=2**63), "dead")),
    "outbox-dropped-beyond-32-bits": _beside_good(
        Sent(STATUS, _status(outbox_dropped=2**31), INVALID)
    ),
    "lone-surrogate-event-id": _beside_good(Sent(EVENTS, b'{"v":1,"event_id":"\\ud800"}', "dead")),
    "lone-surrogate-as-raw-bytes": _beside_good(
        Sent(STATUS, _status(version="\ud800").replace(b"\\ud800", b"\xed\xa0\x80"), "dead")
    ),
    "one-event-id-from-two-kiosks-in-one-batch": [
        [
            Sent(EVENTS, _event(event_id="same"), "event"),
            replace(SAME_ID_FROM_K2, expect="dead:event_id_conflict"),
        ]
    ],
    "one-event-id-from-two-kiosks-in-two-batches": [
        [Sent(EVENTS, _event(event_id="same"), "event")],
        [
            Sent(EVENTS, _event(event_id="same"), "event"),  # a redelivery is no conflict
            replace(SAME_ID_FROM_K2, expect="dead:event_id_conflict"),
        ],
    ],
    "owner-redelivers-after-a-conflicting-id-in-one-batch": [
        [Sent(EVENTS, _event(event_id="same"), "event")],
        [
            replace(SAME_ID_FROM_K2, expect="dead:event_id_conflict"),
            Sent(EVENTS, _event(event_id="same"), "event"),
        ],
    ],
    "conflicting-id-redelivered-in-one-batch": [
        [Sent(EVENTS, _event(event_id="same"), "event")],
        [replace(SAME_ID_FROM_K2, expect="dead:event_id_conflict")] * 2,
    ],
    # 9962904: DeviceStatus.version had no max_length; the Device.version column is String(64)
    "status-version-longer-than-its-column": _beside_good(
        Sent(STATUS, _status(version="v" * 65), INVALID)
    ),
    "status-version-with-nul": _beside_good(Sent(STATUS, _status(version="\x00"), INVALID)),
    # issue 13: one such status every 5 s kept ingest at 0 stored events
    "status-config-error-with-nul": _beside_good(
        Sent(STATUS, _status(config_error="bad\x00config"), INVALID)
    ),
    "status-camera-fault-with-nul": _beside_good(
        Sent(STATUS, _status(camera="fault", camera_fault="\x00"), INVALID)
    ),
    "retained-status-with-nul": _beside_good(
        Sent(STATUS, _status(config_error="\x00"), INVALID, retained=True)
    ),
    "status-text-with-line-separator": _beside_good(
        Sent(STATUS, _status(camera_fault="a\u2028b"), INVALID)
    ),
    # issue 13: 2,147,483,647 then 1 (a restart) overflowed the 32-bit hourly footfall
    "passersby-total-at-32-bits-then-a-restart": [
        [GOOD, _footfall(INT32_MAX, 0)],
        [_footfall(1, 1), Sent(EVENTS, _event(event_id="k1-next", seq=2), "event")],
    ],
    "passersby-total-beyond-32-bits": _beside_good(
        Sent(STATUS, _status(location_id="gate-a", passersby_total=2**31), INVALID)
    ),
    # a6869da: the footfall cap multiplies a first status's uptime: int(inf) raised
    "status-uptime-infinity-with-passersby": _beside_good(
        Sent(
            STATUS,
            _status(location_id="gate-a", uptime_s=float("inf"), passersby_total=1),
            INVALID,
        )
    ),
    "status-uptime-near-the-largest-float-with-passersby": _beside_good(
        Sent(STATUS, _status(location_id="gate-a", uptime_s=3.6e307, passersby_total=0))
    ),
    "probe-status": _beside_good(Sent(STATUS, _status(probe=True), "status")),
    # 9962904: the summary of the invalid payload put the field name (with NUL) in the dead
    # letter's detail, which record_dead_letters could not store until it used storable_text
    "nul-in-a-json-key-of-an-invalid-payload": _beside_good(
        Sent(EVENTS, _event(event_id="k1-bad", **{"\x00": 1}), INVALID)
    ),
}


@pytest.mark.parametrize(
    "batches", [pytest.param(batches, id=case) for case, batches in POISON.items()]
)
def test_input_that_once_broke_ingest_is_dead_lettered(
    databases: Databases, batches: list[list[Sent]]
) -> None:
    with databases.fresh() as sessions:
        account_for(sessions, batches)


def test_a_footfall_counter_at_32_bits_is_capped(databases: Databases) -> None:
    with databases.fresh() as sessions:
        account_for(sessions, POISON["passersby-total-at-32-bits-then-a-restart"])
        with sessions() as session:
            counted = session.scalar(select(func.sum(HourlyFootfall.passersby)))
    # a new device's first total counts no more than a few seconds' worth (whatever uptime
    # it claims), then the restart's 1
    assert counted == MAX_PASSERSBY_PER_S + 1
