"""validate -> store -> ack, and every kind of bad input dead-lettered with its reason."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub import store
from hub.ingest import Inbound, Ingestor, IngestPolicy
from hub.models import DeadLetter, Event
from protocol.messages import Ack, decode_ack, encode
from protocol.topics import Topics
from tests.hub.factories import press, status

TOPICS = Topics("seed")
NOW = datetime.now(UTC)


def _event_payload(**changes: object) -> bytes:
    document = json.loads(encode(press(at=NOW)))
    document.update(changes)
    return json.dumps(document).encode()


def _inbound(payload: bytes, device_id: str = "k1", kind: str = "events") -> Inbound:
    return Inbound(f"seed/devices/{device_id}/{kind}", payload, NOW)


@pytest.fixture
def ingest(sessions: sessionmaker[Session]) -> Callable[..., Ingestor]:
    def make(**policy: object) -> Ingestor:
        return Ingestor(sessions, TOPICS, IngestPolicy(**policy))  # type: ignore[arg-type]

    return make


def _acks(ingestor: Ingestor, *messages: Inbound) -> dict[str, Ack]:
    return {a.topic: decode_ack(a.payload) for a in ingestor.process(list(messages))}


def _dead(sessions: sessionmaker[Session]) -> list[tuple[str, str]]:
    with sessions() as session:
        return [(d.reason, d.topic) for d in session.scalars(select(DeadLetter))]


def test_a_valid_event_is_stored_and_acknowledged(
    ingest: Callable[..., Ingestor], sessions: sessionmaker[Session]
) -> None:
    event = press(at=NOW)
    acks = _acks(ingest(), _inbound(encode(event)))
    assert acks == {"seed/devices/k1/ack": Ack(stored=[event.event_id])}
    with sessions() as session:
        assert session.scalars(select(Event.event_id)).all() == [event.event_id]


def test_a_redelivered_event_is_acknowledged_again_and_stored_once(
    ingest: Callable[..., Ingestor], sessions: sessionmaker[Session]
) -> None:
    ingestor = ingest()
    payload = encode(press(at=NOW))
    first = _acks(ingestor, _inbound(payload))
    second = _acks(ingestor, _inbound(payload), _inbound(payload))
    assert first == second
    assert (ingestor.stats.stored, ingestor.stats.duplicates) == (1, 2)
    with sessions() as session:
        assert len(session.scalars(select(Event)).all()) == 1


BAD_EVENTS = [
    ("malformed_json", b"{not json", False),
    ("malformed_json", b"\xff\xfe", False),
    ("unknown_schema_version", _event_payload(v=2), True),
    ("invalid_payload", _event_payload(button="meh"), True),
    ("device_mismatch", _event_payload(device_id="k2"), True),
    ("impossible_timestamp", _event_payload(occurred_at="1970-01-01T00:00:05Z"), True),
    (
        "impossible_timestamp",
        _event_payload(occurred_at=(NOW + timedelta(days=1)).isoformat()),
        True,
    ),
    ("oversized_payload", _event_payload(event_id="e" * 30) + b" " * 5000, False),
]


@pytest.mark.parametrize(
    ("reason", "payload", "refused_to_kiosk"),
    BAD_EVENTS,
    ids=[f"{r}-{i}" for i, (r, _, _) in enumerate(BAD_EVENTS)],
)
def test_bad_events_are_dead_lettered_with_their_reason(
    ingest: Callable[..., Ingestor],
    sessions: sessionmaker[Session],
    reason: str,
    payload: bytes,
    refused_to_kiosk: bool,
) -> None:
    ingestor = ingest()
    good = press(at=NOW)
    acks = _acks(ingestor, _inbound(payload), _inbound(encode(good)))
    assert _dead(sessions) == [(reason, "seed/devices/k1/events")]
    assert ingestor.stats.dead_letters == {reason: 1}
    ack = acks["seed/devices/k1/ack"]
    assert ack.stored == [good.event_id]  # the good event in the same batch is unharmed
    assert [r.reason for r in ack.rejected] == ([reason] if refused_to_kiosk else [])


def test_unknown_devices_are_dead_lettered_and_not_acknowledged(
    ingest: Callable[..., Ingestor], sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        store.add_location(session, location_id="gate-a", name="Gate A", time_zone="UTC")
        store.register_device(session, device_id="k1", location_id="gate-a")
    ingestor = ingest(require_registration=True)
    known, stranger = press(at=NOW), press(device_id="k7", at=NOW)
    moved = press(location_id="gate-b", at=NOW)
    acks = _acks(
        ingestor, _inbound(encode(known)), _inbound(encode(stranger), "k7"), _inbound(encode(moved))
    )
    assert acks == {"seed/devices/k1/ack": Ack(stored=[known.event_id])}
    assert sorted(_dead(sessions)) == [
        ("location_mismatch", "seed/devices/k1/events"),
        ("unknown_device", "seed/devices/k7/events"),
    ]


def test_statuses_and_unknown_topics(
    ingest: Callable[..., Ingestor], sessions: sessionmaker[Session]
) -> None:
    ingestor = ingest()
    acks = ingestor.process(
        [
            _inbound(encode(status()), kind="status"),
            _inbound(encode(status(device_id="k2")), kind="status"),
            Inbound("seed/elsewhere/k1/events", b"{}", NOW),
        ]
    )
    assert acks == []
    assert sorted(_dead(sessions)) == [
        ("device_mismatch", "seed/devices/k1/status"),
        ("unknown_topic", "seed/elsewhere/k1/events"),
    ]
    assert ingestor.stats.statuses == 1
