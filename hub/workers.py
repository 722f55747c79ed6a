"""`seed-hub serve --workers K`: K hub processes of one role, started, watched and stopped.

Ingest workers share one subscription (`$share/<group>/…`, group `seed-hub` unless
SEED_HUB_SHARE_GROUP says otherwise), so the broker hands each message to one of them; each
has a client id of its own. Web workers share one port (SO_REUSEPORT): the kernel spreads
connections over them, and as they keep nothing of their own (sessions are signed cookies)
any of them answers any request. A worker that dies is started again, with a back-off.

Their metrics add up (hub/metrics/registry.py): they share a folder under the data folder,
emptied here before they start, and a scrape of any of them answers for all of them. A
metrics port of its own (SEED_HUB_METRICS_PORT) is the first worker's.
"""

import errno
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from hub.app import HubRole
from hub.config import HubSettings, MetricsSettings
from hub.metrics.registry import (
    MULTIPROCESS_VARIABLE,
    empty_workers_dir,
    worker_exited,
    workers_dir,
)
from protocol.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_SHARE_GROUP = "seed-hub"
RESTART_FIRST_S = 1.0
RESTART_MAX_S = 30.0
STOP_WAIT_S = 30.0


def check_workers(settings: HubSettings, role: HubRole, workers: int) -> None:
    if workers < 1:
        raise ConfigError("--workers must be at least 1")
    if workers > 1 and role.ingests and not settings.mqtt.broker:
        raise ConfigError(
            "several ingest workers share one subscription, which the embedded broker cannot "
            "do: give a broker with shared subscriptions (Mosquitto 2, EMQX, HiveMQ, "
            "VerneMQ) with --broker mqtt://HOST:1883, or run one worker"
        )


@dataclass
class Worker:
    index: int
    command: list[str]
    env: dict[str, str]
    metrics_dir: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    restart_after_s: float = RESTART_FIRST_S
    restart_at: float = 0.0
    restarts: int = field(default=0)

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, env=self.env)
        log.info("worker %d started (pid %d)", self.index, self.process.pid)

    def watch(self, now: float) -> None:
        """Start the worker again if it died; wait longer each time it dies soon after."""
        if self.process is None or self.process.poll() is None:
            return
        if self.restart_at == 0.0:
            self._forget_metrics()
            log.error(
                "worker %d (pid %d) exited with %s; starting it again in %.0f s",
                self.index,
                self.process.pid,
                self.process.returncode,
                self.restart_after_s,
            )
            self.restart_at = now + self.restart_after_s
        elif now >= self.restart_at:
            self.restart_at = 0.0
            self.restart_after_s = min(self.restart_after_s * 2, RESTART_MAX_S)
            self.restarts += 1
            self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            log.warning("worker %d did not stop in %.0f s; killed", self.index, STOP_WAIT_S)
            self.process.kill()
            self.process.wait()
        self._forget_metrics()

    def _forget_metrics(self) -> None:
        if self.metrics_dir is not None and self.process is not None:
            worker_exited(self.process.pid, self.metrics_dir)


def plan_workers(
    settings: HubSettings, role: HubRole, workers: int, log_level: str
) -> tuple[list[Worker], str | None]:
    """The workers to start, and the dashboard's URL if they serve it."""
    check_workers(settings, role, workers)
    env = {**os.environ, **_shared_env(settings, role)}
    web_url = None
    if role.serves_web:
        port = shared_port(settings.web.host, settings.web.port)
        env |= {"SEED_HUB_WEB_PORT": str(port), "SEED_HUB_WEB_REUSE_PORT": "true"}
        web_url = f"http://{settings.web.host}:{port}"
    metrics_dir = empty_workers_dir(workers_dir(settings.data_dir, role.value))
    env[MULTIPROCESS_VARIABLE] = str(metrics_dir)
    command = [sys.executable, "-m", "hub.cli", "--log-level", log_level, "serve"]
    return [
        Worker(
            index,
            [*command, "--role", role.value, "--workers", "1"],
            _metrics_env(
                {**env, "SEED_HUB_CLIENT_ID": f"{settings.mqtt.client_id}-w{index}"},
                settings.metrics,
                first=index == 0,
            ),
            metrics_dir,
        )
        for index in range(workers)
    ], web_url


def _metrics_env(env: dict[str, str], metrics: MetricsSettings, *, first: bool) -> dict[str, str]:
    """The metrics settings a worker is started with: the first serves the metrics port."""
    port = MetricsSettings.variable("port")
    env.pop(port, None)
    if first and metrics.port is not None:
        env |= {port: str(metrics.port), MetricsSettings.variable("host"): metrics.host}
    if metrics.token is not None:
        env[MetricsSettings.variable("token")] = metrics.token.get_secret_value()
    return env


def _shared_env(settings: HubSettings, role: HubRole) -> dict[str, str]:
    env = {"SEED_HUB_DB": settings.database_url, "SEED_HUB_DATA_DIR": str(settings.data_dir)}
    if settings.mqtt.broker:
        env["SEED_HUB_BROKER"] = settings.mqtt.broker
    if role.ingests:
        env["SEED_HUB_SHARE_GROUP"] = settings.mqtt.share_group or DEFAULT_SHARE_GROUP
    return env


def shared_port(host: str, preferred: int) -> int:
    """The preferred port if it is free, else a free one; the workers then share it."""
    for port in (preferred, 0):
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            try:
                probe.bind((host, port))
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE and port != 0:
                    log.warning("port %d is taken; the dashboard uses a free port", port)
                    continue
                raise
            chosen: int = probe.getsockname()[1]
            return chosen
    raise ConfigError(f"no free port on {host}")


def supervise(workers: list[Worker], stop: threading.Event, duration_s: float | None) -> int:
    """Run the workers until `stop` (or `duration_s`), restarting any that dies."""
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + duration_s if duration_s else None
    while not stop.wait(0.5):
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            break
        for worker in workers:
            worker.watch(now)
    for worker in workers:
        worker.stop()
    for worker in workers:
        worker.wait()
    return 0
