"""The kiosk's durable queue: every event is committed here before it is published.

SQLite in WAL mode with `synchronous=FULL`, because kiosks lose power without warning and a
press acknowledged by an LED must survive that. A row leaves only when the hub has
acknowledged storing it.
"""

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from protocol.messages import PressEvent, encode

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq        INTEGER PRIMARY KEY,
    event_id   TEXT NOT NULL UNIQUE,
    payload    BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('last_seq', 0);
"""


@dataclass(frozen=True)
class OutboxRow:
    seq: int
    event_id: str
    payload: bytes


class Outbox:
    """Thread-safe: the recorder appends, the uplink reads and removes."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)

    def append(self, event: PressEvent) -> None:
        """Commit an event; its `seq` must exceed every sequence appended before."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO outbox (seq, event_id, payload) VALUES (?, ?, ?)",
                    (event.seq, event.event_id, encode(event)),
                )
                self._db.execute("UPDATE meta SET value = ? WHERE key = 'last_seq'", (event.seq,))
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def last_sequence(self) -> int:
        """The highest sequence ever appended (kept even after its row is acknowledged)."""
        with self._lock:
            (value,) = self._db.execute("SELECT value FROM meta WHERE key = 'last_seq'").fetchone()
        return int(value)

    def pending(self, *, after_seq: int, limit: int) -> list[OutboxRow]:
        """Unacknowledged events in sequence order, starting after `after_seq`."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, event_id, payload FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()
        return [OutboxRow(seq, event_id, bytes(payload)) for seq, event_id, payload in rows]

    def remove(self, event_ids: Iterable[str]) -> int:
        ids = [(event_id,) for event_id in event_ids]
        if not ids:
            return 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                before = self._db.total_changes
                self._db.executemany("DELETE FROM outbox WHERE event_id = ?", ids)
                removed = self._db.total_changes - before
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return removed

    def depth(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()
        return int(count)

    def close(self) -> None:
        with self._lock:
            self._db.close()
