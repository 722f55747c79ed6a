"""Ingest's figures: received by topic kind, stored and duplicated by kind, dead-lettered by
reason, the batch latency and the queue depth; each counted once however a batch goes."""

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub.ingest import store
from hub.ingest.pipeline import Inbound, Ingestor, IngestPolicy, IngestWorker, Outbound
from hub.metrics.instruments import topic_kind
from protocol.messages import encode
from protocol.mqtt import Message
from protocol.topics import Topics
from tests.helpers import wait_until
from tests.hub.factories import press
from tests.hub.ingest.test_followups import answer
from tests.hub.metrics.samples import value

TOPICS = Topics("seed")
NOW = datetime.now(UTC).replace(microsecond=0)
COUNTERS: tuple[tuple[str, dict[str, str]], ...] = (
    ("seed_hub_messages_stored_total", {"kind": "press"}),
    ("seed_hub_messages_stored_total", {"kind": "followup"}),
    ("seed_hub_messages_duplicated_total", {"kind": "press"}),
    ("seed_hub_messages_duplicated_total", {"kind": "followup"}),
    ("seed_hub_messages_dead_lettered_total", {"reason": "malformed_json"}),
    ("seed_hub_messages_dead_lettered_total", {"reason": "device_mismatch"}),
    ("seed_hub_ingest_batch_duration_seconds_count", {}),
)


@pytest.fixture
def ingestor(sessions: sessionmaker[Session]) -> Ingestor:
    with sessions.begin() as session:
        store.add_location(session, location_id="gate-a", name="Gate A", time_zone="UTC")
    return Ingestor(sessions, TOPICS, IngestPolicy())


def _counts() -> list[float]:
    return [value(name, **labels) for name, labels in COUNTERS]


def _on(device_id: str, payload: bytes) -> Inbound:
    return Inbound(TOPICS.events(device_id), payload, NOW)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_batch_counts_what_was_stored_resent_and_refused(ingestor: Ingestor) -> None:
    first, second = press(at=NOW), press(at=NOW, seq=2)
    followup = answer(first)
    before = _counts()
    ingestor.process([_on("k1", encode(first)), _on("k1", encode(first))])
    ingestor.process(
        [
            _on("k1", encode(second)),
            _on("k1", encode(first)),
            _on("k1", encode(followup)),
            _on("k1", encode(followup)),
            _on("k1", b"{not json"),
            _on("k2", encode(second)),
        ]
    )
    ingestor.process([_on("k1", encode(followup))])
    added = [after - was for after, was in zip(_counts(), before, strict=True)]
    # stored: 2 presses, 1 follow-up; resent: first twice, the follow-up twice;
    # refused: one malformed, one on another kiosk's topic; three batches timed
    assert added == [2, 1, 2, 2, 1, 1, 3]


def test_topic_kinds_are_a_fixed_set() -> None:
    assert topic_kind("seed/devices/k1/events") == "events"
    assert topic_kind("seed/devices/k1/status") == "status"
    assert topic_kind("seed/devices/k1/../../whatever-an-attacker-sends") == "other"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_worker_counts_each_message_received_once_and_empties_its_queue_gauge(
    ingestor: Ingestor,
) -> None:
    acks: list[Outbound] = []
    gate = threading.Event()

    def publish(ack: Outbound) -> None:
        gate.wait(10)  # holds the ingest thread, so that the rest wait in the queue
        acks.append(ack)

    worker = IngestWorker(ingestor, publish, max_batch=1)
    received = value("seed_hub_messages_received_total", kind="events")
    other = value("seed_hub_messages_received_total", kind="other")
    queued = value("seed_hub_ingest_queue_messages")
    worker.start()
    try:
        for seq in range(1, 5):
            event = press(at=NOW, seq=seq)
            worker.submit(Message(TOPICS.events("k1"), encode(event)))
        worker.submit(Message("seed/elsewhere", b"{}"))
        wait_until(lambda: worker.backlog == 4, what="four messages waiting")
        assert value("seed_hub_ingest_queue_messages") - queued == 4
        gate.set()
        wait_until(lambda: len(acks) == 4, what="four acks")
        wait_until(lambda: value("seed_hub_ingest_queue_messages") == queued, what="queue gauge 0")
    finally:
        gate.set()
        worker.stop()
    assert value("seed_hub_messages_received_total", kind="events") - received == 4
    assert value("seed_hub_messages_received_total", kind="other") - other == 1
