"""A private PostgreSQL for the chaos run: its own cluster in a temporary folder, on a free
loopback port, that the run stops and kills as it pleases (Debian's `initdb`/`pg_ctl`).

PostgreSQL refuses to run as root, so a root caller runs the server as `postgres`.
"""

import contextlib
import logging
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from hub.db import make_engine
from hub.ingest.broker import free_port
from protocol.errors import SeedError

log = logging.getLogger(__name__)

DATABASE = "seed_chaos"
SERVER_USER = "postgres"
RESTART_TIMEOUT_S = 20.0
# a throwaway cluster: trust on loopback, and no fsync while initdb writes it
INITDB_OPTIONS = ("-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")


def postgres_bindir() -> Path | None:
    """The folder holding `initdb`, `pg_ctl` and `createdb`: the one `initdb` on the PATH
    links to, else Debian's newest."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    found = Path("/usr/lib/postgresql").glob("*/bin/initdb")
    newest = max(
        found, key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0, default=None
    )
    return newest.parent if newest else None


def _server_user() -> str | None:
    """Who runs the server: `postgres` when we are root, else ourselves (None)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError as exc:
        raise SeedError(f"running as root needs a {SERVER_USER!r} user for PostgreSQL") from exc
    return SERVER_USER


class PostgresServer:
    """`create()` makes and starts the cluster; `stop()`, `kill()` and `start()` make outages."""

    def __init__(self) -> None:
        bindir = postgres_bindir()
        if bindir is None:
            raise SeedError("PostgreSQL is not installed (Debian: apt-get install postgresql)")
        self._bin = bindir
        self._user = _server_user()
        self.port = free_port()
        self._dir = Path(tempfile.mkdtemp(prefix="seed-postgres-"))
        self._data = self._dir / "data"
        self.log_file = self._dir / "postgres.log"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def create(self) -> None:
        if self._user:
            shutil.chown(self._dir, self._user, self._user)
        self._run("initdb", "-D", str(self._data), *INITDB_OPTIONS)
        with (self._data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self._dir}'\nmax_connections = 40\n"
            )
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", DATABASE)

    def start(self) -> None:
        """Start it; after a kill, retry until the old server's processes have let go."""
        deadline = time.monotonic() + RESTART_TIMEOUT_S
        while True:
            try:
                self._run("pg_ctl", "start", "-w", "-D", str(self._data), "-l", str(self.log_file))
                return
            except SeedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self, mode: str = "fast") -> None:
        """`pg_ctl stop -m fast`: sessions are ended and the server shuts down cleanly."""
        self._run("pg_ctl", "stop", "-w", "-m", mode, "-D", str(self._data))

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crash or the OOM killer would."""
        os.kill(self.postmaster_pid(), signal.SIGKILL)

    def postmaster_pid(self) -> int:
        return int((self._data / "postmaster.pid").read_text().split()[0])

    def wait_for_transaction(self, timeout_s: float) -> bool:
        """Wait until some other session is inside a transaction (mid-batch); False if none."""
        engine = make_engine(self.url)
        busy = text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')"
        )
        deadline = time.monotonic() + timeout_s
        try:
            with engine.connect() as connection:
                while time.monotonic() < deadline:
                    if connection.execute(busy).scalar_one():
                        return True
                    time.sleep(0.002)
            return False
        finally:
            engine.dispose()

    def close(self, keep_log_in: Path | None = None) -> None:
        if (self._data / "postmaster.pid").exists():
            with contextlib.suppress(SeedError):
                self.stop("immediate")
        if keep_log_in is not None and self.log_file.exists():
            shutil.copy(self.log_file, keep_log_in / "postgres.log")
        shutil.rmtree(self._dir, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run(
            [str(self._bin / program), *args],
            cwd=self._dir,
            user=self._user,
            group=self._user,
            extra_groups=[] if self._user else None,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise SeedError(f"{program} failed ({result.returncode}): {result.stderr.strip()}")
