"""`seed-lab bench press`: what a traveller waits for, and what a kiosk holds in memory.

`led_ms` runs from the button's edge on the mock pin to its LED lit; `outbox_ms` from the
same edge to the event committed in the outbox (SQLite, synchronous=FULL). Both go through
the kiosk's own panel, recorder and outbox, built by `edge.app.Kiosk` as in production.
Resident memory is read from /proc of a `seed-kiosk run --simulate` process, without and
with the camera.
"""

import os
import platform
import queue
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from edge.app import Kiosk
from edge.config import KioskConfig
from edge.panel import mock_pin_factory
from protocol.messages import BUTTONS

GAP_S = 0.06  # between presses: past the 40 ms debounce, so every edge counts
OFFLINE_BROKER = "mqtt://127.0.0.1:9"  # nothing listens: the uplink retries, as offline kiosks do


def bench_press(
    *,
    presses: int = 300,
    rounds: int = 3,
    rss_seconds: float = 20,
    broker: str | None = None,
    camera_source: Path | None = None,
) -> dict[str, Any]:
    latencies = [_press_round(presses, broker) for _ in range(rounds)]
    return {
        "machine": _machine(),
        "presses_per_round": presses,
        "rounds": rounds,
        "broker": broker or "none (offline kiosk)",
        "led_ms": _summary([r["led_ms"] for r in latencies]),
        "outbox_ms": _summary([r["outbox_ms"] for r in latencies]),
        "rss_mb": {
            "without_camera": _kiosk_rss(rss_seconds, camera_source=None),
            "with_camera": _kiosk_rss(rss_seconds, camera_source=camera_source)
            if camera_source
            else None,
        },
        "camera_source": str(camera_source) if camera_source else None,
    }


def _config(folder: Path, broker: str | None) -> KioskConfig:
    return KioskConfig.model_validate(
        {
            "device_id": "bench-kiosk",
            "location_id": "bench",
            "data_dir": folder,
            "mqtt": {"url": broker or OFFLINE_BROKER, "reconnect_min_s": 5},
            "panel": {"thanks_s": GAP_S / 3},
        }
    )


def _press_round(presses: int, broker: str | None) -> dict[str, list[float]]:
    """Press the kiosk's buttons in turn; milliseconds to the LED and to the outbox."""
    with tempfile.TemporaryDirectory(prefix="seed-bench-press-") as folder:
        kiosk = Kiosk(_config(Path(folder), broker), pin_factory=mock_pin_factory())
        committed: queue.Queue[float] = queue.Queue()
        kiosk.recorder.add_listener(lambda _event: committed.put(time.perf_counter()))
        kiosk.start()
        try:
            return _press(kiosk, presses, committed)
        finally:
            kiosk.stop()


def _press(kiosk: Kiosk, presses: int, committed: "queue.Queue[float]") -> dict[str, list[float]]:
    pins = kiosk.panel.button_pins()
    led_ms: list[float] = []
    outbox_ms: list[float] = []
    for index in range(presses):
        button = BUTTONS[index % len(BUTTONS)]
        led = kiosk.panel.key(button).led
        edge = time.perf_counter()
        pins[button].drive_low()
        while not led.is_lit:
            time.sleep(0)  # lets the LED's thread have the GIL
        led_ms.append((time.perf_counter() - edge) * 1000)
        outbox_ms.append((committed.get(timeout=10) - edge) * 1000)
        pins[button].drive_high()
        time.sleep(GAP_S)
    return {"led_ms": led_ms, "outbox_ms": outbox_ms}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _summary(rounds: list[list[float]]) -> dict[str, Any]:
    """p50 and p99 of each round; their median across rounds, and the spread."""
    p50s = [_percentile(r, 0.50) for r in rounds]
    p99s = [_percentile(r, 0.99) for r in rounds]
    return {
        "p50": round(statistics.median(p50s), 3),
        "p99": round(statistics.median(p99s), 3),
        "p50_rounds": [round(v, 3) for v in p50s],
        "p99_rounds": [round(v, 3) for v in p99s],
        "max": round(max(max(r) for r in rounds), 3),
    }


def _kiosk_rss(seconds: float, *, camera_source: Path | None) -> dict[str, float]:
    """Run `seed-kiosk run --simulate` for `seconds`; its resident memory now and at peak."""
    with tempfile.TemporaryDirectory(prefix="seed-bench-rss-") as folder:
        config = Path(folder) / "kiosk.toml"
        config.write_text(_rss_config(Path(folder), camera_source))
        process = subprocess.Popen(
            [sys.executable, "-m", "edge.cli", "run", "--simulate", "--config", str(config),
             "--speed", "200", "--log-level", "WARNING"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            time.sleep(seconds)
            status = _proc_status(process.pid)
        finally:
            process.terminate()
            process.wait(timeout=30)
    return {"rss": status["VmRSS"], "peak": status["VmHWM"]}


def _rss_config(folder: Path, camera_source: Path | None) -> str:
    text = (
        'device_id = "bench-kiosk"\nlocation_id = "bench"\n'
        f'data_dir = "{folder / "data"}"\n'
        f'[mqtt]\nurl = "{OFFLINE_BROKER}"\nreconnect_min_s = 5\n'
    )
    if camera_source:
        text += (
            f'[camera]\nenabled = true\nsource = "{camera_source}"\nfps = 5\nambient = true\n'
            "indicator_led = 26\n"
        )
    return text


def _proc_status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return fields


def _machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }


def camera_frames(folder: Path) -> Path | None:
    """A folder of frames with faces for the camera run, if FER2013 data is at hand."""
    try:
        import cv2  # noqa: PLC0415

        from edge.camera.faces import default_faces_file, face_on_background, load_faces  # noqa: PLC0415
    except ImportError:
        return None
    source = default_faces_file()
    if not source.is_file():
        return None
    images, _labels = load_faces(source)
    folder.mkdir(parents=True, exist_ok=True)
    for index, face in enumerate(images[:20]):
        cv2.imwrite(str(folder / f"{index:03d}.png"), face_on_background(face))
    return folder
