"""Issue 13, items 1, 4 and 6: one kiosk's poison neither stops ingest nor writes history.

Each runs on SQLite and on a real PostgreSQL (where the NUL and the overflow broke ingest).
"""

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from hub.db import make_engine, session_factory
from hub.ingest import store
from hub.ingest.pipeline import Inbound, Ingestor, IngestPolicy, IngestWorker, Outbound
from hub.models import DeadLetter, Device, Event, HourlyFootfall, Location, Observation
from hub.reporting.reports import location_scores
from protocol.messages import ObservedEmotion, decode_ack, encode
from protocol.mqtt import Message
from protocol.topics import Topics
from tests.hub.camera.factories import approve_places
from tests.hub.factories import press, status

TOPICS = Topics("seed")
NOW = datetime.now(UTC).replace(microsecond=0)
INT32_MAX = 2**31 - 1


@pytest.fixture
def ingestor(sessions: sessionmaker[Session]) -> Ingestor:
    return Ingestor(sessions, TOPICS, IngestPolicy())


@pytest.fixture
def worker(ingestor: Ingestor) -> Iterator[tuple[IngestWorker, list[Outbound]]]:
    published: list[Outbound] = []
    worker = IngestWorker(ingestor, published.append, max_wait_s=0.3, retry_s=0.05)
    worker.start()
    yield worker, published
    worker.stop()


def _status_payload(device_id: str, **fields: object) -> bytes:
    document = json.loads(encode(status(device_id=device_id, sent_at=NOW)))
    document.update(fields)
    return json.dumps(document).encode()


def _stored_ids(sessions: sessionmaker[Session]) -> set[str]:
    with sessions() as session:
        return set(session.scalars(select(Event.event_id)))


def _reasons(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return sorted(session.scalars(select(DeadLetter.reason)))


def _refuse_device_in_database(engine: Engine, device_id: str) -> None:
    """A trigger that makes the database itself refuse one device's events: content the
    protocol accepts and the store cannot take, as a NUL was on PostgreSQL."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(
                text(
                    "CREATE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.device_id = '{device_id}' THEN "
                    "RAISE EXCEPTION 'poison' USING ERRCODE = 'check_violation'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_poison BEFORE INSERT ON events "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_poison()"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_poison BEFORE INSERT ON events "
                    f"WHEN NEW.device_id = '{device_id}' BEGIN SELECT RAISE(ABORT, 'poison'); END"
                )
            )


def test_a_batch_the_database_refuses_is_narrowed_to_the_poison(
    engine: Engine,
    sessions: sessionmaker[Session],
    worker: tuple[IngestWorker, list[Outbound]],
) -> None:
    _refuse_device_in_database(engine, "poison")
    running, published = worker
    good = [press(device_id=f"k{i}", seq=1, at=NOW) for i in range(20)]
    poison = press(device_id="poison", at=NOW)
    for event in good[:10]:
        running.submit(Message(f"seed/devices/{event.device_id}/events", encode(event)))
    running.submit(Message("seed/devices/poison/events", encode(poison)))
    for event in good[10:]:
        running.submit(Message(f"seed/devices/{event.device_id}/events", encode(event)))
    running.stop()

    assert _stored_ids(sessions) == {e.event_id for e in good}
    assert _reasons(sessions) == ["database_refused"]
    acks = {a.topic: decode_ack(a.payload) for a in published}
    assert all(acks[f"seed/devices/{e.device_id}/ack"].stored == [e.event_id] for e in good)
    refused = acks["seed/devices/poison/ack"].rejected
    assert [(r.event_id, r.reason) for r in refused] == [(poison.event_id, "database_refused")]


def test_an_outage_is_retried_not_dead_lettered(sqlite_url: str) -> None:
    """The outage: another process holds the SQLite file's write lock for a second."""
    engine = make_engine(sqlite_url)
    sessions = session_factory(engine)
    ingestor = Ingestor(sessions, TOPICS, IngestPolicy())
    published: list[Outbound] = []
    worker = IngestWorker(ingestor, published.append, max_wait_s=0.05, retry_s=0.5)
    event = press(at=NOW)
    with sessions() as holder:
        holder.execute(text("BEGIN EXCLUSIVE"))  # another process writing for a while
        worker.start()
        worker.submit(Message("seed/devices/k1/events", encode(event)))
        threading.Event().wait(1.0)
        holder.rollback()
    worker.stop()
    assert _stored_ids(sessions) == {event.event_id}
    assert _reasons(sessions) == []
    engine.dispose()


@pytest.mark.parametrize("field", ["config_error", "camera_fault", "version"])
def test_a_control_character_in_a_status_is_refused_and_the_batch_stored(
    field: str, sessions: sessionmaker[Session], ingestor: Ingestor
) -> None:
    event = press(at=NOW)
    ingestor.process(
        [
            Inbound("seed/devices/bad/status", _status_payload("bad", **{field: "x\x00y"}), NOW),
            Inbound("seed/devices/k1/events", encode(event), NOW),
        ]
    )
    assert _stored_ids(sessions) == {event.event_id}
    assert _reasons(sessions) == ["invalid_payload"]


def test_a_footfall_counter_can_neither_overflow_nor_inflate_the_count(
    sessions: sessionmaker[Session], ingestor: Ingestor
) -> None:
    """A counter jumping by 2**31 - 1 a minute counts no more than a camera can see pass;
    a device's first status, no more than a few seconds' worth (it claims its own uptime)."""
    totals = (100, INT32_MAX, 1, INT32_MAX, INT32_MAX + 1)
    for minute, total in enumerate(totals):
        payload = _status_payload("cam", passersby_total=total, camera="ok", uptime_s=3600)
        at = NOW.replace(minute=0) + timedelta(minutes=minute)
        ingestor.process([Inbound("seed/devices/cam/status", payload, at)])
    with sessions() as session:
        footfall = session.scalar(select(func.sum(HourlyFootfall.passersby)))
    per_minute = 60 * store.MAX_PASSERSBY_PER_S + store.MAX_PASSERSBY_PER_S
    first = store.MAX_PASSERSBY_PER_S
    assert footfall == first + per_minute + 1 + per_minute  # the restart counted 1
    assert _reasons(sessions) == ["invalid_payload"]  # beyond 32 bits: refused at the door


def test_an_unregistered_devices_status_creates_nothing(
    sessions: sessionmaker[Session],
) -> None:
    ingestor = Ingestor(sessions, TOPICS, IngestPolicy(require_registration=True))
    acks = ingestor.process(
        [
            Inbound(f"seed/devices/ghost-{i}/status", _status_payload(f"ghost-{i}"), NOW)
            for i in range(5)
        ]
    )
    assert acks == []
    with sessions() as session:
        assert session.scalars(select(Device)).all() == []
        assert session.scalars(select(Location)).all() == []
    assert _reasons(sessions) == ["unknown_device"] * 5


def _scores(sessions: sessionmaker[Session]) -> tuple[int, int]:
    """Responses counted in scores and presses kept apart, at gate-a."""
    with sessions() as session:
        (gate,) = location_scores(session, locations=["gate-a"])
        return gate.counts.total, gate.misuse_counts.total


def test_presses_faster_than_a_person_are_kept_but_left_out_of_scores(
    sessions: sessionmaker[Session], ingestor: Ingestor
) -> None:
    burst = [press(seq=n, at=NOW + timedelta(milliseconds=n)) for n in range(1, 3001)]
    for start in range(0, len(burst), 500):
        ingestor.process(
            [Inbound("seed/devices/k1/events", encode(e), NOW) for e in burst[start : start + 500]]
        )
    assert _scores(sessions) == (1, 2999)  # the first counts, the rest are too fast
    with sessions() as session:
        assert store.flagged_presses(session)[0] | {"last_received_at": None} == {
            "device_id": "k1",
            "flag": "too_fast",
            "presses": 2999,
            "last_received_at": None,
        }


def test_presses_back_dated_by_years_are_kept_but_left_out_of_scores(
    sessions: sessionmaker[Session], ingestor: Ingestor
) -> None:
    old = [press(seq=n, at=NOW - timedelta(days=800, minutes=n)) for n in range(1, 301)]
    ingestor.process([Inbound("seed/devices/k1/events", encode(e), NOW) for e in old])
    fresh = press(seq=301, at=NOW)
    ingestor.process([Inbound("seed/devices/k1/events", encode(fresh), NOW)])
    assert len(_stored_ids(sessions)) == 301
    assert _scores(sessions) == (1, 300)
    with sessions() as session:
        flags = {(f["flag"], f["presses"]) for f in store.flagged_presses(session)}
    assert flags == {("backdated", 300)}


def test_presses_a_person_makes_still_count(
    sessions: sessionmaker[Session], ingestor: Ingestor
) -> None:
    calm = [press(seq=n, at=NOW - timedelta(minutes=60 - n)) for n in range(1, 31)]
    ingestor.process([Inbound("seed/devices/k1/events", encode(e), NOW) for e in calm[:15]])
    ingestor.process([Inbound("seed/devices/k1/events", encode(e), NOW) for e in calm[15:]])
    assert _scores(sessions) == (30, 0)


@pytest.mark.parametrize(
    "sequence",
    [
        pytest.param(lambda n: 1, id="one-sequence-number-reused"),
        pytest.param(lambda n: 10_000 - n, id="sequence-numbers-falling"),
    ],
)
def test_presses_faster_than_a_person_are_caught_whatever_their_sequence_numbers(
    sequence: Callable[[int], int], sessions: sessionmaker[Session], ingestor: Ingestor
) -> None:
    burst = [press(seq=sequence(n), at=NOW + timedelta(milliseconds=n)) for n in range(600)]
    ingestor.process([Inbound("seed/devices/k1/events", encode(e), NOW) for e in burst[:300]])
    ingestor.process([Inbound("seed/devices/k1/events", encode(e), NOW) for e in burst[300:]])
    assert _scores(sessions) == (1, 599)


def test_a_kiosk_cannot_rewrite_the_weeks_before_its_latest_press(
    sessions: sessionmaker[Session], ingestor: Ingestor
) -> None:
    ingestor.process([Inbound("seed/devices/k1/events", encode(press(seq=1, at=NOW)), NOW)])
    rewound = [press(seq=n, at=NOW - timedelta(days=30, minutes=n)) for n in range(2, 302)]
    ingestor.process([Inbound("seed/devices/k1/events", encode(e), NOW) for e in rewound])
    assert _scores(sessions) == (1, 300)


def test_flagged_presses_leave_no_camera_reading_behind(
    sessions: sessionmaker[Session], ingestor: Ingestor
) -> None:
    reading = ObservedEmotion(
        emotions=[0.5] * 26, vad=[0.9, 0.9, 0.9], face_score=0.9, age_s=0.1, faces=1
    )
    burst = [
        press(seq=n, at=NOW + timedelta(milliseconds=n)).model_copy(update={"emotion": reading})
        for n in range(1, 201)
    ]
    with sessions.begin() as session:  # the hub keeps a reading only where one may be
        approve_places(session, ["gate-a"])
    ingestor.process([Inbound("seed/devices/k1/events", encode(e), NOW) for e in burst])
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Observation)) == 1
