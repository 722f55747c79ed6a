"""The kiosk's durable outbox (SQLite, WAL)."""

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge.outbox import SCHEMA_VERSION, Outbox
from protocol.errors import StoreError
from protocol.messages import Button, FollowUp, PressEvent, decode_event, decode_kiosk_message


def press_event(seq: int, event_id: str | None = None) -> PressEvent:
    return PressEvent(
        event_id=event_id or f"event-{seq}",
        device_id="k-1",
        location_id="loc",
        seq=seq,
        occurred_at=datetime(2024, 6, 1, 9, 0, seq % 60, tzinfo=UTC),
        button=Button.HAPPY,
    )


def followup(seq: int, followup_id: str | None = None) -> FollowUp:
    """The follow-up to press `seq`."""
    return FollowUp(
        followup_id=followup_id or f"followup-{seq}",
        event_id=f"event-{seq}",
        device_id="k-1",
        location_id="loc",
        survey_id="security",
        survey_version=3,
        question="negative",
        option="queue",
        answered_at=datetime(2024, 6, 1, 9, 0, seq % 60, tzinfo=UTC),
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
    assert outbox.pending(after_position=0, limit=10) == []


def test_pending_returns_rows_in_sequence_order(outbox: Outbox) -> None:
    for seq in (1, 2, 3):
        outbox.append(press_event(seq))

    rows = outbox.pending(after_position=0, limit=10)

    assert [row.position for row in rows] == [1, 2, 3]
    assert [row.message_id for row in rows] == ["event-1", "event-2", "event-3"]


def test_pending_payload_decodes_to_the_appended_event(outbox: Outbox) -> None:
    event = press_event(1)
    outbox.append(event)

    (row,) = outbox.pending(after_position=0, limit=1)

    assert decode_event(row.payload) == event


def test_pending_starts_after_the_given_sequence(outbox: Outbox) -> None:
    for seq in (1, 2, 3, 4):
        outbox.append(press_event(seq))

    assert [row.position for row in outbox.pending(after_position=2, limit=10)] == [3, 4]
    assert outbox.pending(after_position=4, limit=10) == []


def test_pending_returns_at_most_limit_rows(outbox: Outbox) -> None:
    for seq in (1, 2, 3, 4):
        outbox.append(press_event(seq))

    assert [row.position for row in outbox.pending(after_position=1, limit=2)] == [2, 3]


def test_remove_returns_the_number_removed(outbox: Outbox) -> None:
    for seq in (1, 2, 3):
        outbox.append(press_event(seq))

    assert outbox.remove(["event-1", "event-3"]) == 2
    assert [row.message_id for row in outbox.pending(after_position=0, limit=10)] == ["event-2"]


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
        assert [row.position for row in reopened.pending(after_position=0, limit=10)] == [1, 3]
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
    assert [row.position for row in outbox.pending(after_position=0, limit=10)] == [1]


def test_outbox_still_works_after_a_refused_append(outbox: Outbox) -> None:
    outbox.append(press_event(1, event_id="same"))
    with pytest.raises(sqlite3.IntegrityError):
        outbox.append(press_event(2, event_id="same"))

    outbox.append(press_event(2))

    assert [row.position for row in outbox.pending(after_position=0, limit=10)] == [1, 2]
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


# --- follow-ups ---------------------------------------------------------------------------


def ids(outbox: Outbox) -> list[str]:
    return [row.message_id for row in outbox.pending(after_position=0, limit=1000)]


def test_follow_ups_share_the_sending_order_and_leave_by_their_own_id(outbox: Outbox) -> None:
    outbox.append(press_event(1))
    outbox.append_followup(followup(1))
    outbox.append(press_event(2))

    rows = outbox.pending(after_position=0, limit=10)

    assert [(row.position, row.kind, row.message_id) for row in rows] == [
        (1, "press", "event-1"),
        (2, "followup", "followup-1"),
        (3, "press", "event-2"),
    ]
    assert decode_kiosk_message(rows[1].payload) == followup(1)
    assert outbox.depth() == 3
    assert outbox.last_sequence() == 2  # presses keep their own numbering, without gaps
    assert outbox.remove(["followup-1"]) == 1
    assert ids(outbox) == ["event-1", "event-2"]


def test_a_follow_up_is_stored_once(outbox: Outbox) -> None:
    outbox.append_followup(followup(1))
    with pytest.raises(sqlite3.IntegrityError):
        outbox.append_followup(followup(1))
    assert outbox.depth() == 1


def test_positions_never_go_back_even_when_every_row_is_gone(path: Path) -> None:
    box = Outbox(path)
    box.append(press_event(1))
    box.append_followup(followup(1))
    box.remove(["event-1", "followup-1"])
    box.close()
    reopened = Outbox(path)
    reopened.append_followup(followup(2))
    (row,) = reopened.pending(after_position=2, limit=10)  # the uplink's cursor stood at 2
    assert (row.position, row.message_id) == (3, "followup-2")
    reopened.close()


def test_a_full_outbox_drops_follow_ups_first_then_the_oldest_press(path: Path) -> None:
    box = Outbox(path, capacity=4)
    box.append(press_event(1))
    box.append_followup(followup(1))
    box.append(press_event(2))
    box.append_followup(followup(2))
    box.append(press_event(3))  # full: the oldest follow-up goes
    assert ids(box) == ["event-1", "event-2", "followup-2", "event-3"]
    box.append(press_event(4))  # then the next
    assert ids(box) == ["event-1", "event-2", "event-3", "event-4"]
    box.append(press_event(5))  # no follow-up left: the oldest press
    assert ids(box) == ["event-2", "event-3", "event-4", "event-5"]
    box.append_followup(followup(5))  # presses only: the new follow-up is the one dropped
    assert ids(box) == ["event-2", "event-3", "event-4", "event-5"]
    assert (box.depth(), box.dropped(), box.last_sequence()) == (4, 4, 5)
    box.close()


def v0_outbox(path: Path, rows: int, *, last_seq: int) -> None:
    """An outbox file as kiosks from before follow-ups left it (schema v0)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path)) as db, db:
        db.executescript(
            """
            CREATE TABLE outbox (
                seq        INTEGER PRIMARY KEY,
                event_id   TEXT NOT NULL UNIQUE,
                payload    BLOB NOT NULL
            );
            CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
            """
        )
        db.executemany(
            "INSERT INTO outbox (seq, event_id, payload) VALUES (?, ?, ?)",
            [
                (e.seq, e.event_id, e.model_dump_json(exclude_none=True).encode())
                for e in map(press_event, range(last_seq - rows + 1, last_seq + 1))
            ],
        )
        db.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            [("last_seq", last_seq), ("dropped", 2), ("rows", rows)],
        )


def test_an_outbox_from_before_follow_ups_is_migrated_on_opening(path: Path) -> None:
    v0_outbox(path, rows=3, last_seq=7)

    box = Outbox(path)

    rows = box.pending(after_position=0, limit=10)
    assert [(row.position, row.kind, row.message_id) for row in rows] == [
        (5, "press", "event-5"),
        (6, "press", "event-6"),
        (7, "press", "event-7"),
    ]
    assert decode_event(rows[0].payload) == press_event(5)
    assert (box.depth(), box.dropped(), box.last_sequence()) == (3, 2, 7)
    assert box.held_followups() == []
    box.append(press_event(8))
    box.append_followup(followup(8))
    assert [row.position for row in box.pending(after_position=7, limit=10)] == [8, 9]
    box.remove(["event-5"])
    box.close()
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    reopened = Outbox(path)  # a second opening changes nothing
    assert ids(reopened) == ["event-6", "event-7", "event-8", "followup-8"]
    assert (reopened.depth(), reopened.last_sequence()) == (4, 8)
    reopened.close()


def test_an_outbox_from_a_newer_kiosk_is_refused_untouched(path: Path) -> None:
    Outbox(path).close()
    with closing(sqlite3.connect(path)) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer than this kiosk"):
        Outbox(path)


def test_a_held_follow_up_survives_reopening_until_its_row_replaces_it(path: Path) -> None:
    box = Outbox(path)
    held = followup(1).model_copy(update={"option": None})
    box.hold_followup(held)
    assert box.depth() == 0  # held, not sent
    box.close()
    reopened = Outbox(path)
    assert reopened.held_followups() == [held]
    reopened.append_followup(followup(1))  # the same id: the answer replaces it
    assert reopened.held_followups() == []
    assert ids(reopened) == ["followup-1"]
    reopened.hold_followup(held)  # an earlier attempt committed it: released all the same
    with pytest.raises(sqlite3.IntegrityError):
        reopened.append_followup(held)
    assert reopened.held_followups() == []
    reopened.close()


def test_a_follow_up_dropped_by_a_full_outbox_is_not_held_either(path: Path) -> None:
    box = Outbox(path, capacity=1)
    box.append(press_event(1))
    box.hold_followup(followup(1))
    box.append_followup(followup(1))  # dropped at once: the press stays
    assert ids(box) == ["event-1"]
    assert box.held_followups() == []
    box.close()
