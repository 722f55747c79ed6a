"""Issue 13, item 2: dead letters cannot fill the disk: a per-device quota beyond which only
counts are kept, a retention by age and count, and `seed-hub dead-letters purge`."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hub.cli import main
from hub.config import DeadLetterSettings, HubSettings
from hub.ingest import store
from hub.ingest.dead_letters import apply_retention
from hub.ingest.pipeline import Inbound, Ingestor, IngestPolicy
from hub.models import DeadLetter
from protocol.messages import encode
from protocol.topics import Topics
from tests.hub.factories import press

TOPICS = Topics("seed")
NOW = datetime.now(UTC)
GARBAGE = b"\x00" * 20_000


def _kept(sessions: sessionmaker[Session]) -> tuple[int, int]:
    """Dead letters kept, and the payload bytes they hold."""
    with sessions() as session:
        rows, size = session.execute(
            select(func.count(), func.coalesce(func.sum(func.length(DeadLetter.payload)), 0))
        ).one()
        return int(rows), int(size)


def test_one_device_keeps_its_quota_and_the_rest_is_only_counted(
    sessions: sessionmaker[Session],
) -> None:
    ingestor = Ingestor(sessions, TOPICS, IngestPolicy(dead_letter_quota=100))
    good = press(device_id="k1")
    ingestor.process([Inbound("seed/devices/k1/events", encode(good), NOW)])  # a known device
    for _ in range(10):
        ingestor.process([Inbound("seed/devices/k1/events", GARBAGE, NOW)] * 200)
    rows, size = _kept(sessions)
    assert rows == 100
    assert size <= 100 * store.MAX_KEPT_PAYLOAD
    with sessions() as session:
        assert store.dead_letter_counts(session) == {"oversized_payload": 2000}
        (top,) = store.dead_letter_sources(session)
    assert (top["source"], top["count"], top["kept"]) == ("k1", 2000, 100)


def test_topics_naming_no_known_device_share_one_quota(sessions: sessionmaker[Session]) -> None:
    ingestor = Ingestor(sessions, TOPICS, IngestPolicy(dead_letter_quota=50))
    ingestor.process([Inbound(f"seed/devices/invented-{i}/events", b"{", NOW) for i in range(500)])
    assert _kept(sessions)[0] == 50
    with sessions() as session:
        assert store.dead_letter_counts(session) == {"malformed_json": 500}


def test_retention_deletes_by_age_and_count_and_keeps_the_counts(
    sessions: sessionmaker[Session], tmp_path: object
) -> None:
    ingestor = Ingestor(sessions, TOPICS, IngestPolicy(dead_letter_quota=None))
    old = NOW - timedelta(days=40)
    ingestor.process([Inbound("seed/devices/k1/events", b"{", old)] * 30)
    ingestor.process([Inbound("seed/devices/k1/events", b"{", NOW)] * 30)
    settings = HubSettings(dead_letters=DeadLetterSettings(max_age_days=30, max_rows=20))
    with sessions.begin() as session:
        assert apply_retention(session, settings=settings, now=NOW) == 40
    assert _kept(sessions)[0] == 20
    with sessions() as session:
        assert store.dead_letter_counts(session) == {"malformed_json": 60}


def test_purge_from_the_command_line(db_url: str, sessions: sessionmaker[Session]) -> None:
    Ingestor(sessions, TOPICS).process([Inbound("seed/devices/k1/events", b"{", NOW)] * 5)
    with pytest.raises(SystemExit, match="say what to purge"):
        main(["dead-letters", "purge", "--db", db_url])
    assert main(["dead-letters", "purge", "--db", db_url, "--older-than-days", "1"]) == 0
    assert _kept(sessions)[0] == 5
    assert main(["dead-letters", "--db", db_url, "purge", "--all"]) == 0
    assert _kept(sessions)[0] == 0
    with sessions() as session:
        assert store.dead_letter_counts(session) == {"malformed_json": 5}
