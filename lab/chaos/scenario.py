"""A small fleet as real processes, a fault schedule, and the checker's verdict.

    kiosk processes --(TcpProxy)--> Mosquitto <-- hub process (`seed-hub serve`) --> database

The database is a SQLite file, or a private PostgreSQL server that the run starts.
Faults: a kiosk turned hostile, sending poison statuses (it stays on to the end of the run);
the broker stopped (SIGTERM) or killed (SIGKILL) and restarted; the hub killed mid-batch and
restarted; a kiosk killed with a backlog and restarted; the kiosks' network partitioned, or
slow and resetting; and the database's own: the SQLite file locked, or the PostgreSQL server
stopped (`pg_ctl stop -m fast`) or killed (SIGKILL of the postmaster mid-batch), then started.
"""

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.exc import SQLAlchemyError

from lab.chaos.checker import check, count_stored, read_ledger, read_stored
from lab.chaos.poison import PoisonKiosk
from lab.chaos.postgres import PostgresServer
from lab.chaos.proxy import TcpProxy
from lab.mosquitto import MosquittoProcess
from protocol.broker_url import BrokerAddress
from protocol.errors import SeedError

log = logging.getLogger(__name__)

OUTAGE_S = 4.0
RATE_WINDOW_S = 5.0
"""How long the stored rate is measured before the poison starts, then again under it."""

Backend = Literal["sqlite", "postgresql"]


@dataclass(frozen=True)
class ChaosPlan:
    faults: tuple[str, ...] = ("all",)
    kiosks: int = 3
    presses: int = 300
    rate_per_s: float = 30.0
    timeout_s: float = 180.0
    backend: Backend = "sqlite"


def kiosk_id(index: int) -> str:
    return f"chaos-{index:02d}"


class Fleet:
    """Every process of the scenario, each restartable."""

    def __init__(self, workdir: Path, plan: ChaosPlan) -> None:
        self.workdir = workdir
        self.plan = plan
        self.broker = MosquittoProcess()
        self.proxy = TcpProxy(self.broker.port)
        self.postgres = PostgresServer() if plan.backend == "postgresql" else None
        self.db_path = workdir / "hub.sqlite3"
        self.db_url = self.postgres.url if self.postgres else f"sqlite:///{self.db_path}"
        self.poison = PoisonKiosk(
            BrokerAddress("127.0.0.1", self.proxy.port, tls=False),
            device_id="chaos-poison",
            location_id="chaos-loc-poison",
            victim_device_id=kiosk_id(0),
        )
        self.stored_per_s: dict[str, float] = {}
        self.hub: subprocess.Popen[bytes] | None = None
        self.kiosks: dict[str, subprocess.Popen[bytes]] = {}

    def start(self) -> None:
        if self.postgres is not None:
            self.postgres.create()
        self.broker.start()
        self.start_hub()
        for index in range(self.plan.kiosks):
            self.start_kiosk(kiosk_id(index))

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log_file = (self.workdir / f"{name}.log").open("ab")
        env = {
            **os.environ,
            "SEED_HUB_DATA_DIR": str(self.workdir),
            "SEED_HUB_CLIENT_ID": "chaos-hub",
        }
        return subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=env)

    def start_hub(self) -> None:
        self.hub = self._spawn(
            "hub",
            [
                sys.executable,
                "-m",
                "hub.cli",
                "serve",
                "--broker",
                self.broker.url,
                "--db",
                self.db_url,
            ],
        )

    def kill_hub(self) -> None:
        if self.hub is not None:
            self.hub.send_signal(signal.SIGKILL)
            self.hub.wait()

    def start_kiosk(self, device_id: str) -> None:
        config = self.workdir / f"{device_id}.toml"
        config.write_text(
            f'device_id = "{device_id}"\nlocation_id = "chaos-loc-{int(device_id[-2:]) % 2}"\n'
            f'data_dir = "{device_id}"\nheartbeat_s = 2\n'
            f'[mqtt]\nurl = "mqtt://127.0.0.1:{self.proxy.port}"\nack_timeout_s = 3\n'
            "reconnect_min_s = 1\nreconnect_max_s = 2\nmax_send_per_s = 200\n"
        )
        self.kiosks[device_id] = self._spawn(
            device_id,
            [
                sys.executable,
                "-m",
                "lab.chaos.kiosk",
                "--config",
                str(config),
                "--presses",
                str(self.plan.presses),
                "--rate",
                str(self.plan.rate_per_s),
                "--ledger",
                str(self.workdir / f"{device_id}.ledger"),
            ],
        )

    def kill_kiosk(self, device_id: str) -> None:
        self.kiosks[device_id].send_signal(signal.SIGKILL)
        self.kiosks[device_id].wait()

    def wait_for_kiosks(self) -> None:
        """Until every kiosk has drained and exited; fails at once if the hub has died."""
        deadline = time.monotonic() + self.plan.timeout_s
        for device_id, process in self.kiosks.items():
            while (code := process.poll()) is None:
                self.check_hub_alive()
                if time.monotonic() > deadline:
                    raise SeedError(
                        f"{device_id} did not drain within {self.plan.timeout_s} s; "
                        f"see {self.workdir / (device_id + '.log')}"
                    )
                time.sleep(0.2)
            if code != 0:
                raise SeedError(f"{device_id} exited {code}; see its log in {self.workdir}")

    def check_hub_alive(self) -> None:
        code = self.hub.poll() if self.hub is not None else None
        if code is not None:
            raise SeedError(f"the hub exited {code}; see {self.workdir / 'hub.log'}")

    def wait_until_storing(self, timeout_s: float = 30) -> None:
        """Until every kiosk has had a press stored: all of them connected and pressing."""
        deadline = time.monotonic() + timeout_s
        while self._storing_devices() < len(self.kiosks):
            self.check_hub_alive()
            if time.monotonic() > deadline:
                raise SeedError(f"kiosks were not all storing within {timeout_s} s")
            time.sleep(0.2)

    def _storing_devices(self) -> int:
        try:
            return count_stored(self.db_url).devices
        except SQLAlchemyError:  # the hub has not made its tables yet
            return 0

    def wait_until_caught_up(self, timeout_s: float = 30) -> None:
        """Until the hub is at most a second's presses behind the kiosks, so that a rate
        measured next is the steady one (a loaded machine may never get there: then go on)."""
        one_second = self.plan.rate_per_s * len(self.kiosks)
        deadline = time.monotonic() + timeout_s
        while self.pressed() - count_stored(self.db_url).events > one_second:
            if time.monotonic() > deadline:
                log.warning("the hub is still behind the kiosks after %s s", timeout_s)
                return
            time.sleep(0.2)

    def pressed(self) -> int:
        """Presses the kiosks have accepted so far (the lines in their ledgers)."""
        ledgers = (self.workdir / f"{device_id}.ledger" for device_id in self.kiosks)
        return sum(len(read_ledger(ledger, ledger.stem)) for ledger in ledgers)

    def stored_rate(self, window_s: float) -> float:
        """Presses stored per second over the next `window_s` seconds."""
        before, started = count_stored(self.db_url).events, time.monotonic()
        time.sleep(window_s)
        stored = count_stored(self.db_url).events - before
        return round(stored / (time.monotonic() - started), 1)

    def verdict(self) -> dict[str, Any]:
        intents = [
            i
            for device_id in self.kiosks
            for i in read_ledger(self.workdir / f"{device_id}.ledger", device_id)
        ]
        stored, counted = read_stored(self.db_url)
        return check(intents, stored, counted)

    def close(self) -> None:
        self.poison.stop()
        for process in [*self.kiosks.values(), self.hub]:
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(20)
        self.proxy.close()
        self.broker.close()
        if self.postgres is not None:
            self.postgres.close(keep_log_in=self.workdir)


Fault = Callable[[Fleet], None]


def _poison(fleet: Fleet) -> None:
    """Measure the stored rate, start the poison kiosk, measure it again."""
    fleet.wait_until_caught_up()
    clean = fleet.stored_rate(RATE_WINDOW_S)
    fleet.poison.start()
    fleet.stored_per_s = {"clean": clean, "poison": fleet.stored_rate(RATE_WINDOW_S)}


def _broker_restart(signum: int) -> Fault:
    def fault(fleet: Fleet) -> None:
        fleet.broker.stop(signum)
        time.sleep(OUTAGE_S)
        fleet.broker.start()

    return fault


def _hub_kill(fleet: Fleet) -> None:
    fleet.kill_hub()
    time.sleep(OUTAGE_S / 2)
    fleet.start_hub()


def _kiosk_kill(fleet: Fleet) -> None:
    victim = next(iter(fleet.kiosks))
    fleet.kill_kiosk(victim)
    time.sleep(OUTAGE_S / 2)
    fleet.start_kiosk(victim)


def _partition(fleet: Fleet) -> None:
    fleet.proxy.partition()
    time.sleep(OUTAGE_S)
    fleet.proxy.heal()


def _lossy_link(fleet: Fleet) -> None:
    fleet.proxy.degrade(latency_s=0.05, reset_probability=0.05)
    time.sleep(OUTAGE_S * 2)
    fleet.proxy.heal()


def _database_locked(fleet: Fleet) -> None:
    blocker = sqlite3.connect(fleet.db_path, isolation_level=None, timeout=30)
    blocker.execute("BEGIN EXCLUSIVE")
    time.sleep(OUTAGE_S)
    blocker.execute("ROLLBACK")
    blocker.close()


def _postgres(fleet: Fleet) -> PostgresServer:
    if fleet.postgres is None:
        raise SeedError("this fault needs the postgresql backend")
    return fleet.postgres


def _database_restart(fleet: Fleet) -> None:
    _postgres(fleet).stop("fast")
    time.sleep(OUTAGE_S)
    _postgres(fleet).start()


def _database_kill(fleet: Fleet) -> None:
    server = _postgres(fleet)
    mid_batch = server.wait_for_transaction(timeout_s=OUTAGE_S * 2)
    server.kill()
    log.info("postgres killed %s", "mid-batch" if mid_batch else "between batches")
    time.sleep(OUTAGE_S / 2)
    server.start()


COMMON_FAULTS: dict[str, Fault] = {
    "broker-restart": _broker_restart(signal.SIGTERM),
    "broker-kill": _broker_restart(signal.SIGKILL),
    "hub-kill": _hub_kill,
    "kiosk-kill": _kiosk_kill,
    "partition": _partition,
    "lossy-link": _lossy_link,
}
DATABASE_FAULTS: dict[Backend, dict[str, Fault]] = {
    "sqlite": {"database-locked": _database_locked},
    # the kill first: after an outage, kiosks backing off may leave no batch to kill mid-way
    "postgresql": {"database-kill": _database_kill, "database-restart": _database_restart},
}


def faults_for(backend: Backend) -> dict[str, Fault]:
    """In the order `all` runs them: poison first, to measure the clean rate before any
    fault, then the database's while the kiosks are sure to be pressing."""
    return {"poison": _poison, **DATABASE_FAULTS[backend], **COMMON_FAULTS}


def run_chaos(plan: ChaosPlan, workdir: Path | None = None) -> dict[str, Any]:
    """Run the fleet, inject the planned faults one after another, return the verdict."""
    faults = faults_for(plan.backend)
    names = list(faults) if plan.faults == ("all",) else list(plan.faults)
    unknown = set(names) - set(faults)
    if unknown:
        raise SeedError(
            f"unknown faults {sorted(unknown)} on {plan.backend}; choose from {sorted(faults)}"
        )
    with tempfile.TemporaryDirectory(prefix="seed-chaos-") as scratch:
        fleet = Fleet(workdir or Path(scratch), plan)
        try:
            fleet.start()
            started = time.monotonic()
            fleet.wait_until_storing()
            time.sleep(1.0)  # let presses flow before the first fault
            for name in names:
                log.info("fault: %s", name)
                faults[name](fleet)
                time.sleep(1.0)
            fleet.wait_for_kiosks()
            time.sleep(0.5)
            verdict = fleet.verdict()
        finally:
            fleet.close()
    poisoned = {"stored_per_s": fleet.stored_per_s, "poison_sent": fleet.poison.sent}
    return {
        "backend": plan.backend,
        "faults": names,
        "kiosks": plan.kiosks,
        "presses_per_kiosk": plan.presses,
        "seconds": round(time.monotonic() - started, 1),
        **verdict,
        **(poisoned if "poison" in names else {}),
    }
