"""`seed-lab bench page`: the kiosk page's time from a press to its follow-up on screen, the
page's weight, and the memory of a kiosk serving it.

`shown_ms` runs from the button's edge on the mock pin, through the kiosk's own panel,
recorder, follow-ups and page server (built by `edge.app.Kiosk` as in production), to the
follow-up drawn in headless Chromium: the page stamps `Date.now()` in the animation frame
after drawing it, and both sides read the same machine's clock. The page's weight is what
it transferred to load (Resource Timing). Memory: a `seed-kiosk run --simulate` process
serving the page to a Chromium, each read from /proc apart.
"""

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from selenium.webdriver.chrome.webdriver import WebDriver

from edge.app import Kiosk
from edge.config import KioskConfig
from edge.panel import mock_pin_factory
from lab.browser import chromium
from lab.press_bench import OFFLINE_BROKER, _machine, _percentile, _proc_status
from protocol.errors import SeedError
from protocol.messages import Button
from protocol.surveys import Survey

TOUCH_DISPLAY = (1280, 800)
BENCH_SURVEY = Survey.model_validate(
    {
        "survey_id": "bench",
        "version": 1,
        "languages": ["en", "fa"],
        "question": {"en": "How was it?", "fa": "چطور بود؟"},
        "negative": {
            "text": {"en": "What went wrong?", "fa": "چه چیزی خوب نبود؟"},
            "options": [
                {"key": f"reason-{n}", "text": {"en": f"Reason {n}", "fa": f"دلیل {n}"}}
                for n in range(1, 7)
            ],
        },
    }
)
SHOWN = "return window.kioskShown || null"


def bench_page(*, presses: int = 200, rss_seconds: float = 15) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="seed-bench-page-") as folder:
        kiosk = Kiosk(_config(Path(folder) / "data", port=0), pin_factory=mock_pin_factory())
        kiosk.start()
        try:
            assert kiosk.page is not None
            with chromium(TOUCH_DISPLAY) as driver:
                _open(driver, kiosk.page.display.url)
                weight = _page_weight(driver)
                shown_ms = _presses(kiosk, driver, presses)
        finally:
            kiosk.stop()
        memory = _memory(Path(folder), rss_seconds)
    return {
        "machine": _machine(),
        "presses": presses,
        "shown_ms": {
            "p50": round(_percentile(shown_ms, 0.50), 1),
            "p99": round(_percentile(shown_ms, 0.99), 1),
            "max": round(max(shown_ms), 1),
            "mean": round(statistics.fmean(shown_ms), 1),
        },
        "page_bytes": weight,
        "rss_mb": memory,
    }


def _config(folder: Path, *, port: int) -> KioskConfig:
    return KioskConfig.model_validate(
        {
            "device_id": "bench-kiosk",
            "location_id": "bench",
            "data_dir": folder,
            "response_interval_s": 0,
            "mqtt": {"url": OFFLINE_BROKER, "reconnect_min_s": 5, "drain_on_stop_s": 0},
            "display": {"port": port},
            "survey": BENCH_SURVEY.model_dump(mode="json"),
        }
    )


def _open(driver: WebDriver, url: str) -> None:
    driver.get(url)
    deadline = time.monotonic() + 10
    while not driver.execute_script("return document.body.dataset.listening"):
        if time.monotonic() > deadline:
            raise SeedError("the kiosk page did not open its event stream")
        time.sleep(0.05)


def _page_weight(driver: WebDriver) -> dict[str, int]:
    """Bytes transferred for the page, its files and its first state (headers included)."""
    entries = driver.execute_script(
        "return performance.getEntriesByType('navigation')"
        ".concat(performance.getEntriesByType('resource'))"
        ".filter(e => !e.name.endsWith('/api/events'))"
        ".map(e => [e.name, e.transferSize, e.decodedBodySize])"
    )
    return {
        "transferred": sum(int(transferred) for _name, transferred, _body in entries),
        "decoded": sum(int(body) for _name, _transferred, body in entries),
        "requests": len(entries),
    }


def _presses(kiosk: Kiosk, driver: WebDriver, presses: int) -> list[float]:
    pins = kiosk.panel.button_pins()
    shown_ms: list[float] = []
    last = None
    for index in range(presses):
        button = Button.UNHAPPY if index % 2 else Button.VERY_UNHAPPY
        edge_ms = time.time() * 1000
        pins[button].drive_low()
        deadline = time.monotonic() + 10
        while (shown := driver.execute_script(SHOWN)) is None or shown["event_id"] == last:
            if time.monotonic() > deadline:
                raise SeedError(f"press {index + 1}: no follow-up shown within 10 s")
            time.sleep(0.002)
        pins[button].drive_high()
        last = shown["event_id"]
        shown_ms.append(float(shown["at"]) - edge_ms)
        time.sleep(0.06)  # past the debounce
    return shown_ms


def _memory(folder: Path, seconds: float) -> dict[str, Any]:
    """A kiosk process serving its page to a Chromium: each one's resident memory."""
    config = folder / "kiosk.toml"
    port = _free_port()
    config.write_text(
        'device_id = "bench-kiosk"\nlocation_id = "bench"\n'
        f'data_dir = "{folder / "rss"}"\n'
        f'[mqtt]\nurl = "{OFFLINE_BROKER}"\nreconnect_min_s = 5\n'
        f"[display]\nport = {port}\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "edge.cli", "run", "--simulate", "--config", str(config),
         "--speed", "50", "--log-level", "WARNING"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(2)
        with chromium(TOUCH_DISPLAY) as driver:
            _open(driver, f"http://127.0.0.1:{port}/")
            time.sleep(seconds)
            kiosk = _proc_status(process.pid)
            browser = _tree_pss(driver.service.process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {"kiosk": {"rss": kiosk["VmRSS"], "peak": kiosk["VmHWM"]}, "chromium_pss": browser}


def _tree_pss(root: int) -> float:
    """Proportional set size (shared pages split between their users) of a process's
    descendants (chromedriver's Chromium), summed, in MB: summed RSS would count Chromium's
    shared libraries once per process."""
    children: dict[int, list[int]] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
            )
        except OSError:
            continue
        children.setdefault(int(fields["PPid"]), []).append(int(status.parent.name))
    total, stack = 0.0, list(children.get(root, []))
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
        except OSError:
            continue
        total += sum(int(line.split()[1]) for line in rollup if line.startswith("Pss:")) / 1024
    return round(total, 1)


def _free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
