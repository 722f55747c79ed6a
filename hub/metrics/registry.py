"""What a scrape answers: this process's metrics or, with several worker processes, the sum
of theirs (Prometheus' multi-process mode), plus the database's figures.

`seed-hub serve --workers K` gives its workers a folder under the data folder, emptied when
it starts; each worker writes its figures there, and whichever process is scraped adds them
all up. Counters of a worker that died stay counted; its gauges are dropped.
"""

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

from hub.file_modes import private_folder

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> Path | None:
    """The workers' shared folder, if this process is one of several."""
    path = os.environ.get(MULTIPROCESS_VARIABLE)
    return Path(path) if path else None


def workers_dir(data_dir: Path, role: str) -> Path:
    """The folder the workers of one role share (each role's supervisor empties its own)."""
    return data_dir / "metrics" / role


def empty_workers_dir(path: Path) -> Path:
    """`path`, emptied of an earlier run's figures: each run of the workers counts from 0."""
    shutil.rmtree(path, ignore_errors=True)
    private_folder(path.parent)
    return private_folder(path)


def worker_exited(pid: int, path: Path) -> None:
    """Drop the gauges of a worker that is gone (its counters stay in the sum)."""
    mark_process_dead(pid, str(path))  # type: ignore[no-untyped-call]


class _ThisProcess(Collector):
    """The metrics this process records (with the process's own CPU and memory)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def scrape_registry(*collectors: Collector) -> CollectorRegistry:
    """A registry of what was recorded (by this process or all workers) and `collectors`."""
    registry = CollectorRegistry()
    path = multiprocess_dir()
    if path is None:
        registry.register(_ThisProcess())
    else:
        MultiProcessCollector(registry, path=str(path))  # type: ignore[no-untyped-call]
    for collector in collectors:
        registry.register(collector)
    return registry


def exposition(registry: CollectorRegistry, accept: str | None) -> tuple[bytes, str]:
    """The registry in the format the scraper asked for (OpenMetrics or Prometheus' text),
    and its content type."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type
