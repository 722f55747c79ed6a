"""One process of a deployment runs the periodic jobs (alerts, remote configs, weekly reports).

Several hub processes may serve one database: ingest workers on a shared subscription, web
processes, on one machine or several. The jobs that act on the whole fleet must run in one of
them only, or an alert would open once per worker. Whoever holds the lease runs them; if that
process dies its lease goes with it and the next to ask takes it over:

  - PostgreSQL: a session-level advisory lock on a connection the lease keeps open;
  - SQLite (one machine by nature): an exclusive `flock` on a file beside the database.
"""

import fcntl
import logging
import threading
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

LOCK_KEY = 0x5EED_0001  # the advisory lock's id; any constant the hub's database does not use


class Lease:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._file: IO[bytes] | None = None

    def held(self) -> bool:
        """True if this process holds the lease, taking it if it is free."""
        with self._lock:
            if self._engine.dialect.name == "postgresql":
                return self._hold_advisory_lock()
            return self._hold_file_lock()

    def _hold_advisory_lock(self) -> bool:
        try:
            if self._connection is not None:
                self._connection.execute(text("SELECT 1"))  # still ours while the session lives
                return True
            connection = self._engine.connect()
            taken = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY})
            if taken.scalar():
                connection.commit()
                self._connection = connection
                log.info("this process now runs the hub's periodic jobs (advisory lock)")
                return True
            connection.close()
            return False
        except DBAPIError as exc:
            log.warning("lost the database, and the lease with it: %s", exc.orig)
            self._drop_connection()
            return False

    def _drop_connection(self) -> None:
        if self._connection is not None:
            try:
                self._connection.invalidate()
            finally:
                self._connection = None

    def _hold_file_lock(self) -> bool:
        if self._file is not None:
            return True
        path = _lease_file(self._engine)
        if path is None:
            return True  # an in-memory database lives in this one process
        handle = path.open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        log.info("this process now runs the hub's periodic jobs (%s)", handle.name)
        return True

    def release(self) -> None:
        with self._lock:
            if self._connection is not None:
                try:
                    self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
                    self._connection.commit()
                except DBAPIError:
                    pass  # a connection that is gone has let go of its lock already
                self._drop_connection()
            if self._file is not None:
                self._file.close()  # closing the file drops the flock
                self._file = None


def _lease_file(engine: Engine) -> Path | None:
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(database).with_name(Path(database).name + ".lease")
