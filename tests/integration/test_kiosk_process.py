"""`seed-kiosk run --simulate` as a technician starts it, and as a power cut ends it."""

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from hub.app import Hub
from hub.models import Device
from lab.mosquitto import MosquittoProcess
from tests.helpers import wait_until

CONFIG = """
device_id = "sec-01"
location_id = "security"
data_dir = "state"
heartbeat_s = 1
[simulation]
speed = 200
"""


def device_state(hub: Hub) -> str | None:
    """The kiosk's state in the hub's registry, None before the hub has heard of it."""
    with hub.sessions() as session:
        device = session.get(Device, "sec-01")
        return device.state if device else None


def start_kiosk_process(tmp_path: Path, broker_url: str) -> subprocess.Popen[bytes]:
    config = tmp_path / "kiosk.toml"
    config.write_text(CONFIG)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "edge.cli",
            "run",
            "--simulate",
            "--config",
            str(config),
            "--broker",
            broker_url,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_killed_kiosk_is_marked_offline_by_its_last_will(
    tmp_path: Path, mosquitto: MosquittoProcess, start_hub: Callable[..., Hub]
) -> None:
    hub = start_hub(mosquitto.url)
    kiosk = start_kiosk_process(tmp_path, mosquitto.url)
    try:
        wait_until(lambda: device_state(hub) == "online", 30, "kiosk online")
        kiosk.send_signal(signal.SIGKILL)  # a power cut: no goodbye
        kiosk.wait(10)
        wait_until(lambda: device_state(hub) == "offline", 30, "the last-will")
    finally:
        kiosk.kill()


def test_a_stopped_kiosk_says_goodbye_and_exits_cleanly(
    tmp_path: Path, mosquitto: MosquittoProcess, start_hub: Callable[..., Hub]
) -> None:
    hub = start_hub(mosquitto.url)
    kiosk = start_kiosk_process(tmp_path, mosquitto.url)
    wait_until(lambda: device_state(hub) == "online", 30, "kiosk online")
    kiosk.send_signal(signal.SIGTERM)
    assert kiosk.wait(20) == 0
    wait_until(lambda: device_state(hub) == "offline", 10, "the goodbye")


def test_a_bad_config_is_refused_with_what_to_fix(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(CONFIG.replace("heartbeat_s", "heartbeat_secs"))
    result = subprocess.run(
        [sys.executable, "-m", "edge.cli", "run", "--simulate", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "heartbeat_secs" in result.stderr and str(config) in result.stderr
