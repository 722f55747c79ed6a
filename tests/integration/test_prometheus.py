"""The hub as Prometheus sees it: a real Prometheus (Debian's) scrapes a running hub, on the
metrics port and on the web port with the token, and a PromQL query returns the number of
events a kiosk sent over a real broker; with two worker processes the figures add up."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from hub.ingest.broker import free_port
from lab.ingest_bench import PREFIX, BenchKiosk, connect_all, publish_all
from lab.mosquitto import MosquittoProcess
from tests.helpers import service_missing, wait_until
from tests.hub.metrics.conftest import fetch, promtool
from tests.hub.metrics.samples import parse, total

pytestmark = [pytest.mark.mosquitto]

TOKEN = "s3cret-token-for-prometheus"
EVENTS = 40
STORED = "seed_hub_messages_stored_total"


@contextmanager
def hub_process(
    mosquitto: MosquittoProcess, data_dir: Path, metrics_port: int, *extra: str, db: str = ""
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`seed-hub serve` with metrics on a port of their own and on the web port; yields the
    process and the dashboard's URL."""
    env = {
        **os.environ,
        "SEED_HUB_TOPIC_PREFIX": PREFIX,
        "SEED_HUB_DATA_DIR": str(data_dir),
        "SEED_HUB_CLIENT_ID": "prometheus-test",
        "SEED_HUB_WEB_PORT": "0",
        "SEED_HUB_METRICS_PORT": str(metrics_port),
        "SEED_HUB_METRICS_TOKEN": TOKEN,
    }
    command = [sys.executable, "-m", "hub.cli", "--log-level", "WARNING", "serve"]
    command += ["--broker", mosquitto.url, *extra, *(["--db", db] if db else [])]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        yield process, _dashboard_url(process)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def _dashboard_url(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        if "dashboard at " in line:
            threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()
            return line.split("dashboard at ", 1)[1].split()[0]
    raise AssertionError("the hub exited before it served its dashboard")


def _drain(stream: IO[str]) -> None:
    for _line in stream:
        pass


def _send_events(mosquitto: MosquittoProcess, count: int) -> None:
    kiosk = BenchKiosk(0, mosquitto.address, count)
    connect_all([kiosk])
    try:
        publish_all([kiosk])
        assert kiosk.all_acked.wait(60), f"{len(kiosk.acked)} of {count} acknowledged"
    finally:
        kiosk.connection.stop()


def _scraped(url: str, token: str | None = None) -> str:
    try:
        return fetch(url, token)
    except (urllib.error.URLError, ConnectionError):
        return ""  # not listening (yet, or again)


class Prometheus:
    """Debian's Prometheus on a free port, its data in a temporary folder."""

    def __init__(self, folder: Path, jobs: dict[str, dict[str, Any]]) -> None:
        binary = shutil.which("prometheus")
        if binary is None:
            service_missing("prometheus not found (apt-get install prometheus)")
        assert binary is not None
        self.url = f"http://127.0.0.1:{free_port()}"
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [{"job_name": name, **job} for name, job in jobs.items()],
        }
        (folder / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
        self._log = (folder / "prometheus.log").open("w")
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={folder / 'prometheus.yml'}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address={self.url.removeprefix('http://')}",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: _scraped(f"{self.url}/-/ready") != "", 60, "Prometheus ready")

    def query(self, promql: str) -> dict[str, float]:
        """An instant query: each series' `job` -> its value."""
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        answer = json.loads(fetch(url))
        assert answer["status"] == "success", answer
        return {r["metric"].get("job", ""): float(r["value"][1]) for r in answer["data"]["result"]}

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)
        self._log.close()


def test_prometheus_counts_the_events_a_kiosk_sent(
    mosquitto: MosquittoProcess, tmp_path: Path
) -> None:
    metrics_port = free_port()
    with hub_process(mosquitto, tmp_path / "hub", metrics_port) as (_hub, dashboard):
        web = urllib.parse.urlsplit(dashboard).netloc
        prometheus = Prometheus(
            tmp_path,
            {
                "seed-hub": {"static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}]},
                "seed-hub-web": {
                    "authorization": {"credentials": TOKEN},
                    "static_configs": [{"targets": [web]}],
                },
            },
        )
        try:
            wait_until(
                lambda: prometheus.query("up") == {"seed-hub": 1, "seed-hub-web": 1},
                60,
                "both targets scraped",
            )
            _send_events(mosquitto, EVENTS)
            expected = {"seed-hub": EVENTS, "seed-hub-web": EVENTS}
            query = f"sum by (job) ({STORED})"
            wait_until(lambda: prometheus.query(query) == expected, 60, f"{query} = {EVENTS}")
            received = 'sum by (job) (seed_hub_messages_received_total{kind="events"})'
            assert prometheus.query(received) == expected
            online = 'max by (job) (seed_hub_devices{state="online"})'
            expected = {"seed-hub": 1, "seed-hub-web": 1}  # the kiosk, read from the database
            wait_until(lambda: prometheus.query(online) == expected, 60, "the kiosk online")
        finally:
            prometheus.stop()


def _stored_by_process(folder: Path) -> list[float]:
    """Presses each worker process stored, from its own file in the shared folder."""
    stored = []
    for counters in sorted(folder.glob("counter_*.db")):
        with tempfile.TemporaryDirectory() as alone:
            shutil.copy(counters, alone)
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=alone)  # type: ignore[no-untyped-call]
            samples = [s for f in registry.collect() for s in f.samples if s.name == STORED]
            stored.append(sum(s.value for s in samples))
    return stored


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.mark.postgresql
def test_two_workers_figures_add_up_and_outlive_a_killed_worker(
    mosquitto: MosquittoProcess, postgres_url: str, tmp_path: Path
) -> None:
    metrics_port = free_port()
    folder = tmp_path / "metrics" / "all"
    workers = ["--role", "all", "--workers", "2"]
    with hub_process(mosquitto, tmp_path, metrics_port, *workers, db=postgres_url) as (
        hub,
        dashboard,
    ):
        own_port = f"http://127.0.0.1:{metrics_port}/metrics"
        wait_until(lambda: _scraped(own_port) != "", 60, "the first worker's metrics port")
        wait_until(lambda: len(list(folder.glob("gauge_livesum_*.db"))) == 2, 60, "2 workers")
        _send_events(mosquitto, EVENTS)

        def stored() -> float:
            return total(parse(_scraped(own_port)), STORED)

        wait_until(lambda: stored() == EVENTS, 60, f"{EVENTS} stored")
        by_process = _stored_by_process(folder)
        assert len(by_process) == 2 and all(by_process), by_process  # both stored some
        assert sum(by_process) == EVENTS
        web = parse(fetch(f"{dashboard}/metrics", TOKEN))
        assert total(web, STORED) == EVENTS
        checked = subprocess.run(
            [promtool(), "check", "metrics"],
            input=_scraped(own_port).encode(),
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()

        victim = _children(hub.pid)[1]
        os.kill(victim, signal.SIGKILL)
        wait_until(
            lambda: victim not in _children(hub.pid) and len(_children(hub.pid)) == 2,
            60,
            "the killed worker started again",
        )
        assert not (folder / f"gauge_livesum_{victim}.db").exists()
        wait_until(lambda: stored() == EVENTS, 60, "the count kept after the kill")
