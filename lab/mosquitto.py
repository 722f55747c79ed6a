"""A private Mosquitto on a free loopback port, and its check of a password line: for
benchmarks and tests (production runs the system's Mosquitto, configured by hub.fleet)."""

import base64
import hashlib
import hmac
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from hub.ingest.broker import free_port
from protocol.broker_url import BrokerAddress
from protocol.errors import SeedError


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()),
        None,
    )


class MosquittoProcess:
    """`with MosquittoProcess() as broker:` starts it; `stop()`/`start()` simulate an outage."""

    def __init__(self, port: int | None = None, *, config_text: str | None = None) -> None:
        """An open broker on `port`; or one run on `config_text` (which must listen on
        127.0.0.1:`port` too, where readiness is checked)."""
        binary = mosquitto_binary()
        if binary is None:
            raise SeedError("mosquitto is not installed (Debian: apt-get install mosquitto)")
        self._binary = binary
        self.port = port or free_port()
        self.address = BrokerAddress("127.0.0.1", self.port, tls=False)
        self._dir = Path(tempfile.mkdtemp(prefix="seed-mosquitto-"))
        self.log_file = self._dir / "mosquitto.log"
        self._config = self._dir / "mosquitto.conf"
        self._config.write_text(
            (config_text or self._open_config())
            + f"log_dest file {self.log_file}\n"
            # as root, Mosquitto would drop to its own user, who cannot read our temp files
            + ("user root\n" if os.geteuid() == 0 else "")
        )
        self._process: subprocess.Popen[bytes] | None = None

    def _open_config(self) -> str:
        return (
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence false\n"
            "max_queued_messages 100000\n"
            "max_inflight_messages 1000\n"
        )

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def reload(self) -> None:
        """What `systemctl reload mosquitto` does: re-read passwords, ACL and CRL."""
        if self._process is not None:
            self._process.send_signal(signal.SIGHUP)

    @property
    def url(self) -> str:
        return self.address.url

    def start(self) -> None:
        self._process = subprocess.Popen(
            [self._binary, "-c", str(self._config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise SeedError(f"mosquitto exited at start; see {self._dir / 'mosquitto.log'}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SeedError(f"mosquitto did not listen on port {self.port} within 10 s")

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """Stop it: gracefully (SIGTERM) or as a crash (SIGKILL)."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signum)
            self._process.wait(timeout=10)
        self._process = None

    def __enter__(self) -> "MosquittoProcess":
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop it for good and remove its folder (config, log)."""
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)


def password_matches(password: str, hashed: str) -> bool:
    """What Mosquitto checks of a `$7$` password line (PBKDF2-HMAC-SHA512): tests hold the
    hub's hashes to it."""
    try:
        _, kind, rounds, salt, digest = hashed.split("$")
    except ValueError:
        return False
    if kind != "7":
        return False
    expected = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt), int(rounds))
    return hmac.compare_digest(expected, base64.b64decode(digest))
