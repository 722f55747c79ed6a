"""`seed-lab bench ingest`, run small as a process: a private Mosquitto, the hub, no loss."""

import json
import subprocess
import sys

from lab.mosquitto import mosquitto_binary
from tests.helpers import service_missing


def test_bench_ingest_prints_json_and_loses_nothing() -> None:
    if mosquitto_binary() is None:
        service_missing("mosquitto binary not found (apt-get install mosquitto)")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lab.cli",
            "--log-level",
            "WARNING",
            "bench",
            "ingest",
            "--json",
            "--kiosks",
            "2",
            "--events",
            "200",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    figures = json.loads(result.stdout)
    assert {"events", "stored_per_s", "raw_per_s", "ratio", "lost", "duplicates"} <= set(figures)
    assert (figures["events"], figures["lost"], figures["duplicates"]) == (400, 0, 0)
    assert figures["stored_per_s"] > 0 and figures["raw_per_s"] > 0
