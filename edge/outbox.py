"""The kiosk's durable queue: every message is committed here before it is published.

SQLite in WAL mode with `synchronous=FULL`, because kiosks lose power without warning and a
press acknowledged by an LED must survive that. A row leaves only when the hub has
acknowledged storing it.

Two kinds of row share the file, the sending order and the ack path: presses and the
follow-ups to them (`kind`). `position` orders the sending (a counter kept in `meta`, so
it never goes back, even when every row is gone); `message_id` is what an ack names: a
press's `event_id`, a follow-up's `followup_id`. A press's own `seq` numbers presses only
(`last_sequence()`), so follow-ups leave no gaps in it.

The outbox is bounded (`capacity` rows, 100,000 by default: weeks of a busy checkpoint's
presses). When it is full, follow-ups go first, oldest first: a score needs the press, a
reason without its press says little. Only when no follow-up is left does the *oldest*
press make room for the new one: after weeks without a hub, what staff can still act on is
the recent picture, and a kiosk that stopped recording new presses while its LEDs still
thanked travellers would be worse. (So a full outbox of presses keeps no new follow-up:
it is dropped at once, and its press is kept.) Every drop is counted and reported in the
kiosk's status, which warns from 80 % full.

A follow-up window that is open is *held* (`held_followups`, outside the count and the
sending): the unanswered follow-up it ends in if nothing else happens. Its real follow-up
replaces it in one transaction, and a kiosk that died with a window open records the held
one at its next start, so every window ends in exactly one follow-up across power cuts too.

Schema versions (`PRAGMA user_version`): 0 is the presses-only outbox (`seq`, `event_id`,
`payload`, with `seq` the press's); 2 renames those columns to `position` and `message_id`
and adds `kind` and the `held_followups` table. An older file is migrated when it is
opened, in one transaction; its rows keep their place (a press's position is its seq).
"""

import logging
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from protocol.errors import StoreError
from protocol.messages import FollowUp, PressEvent, encode

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
Kind = Literal["press", "followup"]

_V0 = (
    """CREATE TABLE IF NOT EXISTS outbox (
        seq        INTEGER PRIMARY KEY,
        event_id   TEXT NOT NULL UNIQUE,
        payload    BLOB NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS meta (
        key   TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    )""",
    "INSERT OR IGNORE INTO meta (key, value) VALUES ('last_seq', 0)",
    "INSERT OR IGNORE INTO meta (key, value) VALUES ('dropped', 0)",
)
_V2 = (
    "ALTER TABLE outbox RENAME COLUMN seq TO position",
    "ALTER TABLE outbox RENAME COLUMN event_id TO message_id",
    "ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'press'"
    " CHECK (kind IN ('press', 'followup'))",
    "CREATE INDEX IF NOT EXISTS outbox_followups ON outbox (position) WHERE kind = 'followup'",
    """CREATE TABLE IF NOT EXISTS held_followups (
        message_id TEXT PRIMARY KEY,
        payload    BLOB NOT NULL
    )""",
    "INSERT OR IGNORE INTO meta (key, value) SELECT 'last_position', value FROM meta"
    " WHERE key = 'last_seq'",
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)
_EVERY_OPEN = (
    # an outbox from before the kept row count
    "INSERT OR IGNORE INTO meta (key, value) SELECT 'rows', COUNT(*) FROM outbox",
)

DEFAULT_CAPACITY = 100_000


@dataclass(frozen=True)
class OutboxRow:
    position: int
    message_id: str
    """What an ack names: a press's event id, a follow-up's followup id."""
    payload: bytes
    kind: Kind = "press"


class Outbox:
    """Thread-safe: the recorder and the follow-ups append, the uplink reads and removes."""

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
        try:
            self._migrate(path)
        except BaseException:
            self._db.close()
            raise

    def _migrate(self, path: Path) -> None:
        """Bring the file to this schema version, all or nothing (another opener waits)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            (version,) = self._db.execute("PRAGMA user_version").fetchone()
            older = (
                version < SCHEMA_VERSION
                and self._db.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox'"
                ).fetchone()
            )
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{path}: outbox schema v{version} is newer than this kiosk's "
                    f"v{SCHEMA_VERSION}; run the newer version (or move the file aside)"
                )
            steps = _V0 + (_V2 if version < SCHEMA_VERSION else ()) + _EVERY_OPEN
            for statement in steps:
                self._db.execute(statement)
            self._db.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise
        if older:
            log.info("outbox %s migrated from schema v%d to v%d", path, version, SCHEMA_VERSION)

    def append(self, event: PressEvent) -> None:
        """Commit a press; its `seq` must exceed every press sequence appended before."""
        self._insert("press", event.event_id, encode(event), press_seq=event.seq)

    def append_followup(self, followup: FollowUp) -> None:
        """Commit a follow-up, releasing the one held under its id (a `sqlite3.IntegrityError`
        if its id is in the outbox already: the held one is released all the same)."""
        try:
            self._insert("followup", followup.followup_id, encode(followup), press_seq=None)
        except sqlite3.IntegrityError:
            self._release(followup.followup_id)
            raise

    def hold_followup(self, unanswered: FollowUp) -> None:
        """Keep what a follow-up window ends in when nothing else happens (no answer), so a
        kiosk that dies with the window open still records it, at its next start
        (`held_followups`). `append_followup` with the same id releases it, in the same
        transaction as it commits the row: one of them is there, never both, never neither."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO held_followups (message_id, payload) VALUES (?, ?)",
                (unanswered.followup_id, encode(unanswered)),
            )

    def held_followups(self) -> list[FollowUp]:
        """The follow-ups held for windows that never closed (the kiosk died)."""
        with self._lock:
            rows = self._db.execute("SELECT payload FROM held_followups ORDER BY rowid").fetchall()
        return [FollowUp.model_validate_json(bytes(payload)) for (payload,) in rows]

    def _release(self, message_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM held_followups WHERE message_id = ?", (message_id,))

    def _insert(
        self, kind: Kind, message_id: str, payload: bytes, *, press_seq: int | None
    ) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("UPDATE meta SET value = value + 1 WHERE key = 'last_position'")
                (position,) = self._db.execute(
                    "SELECT value FROM meta WHERE key = 'last_position'"
                ).fetchone()
                self._db.execute(
                    "INSERT INTO outbox (position, message_id, payload, kind) VALUES (?, ?, ?, ?)",
                    (position, message_id, payload, kind),
                )
                if press_seq is not None:
                    self._db.execute(
                        "UPDATE meta SET value = ? WHERE key = 'last_seq'", (press_seq,)
                    )
                else:
                    self._db.execute(
                        "DELETE FROM held_followups WHERE message_id = ?", (message_id,)
                    )
                self._db.execute("UPDATE meta SET value = value + 1 WHERE key = 'rows'")
                presses, followups = self._make_room()
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        if presses or followups:
            log.warning(
                "outbox full (%d rows): dropped the %d oldest follow-up(s) and %d oldest press(es)",
                self.capacity,
                followups,
                presses,
            )

    def _make_room(self) -> tuple[int, int]:
        """Drop rows beyond capacity, follow-ups first, oldest first (inside the caller's
        transaction); how many presses and follow-ups went."""
        excess = self._rows() - self.capacity
        if excess <= 0:
            return 0, 0
        followups = self._db.execute(
            "DELETE FROM outbox WHERE position IN (SELECT position FROM outbox"
            " WHERE kind = 'followup' ORDER BY position LIMIT ?)",
            (excess,),
        ).rowcount
        presses = excess - followups
        if presses:
            self._db.execute(
                "DELETE FROM outbox WHERE position IN"
                " (SELECT position FROM outbox ORDER BY position LIMIT ?)",
                (presses,),
            )
        self._db.execute("UPDATE meta SET value = value + ? WHERE key = 'dropped'", (excess,))
        self._db.execute("UPDATE meta SET value = value - ? WHERE key = 'rows'", (excess,))
        return presses, followups

    def _rows(self) -> int:
        """The row count, kept in `meta` so that no press has to count 100,000 rows."""
        (value,) = self._db.execute("SELECT value FROM meta WHERE key = 'rows'").fetchone()
        return int(value)

    def _rollback(self) -> None:
        """Leave no transaction open after a failure (a failed COMMIT may leave one)."""
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def dropped(self) -> int:
        """How many rows (presses and follow-ups) were ever dropped because it was full."""
        with self._lock:
            (value,) = self._db.execute("SELECT value FROM meta WHERE key = 'dropped'").fetchone()
        return int(value)

    def last_sequence(self) -> int:
        """The highest press sequence ever appended (kept even after its row is acknowledged)."""
        with self._lock:
            (value,) = self._db.execute("SELECT value FROM meta WHERE key = 'last_seq'").fetchone()
        return int(value)

    def pending(self, *, after_position: int, limit: int) -> list[OutboxRow]:
        """Unacknowledged rows of both kinds in sending order, after `after_position`."""
        with self._lock:
            rows = self._db.execute(
                "SELECT position, message_id, payload, kind FROM outbox WHERE position > ?"
                " ORDER BY position LIMIT ?",
                (after_position, limit),
            ).fetchall()
        return [
            OutboxRow(position, message_id, bytes(payload), kind)
            for position, message_id, payload, kind in rows
        ]

    def remove(self, message_ids: Iterable[str]) -> int:
        """Remove acknowledged rows by the ids an ack names; how many were there."""
        ids = [(message_id,) for message_id in message_ids]
        if not ids:
            return 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                before = self._db.total_changes
                self._db.executemany("DELETE FROM outbox WHERE message_id = ?", ids)
                removed = self._db.total_changes - before
                self._db.execute("UPDATE meta SET value = value - ? WHERE key = 'rows'", (removed,))
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        return removed

    def depth(self) -> int:
        """Rows waiting, presses and follow-ups together."""
        with self._lock:
            return self._rows()

    def close(self) -> None:
        with self._lock:
            self._db.close()
