"""A small fleet as real processes, a fault schedule, and the checker's verdict.

    kiosk processes --(TcpProxy)--> Mosquitto <-- hub process (`seed-hub serve`) --> SQLite

Faults: the broker stopped (SIGTERM) or killed (SIGKILL) and restarted; the hub killed
mid-batch and restarted; a kiosk killed with a backlog and restarted; the kiosks' network
partitioned, or slow and resetting; the hub's database locked.
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
from typing import Any

from hub.chaos.checker import check, read_ledger, read_stored
from hub.chaos.proxy import TcpProxy
from hub.mosquitto import MosquittoProcess
from protocol.errors import SeedError

log = logging.getLogger(__name__)

OUTAGE_S = 4.0


@dataclass(frozen=True)
class ChaosPlan:
    faults: tuple[str, ...] = ("all",)
    kiosks: int = 3
    presses: int = 300
    rate_per_s: float = 30.0
    timeout_s: float = 180.0


class Fleet:
    """Every process of the scenario, each restartable."""

    def __init__(self, workdir: Path, plan: ChaosPlan) -> None:
        self.workdir = workdir
        self.plan = plan
        self.broker = MosquittoProcess()
        self.broker.start()
        self.proxy = TcpProxy(self.broker.port)
        self.db_path = workdir / "hub.sqlite3"
        self.db_url = f"sqlite:///{self.db_path}"
        self.hub: subprocess.Popen[bytes] | None = None
        self.kiosks: dict[str, subprocess.Popen[bytes]] = {}
        self.start_hub()
        for index in range(plan.kiosks):
            self.start_kiosk(f"chaos-{index:02d}")

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
                "hub.chaos.kiosk",
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
        deadline = time.monotonic() + self.plan.timeout_s
        for device_id, process in self.kiosks.items():
            try:
                code = process.wait(max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired as exc:
                raise SeedError(
                    f"{device_id} did not drain within {self.plan.timeout_s} s; "
                    f"see {self.workdir / (device_id + '.log')}"
                ) from exc
            if code != 0:
                raise SeedError(f"{device_id} exited {code}; see its log in {self.workdir}")

    def verdict(self) -> dict[str, Any]:
        intents = [
            i
            for device_id in self.kiosks
            for i in read_ledger(self.workdir / f"{device_id}.ledger", device_id)
        ]
        stored, counted = read_stored(self.db_url)
        return check(intents, stored, counted)

    def close(self) -> None:
        for process in [*self.kiosks.values(), self.hub]:
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(20)
        self.proxy.close()
        self.broker.stop()


def _broker_restart(signum: int) -> Callable[[Fleet], None]:
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


FAULTS: dict[str, Callable[[Fleet], None]] = {
    "broker-restart": _broker_restart(signal.SIGTERM),
    "broker-kill": _broker_restart(signal.SIGKILL),
    "hub-kill": _hub_kill,
    "kiosk-kill": _kiosk_kill,
    "partition": _partition,
    "lossy-link": _lossy_link,
    "database-locked": _database_locked,
}


def run_chaos(plan: ChaosPlan, workdir: Path | None = None) -> dict[str, Any]:
    """Run the fleet, inject the planned faults one after another, return the verdict."""
    names = list(FAULTS) if plan.faults == ("all",) else list(plan.faults)
    unknown = set(names) - set(FAULTS)
    if unknown:
        raise SeedError(f"unknown faults {sorted(unknown)}; choose from {sorted(FAULTS)}")
    with tempfile.TemporaryDirectory(prefix="seed-chaos-") as scratch:
        fleet = Fleet(workdir or Path(scratch), plan)
        started = time.monotonic()
        try:
            time.sleep(2.0)  # let presses flow before the first fault
            for name in names:
                log.info("fault: %s", name)
                FAULTS[name](fleet)
                time.sleep(1.0)
            fleet.wait_for_kiosks()
            time.sleep(0.5)
            verdict = fleet.verdict()
        finally:
            fleet.close()
    return {
        "faults": names,
        "kiosks": plan.kiosks,
        "presses_per_kiosk": plan.presses,
        "seconds": round(time.monotonic() - started, 1),
        **verdict,
    }
