"""validate -> store -> ack, and every kind of bad input dead-lettered with its reason."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.ingest import store
from hub.ingest.pipeline import Inbound, Ingestor, IngestPolicy, IngestWorker, Outbound
from hub.models import DeadLetter, Device, Event
from protocol.messages import Ack, DeviceState, DeviceStatus, Rejection, decode_ack, encode
from protocol.mqtt import Message
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
    """The acks of one batch, without the hub's clock (checked here once, then dropped)."""
    acks = {a.topic: decode_ack(a.payload) for a in ingestor.process(list(messages))}
    assert all(a.hub_time is not None for a in acks.values())
    return {topic: a.model_copy(update={"hub_time": None}) for topic, a in acks.items()}


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
    # kept by the kiosk (not refused) until it can send them with its clock offset
    ("impossible_timestamp", _event_payload(occurred_at="1970-01-01T00:00:05Z"), False),
    (
        "impossible_timestamp",
        _event_payload(occurred_at=(NOW + timedelta(days=1)).isoformat()),
        False,
    ),
    ("oversized_payload", _event_payload(event_id="e" * 30) + b" " * 5000, False),
    ("malformed_json", b"[" * 3000, False),  # deep enough to break a recursive parser
    ("malformed_json", _event_payload().decode().encode("utf-16"), False),
    ("invalid_payload", _event_payload(seq="3"), True),  # strict: no type coercion
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


def test_no_kiosk_may_speak_as_the_phone_survey(
    ingest: Callable[..., Ingestor], sessions: sessionmaker[Session]
) -> None:
    forged = press(device_id="web", at=NOW)
    acks = _acks(ingest(), _inbound(encode(forged), "web"))
    assert _dead(sessions) == [("reserved_device", "seed/devices/web/events")]
    assert [r.reason for r in acks["seed/devices/web/ack"].rejected] == ["reserved_device"]
    with sessions() as session:
        assert session.scalars(select(Event)).all() == []


def test_registration_refuses_strangers_until_registered_and_wrong_locations_for_good(
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
    # the stranger gets no ack (it resends, and counts once registered); the moved event
    # is refused for good so it cannot block the kiosk's outbox
    assert acks == {
        "seed/devices/k1/ack": Ack(
            stored=[known.event_id],
            rejected=[Rejection(event_id=moved.event_id, reason="location_mismatch")],
        )
    }
    _acks(ingestor, _inbound(encode(stranger), "k7"))  # resent: not dead-lettered again
    assert sorted(_dead(sessions)) == [
        ("location_mismatch", "seed/devices/k1/events"),
        ("unknown_device", "seed/devices/k7/events"),
    ]
    with sessions.begin() as session:
        store.register_device(session, device_id="k7", location_id="gate-a")
    stranger_at_a = press(device_id="k7", location_id="gate-a", at=NOW)
    assert _acks(ingestor, _inbound(encode(stranger_at_a), "k7")) == {
        "seed/devices/k7/ack": Ack(stored=[stranger_at_a.event_id])
    }


def test_a_moved_kiosks_backlog_counts_where_it_was_pressed(
    ingest: Callable[..., Ingestor], sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        for gate in ("gate-a", "gate-b"):
            store.add_location(session, location_id=gate, name=gate, time_zone="UTC")
        store.register_device(session, device_id="k1", location_id="gate-a")
        store.register_device(session, device_id="k1", location_id="gate-b")
    before_the_move = press(location_id="gate-a", at=NOW)
    assert _acks(ingest(), _inbound(encode(before_the_move))) == {
        "seed/devices/k1/ack": Ack(stored=[before_the_move.event_id])
    }


def test_a_revoked_kiosk_is_told_nothing_and_its_events_dead_lettered_once(
    ingest: Callable[..., Ingestor], sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        store.add_location(session, location_id="gate-a", name="Gate A", time_zone="UTC")
        device = store.register_device(session, device_id="k1", location_id="gate-a")
        device.revoked_at = NOW
    ingestor = ingest()
    event = press(location_id="gate-a", at=NOW)
    assert _acks(ingestor, _inbound(encode(event))) == {}
    assert _acks(ingestor, _inbound(encode(event))) == {}
    assert _dead(sessions) == [("revoked_device", "seed/devices/k1/events")]
    with sessions() as session:
        assert store.stored_event_count(session) == 0


def test_a_revoked_kiosks_status_is_dead_lettered_and_a_probe_answered_not_recorded(
    ingest: Callable[..., Ingestor], sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        store.add_location(session, location_id="gate-a", name="Gate A", time_zone="UTC")
        store.register_device(session, device_id="k1", location_id="gate-a")
        store.register_device(session, device_id="k2", location_id="gate-a").revoked_at = NOW
    probe = status(device_id="k1").model_copy(update={"probe": True, "outbox_depth": 99})
    acks = _acks(
        ingest(),
        _inbound(encode(probe), "k1", "status"),
        _inbound(encode(status(device_id="k2")), "k2", "status"),
    )
    assert list(acks) == ["seed/devices/k1/ack"], "the probe gets the hub's time, k2 nothing"
    assert _dead(sessions) == [("revoked_device", "seed/devices/k2/status")]
    with sessions() as session:
        k1 = session.get(Device, "k1")
        assert k1 is not None and k1.outbox_depth is None and k1.last_status_at is None


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
    # a live status is answered with the hub's clock, for the kiosk to measure its skew
    assert [(a.topic, decode_ack(a.payload).stored) for a in acks] == [("seed/devices/k1/ack", [])]
    assert sorted(_dead(sessions)) == [
        ("device_mismatch", "seed/devices/k1/status"),
        ("unknown_topic", "seed/elsewhere/k1/events"),
    ]
    assert ingestor.stats.statuses == 1


def test_a_retained_status_replayed_on_subscribe_does_not_overwrite_live_news(
    ingest: Callable[..., Ingestor], sessions: sessionmaker[Session]
) -> None:
    ingestor = ingest()
    live = Inbound("seed/devices/k1/status", encode(status(DeviceState.OFFLINE)), NOW)
    ingestor.process([live])
    stale = Inbound(
        "seed/devices/k1/status", encode(status()), NOW + timedelta(hours=1), retained=True
    )
    ingestor.process([stale])
    with sessions() as session:
        device = session.get(Device, "k1")
        assert device is not None
        assert (device.state, device.last_status_at) == ("offline", NOW)


def test_a_retained_status_introduces_a_device_without_claiming_it_was_seen(
    ingest: Callable[..., Ingestor], sessions: sessionmaker[Session]
) -> None:
    ingest().process([Inbound("seed/devices/k1/status", encode(status()), NOW, retained=True)])
    with sessions() as session:
        device = session.get(Device, "k1")
        assert device is not None
        assert (device.state, device.last_seen_at, device.clock_offset_s) == ("online", None, None)


def test_the_worker_dead_letters_a_message_that_breaks_ingest(
    ingest: Callable[..., Ingestor],
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_apply_status = store.apply_status

    def apply_status(session: Session, *, status: DeviceStatus, **kwargs: Any) -> None:
        if status.device_id == "poison":
            raise RuntimeError("a bug this input meets")
        real_apply_status(session, status=status, **kwargs)

    monkeypatch.setattr(store, "apply_status", apply_status)  # fault injection, not a stand-in
    published: list[Outbound] = []
    worker = IngestWorker(ingest(), published.append, max_wait_s=0.2)
    worker.start()
    good = press(at=NOW)
    worker.submit(Message("seed/devices/poison/status", encode(status(device_id="poison"))))
    worker.submit(Message("seed/devices/k1/events", encode(good)))
    worker.stop()
    assert [decode_ack(p.payload).stored for p in published] == [[good.event_id]]
    assert worker.failures == 0
    with sessions() as session:
        assert store.dead_letter_counts(session) == {"ingest_failed": 1}


def test_the_hub_stamps_arrivals_and_acks_by_its_own_clock(
    sessions: sessionmaker[Session],
) -> None:
    hub_now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    ingestor = Ingestor(sessions, TOPICS, clock=lambda: hub_now)
    published: list[Outbound] = []
    worker = IngestWorker(ingestor, published.append, max_wait_s=0.2, clock=lambda: hub_now)
    worker.start()
    event = press(at=hub_now - timedelta(minutes=1))
    worker.submit(Message("seed/devices/k1/events", encode(event)))
    worker.stop()
    [ack] = [decode_ack(p.payload) for p in published]
    assert (ack.stored, ack.hub_time) == ([event.event_id], hub_now)  # the kiosk sets its clock
    with sessions() as session:
        assert session.scalars(select(Event.received_at)).all() == [hub_now]
