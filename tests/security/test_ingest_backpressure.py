"""Issue 13, item 3: the ingest queue is bounded; when ingest falls behind, the MQTT thread
waits (and the broker holds the rest) instead of the hub's memory growing."""

import threading

from sqlalchemy import func, select, text

from hub.db import make_engine, session_factory
from hub.ingest.pipeline import Ingestor, IngestPolicy, IngestWorker, Outbound
from hub.models import Event
from protocol.messages import encode
from protocol.mqtt import Message
from protocol.topics import Topics
from tests.helpers import wait_until
from tests.hub.factories import press


def test_a_full_queue_holds_the_sender_back_and_loses_nothing(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    sessions = session_factory(engine)
    published: list[Outbound] = []
    worker = IngestWorker(
        Ingestor(sessions, Topics("seed"), IngestPolicy()),
        published.append,
        max_batch=20,
        max_queue=50,
        retry_s=0.5,
    )
    events = [press(device_id=f"k{n % 7}", seq=n + 1) for n in range(400)]
    submitted = 0

    def flood() -> None:  # the MQTT thread, as fast as the broker delivers
        nonlocal submitted
        for event in events:
            worker.submit(Message(f"seed/devices/{event.device_id}/events", encode(event)))
            submitted += 1

    with sessions() as holder:
        holder.execute(text("BEGIN EXCLUSIVE"))  # the database falls behind: ingest waits
        worker.start()
        sender = threading.Thread(target=flood)
        sender.start()
        wait_until(lambda: worker.backlog == 50, timeout_s=5, what="a full queue")
        threading.Event().wait(0.5)
        assert worker.backlog == 50
        assert submitted <= 50 + 20 + 1  # the queue, the batch being stored, the one waiting
        holder.rollback()
    sender.join(timeout=30)
    worker.stop()
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == len(events)
    engine.dispose()
