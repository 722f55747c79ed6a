"""Several worker processes, one sum: each writes its figures to the shared folder, a scrape
of any process adds them up; a worker that exits keeps its counts and loses its gauges."""

import os
import sys
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from hub.app import HubRole
from hub.config import HubSettings, MetricsSettings, MqttSettings
from hub.metrics.registry import (
    MULTIPROCESS_VARIABLE,
    empty_workers_dir,
    exposition,
    scrape_registry,
)
from hub.workers import Worker, plan_workers
from tests.hub.metrics.samples import parse

TOKEN = "s3cret-token-for-prometheus"
RECORD = (
    "import sys; from hub.metrics.instruments import INGEST_QUEUE, MESSAGES_STORED; "
    "MESSAGES_STORED.labels('press').inc(int(sys.argv[1])); INGEST_QUEUE.inc(int(sys.argv[2]))"
)


def _worker(index: int, folder: Path, stored: int, queued: int) -> Worker:
    env = {**os.environ, MULTIPROCESS_VARIABLE: str(folder)}
    return Worker(index, [sys.executable, "-c", RECORD, str(stored), str(queued)], env, folder)


def _scrape(folder: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, float]:
    monkeypatch.setenv(MULTIPROCESS_VARIABLE, str(folder))
    body, _type = exposition(scrape_registry(), None)
    samples = parse(body.decode())
    return {
        "stored": samples[("seed_hub_messages_stored_total", frozenset({("kind", "press")}))],
        "queued": samples[("seed_hub_ingest_queue_messages", frozenset())],
    }


def test_two_workers_figures_add_up_and_an_exited_one_keeps_only_its_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = empty_workers_dir(tmp_path / "metrics" / "ingest")
    workers = [_worker(0, folder, stored=3, queued=2), _worker(1, folder, stored=4, queued=5)]
    for worker in workers:
        worker.start()
        assert worker.process is not None and worker.process.wait(60) == 0
    assert _scrape(folder, monkeypatch) == {"stored": 7, "queued": 7}
    workers[1].watch(time.monotonic())  # the supervisor sees it gone
    assert _scrape(folder, monkeypatch) == {"stored": 7, "queued": 2}


def test_workers_share_an_emptied_folder_and_the_first_serves_the_metrics_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEED_HUB_METRICS_PORT", "9464")  # as the supervisor was started
    leftover = tmp_path / "metrics" / "ingest" / "counter_123.db"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"an earlier run")
    settings = HubSettings(
        data_dir=tmp_path,
        mqtt=MqttSettings(broker="mqtt://127.0.0.1:1883"),
        metrics=MetricsSettings(port=9464, token=SecretStr(TOKEN)),
    )
    workers, _url = plan_workers(settings, HubRole.INGEST, 3, "INFO")
    folder = tmp_path / "metrics" / "ingest"
    assert not leftover.exists() and folder.is_dir()
    assert (folder.stat().st_mode & 0o777) == 0o700
    assert {w.env[MULTIPROCESS_VARIABLE] for w in workers} == {str(folder)}
    assert [w.env.get("SEED_HUB_METRICS_PORT") for w in workers] == ["9464", None, None]
    assert all(w.env["SEED_HUB_METRICS_TOKEN"] == TOKEN for w in workers)
    web, _url = plan_workers(settings, HubRole.WEB, 2, "INFO")
    assert web[0].env[MULTIPROCESS_VARIABLE] == str(tmp_path / "metrics" / "web")
