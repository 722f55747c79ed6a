"""The kiosk's durable outbox (SQLite, WAL)."""

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge.outbox import Outbox
from protocol.messages import Button, PressEvent, decode_event


def press_event(seq: int, event_id: str | None = None) -> PressEvent:
    return PressEvent(
        event_id=event_id or f"event-{seq}",
        device_id="k-1",
        location_id="loc",
        seq=seq,
        occurred_at=datetime(2024, 6, 1, 9, 0, seq % 60, tzinfo=UTC),
        button=Button.HAPPY,
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "outbox.sqlite3"


@pytest.fixture
def outbox(path: Path) -> Iterator[Outbox]:
    box = Outbox(path)
    yield box
    box.close()


def test_new_outbox_is_empty(outbox: Outbox) -> None:
    assert outbox.depth() == 0
    assert outbox.last_sequence() == 0
    assert outbox.pending(after_seq=0, limit=10) == []


def test_pending_returns_rows_in_sequence_order(outbox: Outbox) -> None:
    for seq in (1, 2, 3):
        outbox.append(press_event(seq))

    rows = outbox.pending(after_seq=0, limit=10)

    assert [row.seq for row in rows] == [1, 2, 3]
    assert [row.event_id for row in rows] == ["event-1", "event-2", "event-3"]


def test_pending_payload_decodes_to_the_appended_event(outbox: Outbox) -> None:
    event = press_event(1)
    outbox.append(event)

    (row,) = outbox.pending(after_seq=0, limit=1)

    assert decode_event(row.payload) == event


def test_pending_starts_after_the_given_sequence(outbox: Outbox) -> None:
    for seq in (1, 2, 3, 4):
        outbox.append(press_event(seq))

    assert [row.seq for row in outbox.pending(after_seq=2, limit=10)] == [3, 4]
    assert outbox.pending(after_seq=4, limit=10) == []


def test_pending_returns_at_most_limit_rows(outbox: Outbox) -> None:
    for seq in (1, 2, 3, 4):
        outbox.append(press_event(seq))

    assert [row.seq for row in outbox.pending(after_seq=1, limit=2)] == [2, 3]


def test_remove_returns_the_number_removed(outbox: Outbox) -> None:
    for seq in (1, 2, 3):
        outbox.append(press_event(seq))

    assert outbox.remove(["event-1", "event-3"]) == 2
    assert [row.event_id for row in outbox.pending(after_seq=0, limit=10)] == ["event-2"]


def test_remove_ignores_unknown_ids(outbox: Outbox) -> None:
    outbox.append(press_event(1))

    assert outbox.remove(["nope", "event-1", "event-1"]) == 1
    assert outbox.remove(["nope"]) == 0
    assert outbox.remove([]) == 0
    assert outbox.depth() == 0


def test_depth_counts_rows_waiting(outbox: Outbox) -> None:
    for seq in (1, 2, 3):
        outbox.append(press_event(seq))
    outbox.remove(["event-2"])

    assert outbox.depth() == 2


def test_last_sequence_is_the_highest_appended(outbox: Outbox) -> None:
    outbox.append(press_event(1))
    outbox.append(press_event(5))

    assert outbox.last_sequence() == 5


def test_last_sequence_is_kept_after_every_row_is_removed(outbox: Outbox) -> None:
    outbox.append(press_event(1))
    outbox.append(press_event(2))
    outbox.remove(["event-1", "event-2"])

    assert outbox.depth() == 0
    assert outbox.last_sequence() == 2


def test_last_sequence_survives_reopening_an_emptied_outbox(path: Path) -> None:
    first = Outbox(path)
    first.append(press_event(1))
    first.append(press_event(2))
    first.remove(["event-1", "event-2"])
    first.close()

    reopened = Outbox(path)
    try:
        assert reopened.last_sequence() == 2
    finally:
        reopened.close()


def test_rows_survive_reopening(path: Path) -> None:
    first = Outbox(path)
    for seq in (1, 2, 3):
        first.append(press_event(seq))
    first.remove(["event-2"])
    first.close()

    reopened = Outbox(path)
    try:
        assert [row.seq for row in reopened.pending(after_seq=0, limit=10)] == [1, 3]
        assert reopened.last_sequence() == 3
    finally:
        reopened.close()


def test_appended_row_is_visible_to_another_connection(outbox: Outbox, path: Path) -> None:
    outbox.append(press_event(1))

    with closing(sqlite3.connect(path)) as other:
        (count,) = other.execute("SELECT COUNT(*) FROM outbox").fetchone()

    assert count == 1


def test_duplicate_event_id_is_refused_and_changes_nothing(outbox: Outbox) -> None:
    outbox.append(press_event(1, event_id="same"))

    with pytest.raises(sqlite3.IntegrityError):
        outbox.append(press_event(2, event_id="same"))

    assert outbox.depth() == 1
    assert outbox.last_sequence() == 1
    assert [row.seq for row in outbox.pending(after_seq=0, limit=10)] == [1]


def test_outbox_still_works_after_a_refused_append(outbox: Outbox) -> None:
    outbox.append(press_event(1, event_id="same"))
    with pytest.raises(sqlite3.IntegrityError):
        outbox.append(press_event(2, event_id="same"))

    outbox.append(press_event(2))

    assert [row.seq for row in outbox.pending(after_seq=0, limit=10)] == [1, 2]
    assert outbox.last_sequence() == 2


def test_outbox_file_is_in_wal_mode(outbox: Outbox, path: Path) -> None:
    with closing(sqlite3.connect(path)) as other:
        (mode,) = other.execute("PRAGMA journal_mode").fetchone()

    assert mode == "wal"


def test_outbox_creates_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "outbox.sqlite3"

    Outbox(path).close()

    assert path.is_file()


def test_the_kept_row_count_matches_the_rows_through_drops_removals_and_reopening(
    path: Path,
) -> None:
    box = Outbox(path, capacity=100)
    events = [press_event(seq) for seq in range(1, 131)]
    for event in events:
        box.append(event)
    box.remove([e.event_id for e in events[40:60:3]] + ["unknown"])
    with pytest.raises(sqlite3.IntegrityError):
        box.append(events[-1])
    box.close()
    reopened = Outbox(path, capacity=100)
    with closing(sqlite3.connect(path)) as db:
        (rows,) = db.execute("SELECT COUNT(*) FROM outbox").fetchone()
    assert reopened.depth() == rows == 100 - 7
    assert reopened.dropped() == 30
    reopened.close()


def test_an_outbox_from_before_the_kept_count_is_counted_on_opening(path: Path) -> None:
    box = Outbox(path)
    for seq in range(1, 6):
        box.append(press_event(seq))
    box.close()
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("DELETE FROM meta WHERE key = 'rows'")  # as an older kiosk left it
    reopened = Outbox(path)
    assert reopened.depth() == 5
    reopened.close()
