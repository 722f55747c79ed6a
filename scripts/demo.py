"""The one-box demo: a hub with its embedded broker and SQLite, six simulated kiosks at
three touchpoints of an airport, live per-location scores.

    make demo                    # runs until Ctrl-C
    DEMO_SECONDS=60 make demo    # stops by itself, prints the final report, exits 0

Everything lives in var/demo/ (or $DEMO_DIR), wiped at each start. Each kiosk is a real
`seed-kiosk run --simulate` process on gpiozero's mock pins; the hub is a real
`seed-hub serve`. If port 1883 is taken the hub's embedded broker takes a free port and
says which. Where the FER2013 faces are at hand ($SEED_FER2013_DIR, default
../shared/data/fer2013), the gate's kiosk has its camera on, reading a folder of faces,
and the report shows the observed index beside the Happy Index.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from edge.simulate import AIRPORT_DAY
from hub.cli import format_table
from hub.db import open_session
from hub.reporting.analytics import rolled_up_report

ROOT = Path(__file__).resolve().parent.parent
WORKDIR = Path(os.environ.get("DEMO_DIR", ROOT / "var" / "demo"))
BIN = Path(sys.executable).parent
TIME_ZONE = "Europe/Helsinki"
PRESSES_PER_KIOSK_PER_S = 0.15  # compressed time: a one-minute demo has numbers to show
PEAK_PER_HOUR = 90


DEMO_FACES = 40
FRAMES_PER_FACE = 3
FACE_PLACES = (-170, 0, 170)  # pixels from the centre


@dataclass(frozen=True)
class DemoKiosk:
    device_id: str
    location_id: str
    mood: tuple[float, float, float, float]
    camera: bool = False


SITE = ("hel", "Helsinki Airport")
AREAS = {"hel-t2": "Terminal 2", "hel-gates": "Gates"}
LOCATIONS = {
    "hel-t2-security": "Terminal 2 security check",
    "hel-t2-washroom-b": "Terminal 2 washroom B",
    "hel-gate-31": "Gate 31",
}
AREA_OF = {"hel-t2-security": "hel-t2", "hel-t2-washroom-b": "hel-t2", "hel-gate-31": "hel-gates"}
DEMO_USER = "demo"
KIOSKS = [
    DemoKiosk("hel-t2-sec-01", "hel-t2-security", (0.35, 0.30, 0.20, 0.15)),
    DemoKiosk("hel-t2-sec-02", "hel-t2-security", (0.35, 0.30, 0.20, 0.15)),
    DemoKiosk("hel-t2-sec-03", "hel-t2-security", (0.30, 0.30, 0.22, 0.18)),
    DemoKiosk("hel-t2-wc-b-01", "hel-t2-washroom-b", (0.20, 0.25, 0.30, 0.25)),
    DemoKiosk("hel-t2-wc-b-02", "hel-t2-washroom-b", (0.22, 0.25, 0.28, 0.25)),
    DemoKiosk("hel-gate-31-01", "hel-gate-31", (0.55, 0.30, 0.10, 0.05), camera=True),
]


def _speed() -> float:
    """Scale the daily pattern so that, whatever the hour now, kiosks press at the demo rate."""
    hour = datetime.now(ZoneInfo(TIME_ZONE)).hour
    return PRESSES_PER_KIOSK_PER_S * 3600 / (PEAK_PER_HOUR * AIRPORT_DAY[hour])


def _camera_faces() -> Path | None:
    """Frames of FER2013 faces for the camera kiosk, if the data and the model are here.

    Each face stays for three frames, at one of three places in turn, so the camera's
    footfall counter sees a stream of distinct passers-by."""
    try:
        import cv2  # noqa: PLC0415
        import numpy as np  # noqa: PLC0415

        from edge.camera.faces import default_faces_file, face_on_background, load_faces  # noqa: PLC0415
    except ImportError:
        return None
    source = default_faces_file()
    if not source.is_file() or not (ROOT / "models" / "emotion26.json").is_file():
        return None
    images, _labels = load_faces(source)
    folder = WORKDIR / "faces"
    folder.mkdir(parents=True, exist_ok=True)
    for index, face in enumerate(images[:DEMO_FACES]):
        shift = FACE_PLACES[index % len(FACE_PLACES)]
        frame = np.roll(face_on_background(face), shift, axis=1)
        for copy in range(FRAMES_PER_FACE):
            cv2.imwrite(str(folder / f"{index:03d}-{copy}.png"), frame)
    return folder


def _camera_section(faces: Path | None) -> str:
    if faces is None:
        return ""
    return f'[camera]\nenabled = true\nsource = "{faces}"\nfps = 5\nambient = true\n'


def _kiosk_config(kiosk: DemoKiosk, index: int, faces: Path | None) -> Path:
    path = WORKDIR / "kiosks" / f"{kiosk.device_id}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f'device_id = "{kiosk.device_id}"\n'
        f'location_id = "{kiosk.location_id}"\n'
        f'data_dir = "{kiosk.device_id}"\n'
        "heartbeat_s = 10\n"
        "[mqtt]\nack_timeout_s = 10\n"
        "[simulation]\n"
        f"peak_presses_per_hour = {PEAK_PER_HOUR}\n"
        f"mood = {list(kiosk.mood)}\n"
        f'time_zone = "{TIME_ZONE}"\n'
        f"seed = {index}\n" + _camera_section(faces if kiosk.camera else None)
    )
    return path


def _hub_env() -> dict[str, str]:
    return {
        **os.environ,
        "SEED_HUB_DATA_DIR": str(WORKDIR / "hub"),
        "SEED_HUB_CLIENT_ID": "seed-hub-demo",
    }


def _seed_hub(*args: str) -> str:
    done = subprocess.run(
        [BIN / "seed-hub", "--log-level", "WARNING", *args],
        env=_hub_env(),
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def _register_locations() -> None:
    """The airport's tree: site, areas, touchpoints (named), and a kiosk registered at each."""
    for location_id, name in (SITE, *AREAS.items(), *LOCATIONS.items()):
        _seed_hub("locations", "add", location_id, "--name", name, "--tz", TIME_ZONE)
    for kiosk in KIOSKS:
        area = AREA_OF[kiosk.location_id]
        _seed_hub(
            "devices", "add", kiosk.device_id, "--site", SITE[0], "--area", area,
            "--location", kiosk.location_id,
        )  # fmt: skip


def _add_demo_user() -> str:
    """An admin for the dashboard, with a fresh random password; returns it."""
    output = _seed_hub("users", "add", DEMO_USER, "--role", "admin")
    return output.split("password ")[1].split(" ")[0]


def _start_hub() -> tuple[subprocess.Popen[str], str, str]:
    """The hub, its broker's URL and its dashboard's URL."""
    log = (WORKDIR / "hub.log").open("w")
    hub = subprocess.Popen(
        [BIN / "seed-hub", "serve"], env=_hub_env(), text=True, stdout=subprocess.PIPE, stderr=log
    )
    assert hub.stdout is not None
    broker_url = ""
    for line in hub.stdout:
        if "ingesting from" in line:
            broker_url = line.rsplit(" ", 1)[-1].strip()
        if "dashboard at" in line:
            return hub, broker_url, line.rsplit(" ", 1)[-1].strip()
    raise SystemExit(f"the hub did not start; see {WORKDIR / 'hub.log'}")


def _start_kiosks(broker_url: str, faces: Path | None) -> list[subprocess.Popen[bytes]]:
    speed = f"{_speed():.2f}"
    processes = []
    for index, kiosk in enumerate(KIOSKS):
        log = (WORKDIR / f"{kiosk.device_id}.log").open("w")
        processes.append(
            subprocess.Popen(
                [
                    BIN / "seed-kiosk",
                    "run",
                    "--simulate",
                    "--config",
                    _kiosk_config(kiosk, index, faces),
                    "--broker",
                    broker_url,
                    "--speed",
                    speed,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    return processes


def _report(*, as_json: bool = False) -> str:
    with open_session(f"sqlite:///{WORKDIR / 'hub' / 'hub.sqlite3'}") as session:
        rows = [score.as_dict() for score in rolled_up_report(session)]
    return json.dumps(rows, indent=2) if as_json else format_table(rows)


def _stop(processes: list[subprocess.Popen[bytes]] | list[subprocess.Popen[str]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait(timeout=30)


def main() -> int:
    seconds = float(os.environ.get("DEMO_SECONDS", "0")) or None
    shutil.rmtree(WORKDIR, ignore_errors=True)
    WORKDIR.mkdir(parents=True)
    _register_locations()
    password = _add_demo_user()
    hub, broker_url, dashboard_url = _start_hub()
    print(f"hub up; MQTT broker at {broker_url}; data and logs in {WORKDIR}")
    print(f"dashboard at {dashboard_url}: sign in as {DEMO_USER!r} with password {password!r}")
    faces = _camera_faces()
    kiosks = _start_kiosks(broker_url, faces)
    camera = "the gate's kiosk reads faces from " + str(faces) if faces else "no camera"
    print(
        f"{len(kiosks)} simulated kiosks at {len(LOCATIONS)} locations ({camera}); "
        + (f"stopping after {seconds:.0f} s" if seconds else "Ctrl-C to stop")
    )
    started = time.monotonic()
    try:
        while seconds is None or time.monotonic() - started < seconds:
            left = seconds - (time.monotonic() - started) if seconds else 5.0
            time.sleep(max(0.0, min(5.0, left)))
            print(f"\n--- {datetime.now():%H:%M:%S}, live per-location scores ---")
            print(_report())
    except KeyboardInterrupt:
        pass
    finally:
        _stop(kiosks)
        _stop([hub])
    final = _report(as_json=True)
    (WORKDIR / "report.json").write_text(final + "\n")
    print("\n=== final report (seed-hub report --json) ===")
    print(final)
    print(f"\n{_report()}\n(also in {WORKDIR / 'report.json'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
