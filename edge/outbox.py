"""The kiosk's durable queue: every event is committed here before it is published.

SQLite in WAL mode with `synchronous=FULL`, because kiosks lose power without warning and a
press acknowledged by an LED must survive that. A row leaves only when the hub has
acknowledged storing it.

The outbox is bounded (`capacity` rows, 100,000 by default: weeks of a busy checkpoint's
presses). When it is full the *oldest* row makes room for the new press: after weeks
without a hub, what staff can still act on is the recent picture, and a kiosk that stopped
recording new presses while its LEDs still thanked travellers would be worse. Every drop is
counted and reported in the kiosk's status, which warns from 80 % full.
"""

import logging
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from protocol.messages import PressEvent, encode

log = logging.getLogger(__name__)

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
INSERT OR IGNORE INTO meta (key, value) VALUES ('dropped', 0);
INSERT OR IGNORE INTO meta (key, value) SELECT 'rows', COUNT(*) FROM outbox;
"""

DEFAULT_CAPACITY = 100_000


@dataclass(frozen=True)
class OutboxRow:
    seq: int
    event_id: str
    payload: bytes


class Outbox:
    """Thread-safe: the recorder appends, the uplink reads and removes."""

    def __init__(self, path: Path, *, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("outbox capacity must be at least 1")
        self.capacity = capacity
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
                self._db.execute("UPDATE meta SET value = value + 1 WHERE key = 'rows'")
                dropped = self._make_room()
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        if dropped:
            log.warning(
                "outbox full (%d rows): dropped the %d oldest event(s)", self.capacity, dropped
            )

    def _make_room(self) -> int:
        """Drop the oldest rows beyond capacity (inside the caller's transaction)."""
        excess = self._rows() - self.capacity
        if excess <= 0:
            return 0
        self._db.execute(
            "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT ?)",
            (excess,),
        )
        self._db.execute("UPDATE meta SET value = value + ? WHERE key = 'dropped'", (excess,))
        self._db.execute("UPDATE meta SET value = value - ? WHERE key = 'rows'", (excess,))
        return excess

    def _rows(self) -> int:
        """The row count, kept in `meta` so that no press has to count 100,000 rows."""
        (value,) = self._db.execute("SELECT value FROM meta WHERE key = 'rows'").fetchone()
        return int(value)

    def _rollback(self) -> None:
        """Leave no transaction open after a failure (a failed COMMIT may leave one)."""
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def dropped(self) -> int:
        """How many events were ever dropped because the outbox was full."""
        with self._lock:
            (value,) = self._db.execute("SELECT value FROM meta WHERE key = 'dropped'").fetchone()
        return int(value)

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
                self._db.execute("UPDATE meta SET value = value - ? WHERE key = 'rows'", (removed,))
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        return removed

    def depth(self) -> int:
        with self._lock:
            return self._rows()

    def close(self) -> None:
        with self._lock:
            self._db.close()
