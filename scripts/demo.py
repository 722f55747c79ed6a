"""The one-box demo: a hub with its embedded broker and SQLite, six simulated kiosks at
three touchpoints of an airport, four weeks of history, live per-location scores.

    make demo                    # runs until Ctrl-C
    DEMO_SECONDS=60 make demo    # stops by itself, prints the final report, exits 0

Before the kiosks start, the hub's database is seeded with four weeks of plausible history
(`seed_history`, through the hub's own store path, so the rollups are exact): an airport's
day and week in Helsinki time, hundreds of presses a day per touchpoint, each touchpoint
its own mood (security sours at the morning peak, the washroom in the evening and week by
week, the gate on Friday and Sunday evenings), about 3 % misuse. So heat maps, trends and
rankings are full when the dashboard first opens. The live kiosks then press on top of it,
in compressed time but never within their response interval, except for the simulator's
deliberate misuse (about 3 %).

Everything lives in var/demo/ (or $DEMO_DIR), wiped at each start. Each kiosk is a real
`seed-kiosk run --simulate` process on gpiozero's mock pins; the hub is a real
`seed-hub serve`. If port 1883 is taken the hub's embedded broker takes a free port and
says which. Where the FER2013 faces are at hand ($SEED_FER2013_DIR, default
../shared/data/fer2013), the gate's kiosk has its camera on, reading a folder of faces,
and the report shows the observed index beside the Happy Index.
"""

import contextlib
import heapq
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from edge.recorder import MisuseWindow
from edge.simulate import AIRPORT_DAY, GAP_MARGIN_S, MAX_LOAD, press_schedule
from hub.cli import format_table
from hub.cli import main as seed_hub
from hub.db import make_engine, open_session, session_factory
from hub.ingest.store import polarity, store_events, store_followups
from hub.models import Event
from hub.reporting.analytics import rolled_up_report
from hub.surveys.definition import load_survey_file
from protocol.ids import uuid7
from protocol.messages import FollowUp, PressEvent

ROOT = Path(__file__).resolve().parent.parent
WORKDIR = Path(os.environ.get("DEMO_DIR", ROOT / "var" / "demo"))
BIN = Path(sys.executable).parent
TIME_ZONE = "Europe/Helsinki"
PRESSES_PER_KIOSK_PER_S = 0.1  # compressed time: a one-minute demo has numbers to show
PEAK_PER_HOUR = 90
RESPONSE_INTERVAL_S = 5.0  # the kiosks' (their default, which the simulator assumes)
MISUSE_SHARE = 0.03
# Travellers one at a time, each at least the response interval after the last (and so
# further apart than the hub's min_press_interval_s, 1 s): the live rate must leave room.
assert PRESSES_PER_KIOSK_PER_S * (RESPONSE_INTERVAL_S + GAP_MARGIN_S) < MAX_LOAD

HISTORY_DAYS = 28
HISTORY_SEED = 15
HISTORY_BATCH = 2000  # presses per store_events call (one transaction each)
# Relative traffic Monday..Sunday: Friday and Sunday busy, Saturday quiet.
AIRPORT_WEEK = (1.05, 0.95, 0.95, 1.0, 1.15, 0.8, 1.1)


DEMO_FACES = 40
FRAMES_PER_FACE = 3
FACE_PLACES = (-170, 0, 170)  # pixels from the centre


@dataclass(frozen=True)
class DemoKiosk:
    device_id: str
    location_id: str
    mood: tuple[float, float, float, float]
    history_peak_per_hour: float
    """Presses in the history's busiest hour, a real (uncompressed) rate."""
    camera: bool = False


SITE = ("hel", "Helsinki Airport")
AREAS = {"hel-t2": "Terminal 2", "hel-gates": "Gates"}
LOCATIONS = {
    "hel-t2-security": "Terminal 2 security check",
    "hel-t2-washroom-b": "Terminal 2 washroom B",
    "hel-gate-31": "Gate 31",
}
AREA_OF = {"hel-t2-security": "hel-t2", "hel-t2-washroom-b": "hel-t2", "hel-gate-31": "hel-gates"}
SURVEYS = ROOT / "firmware_config" / "surveys"
SURVEY_OF = {"hel-t2-security": "security", "hel-t2-washroom-b": "washroom", "hel-gate-31": "gate"}
LANGUAGES = "en,nl,zh-Hans,fa"
ANSWER_SHARE = 0.7  # of the follow-ups shown, the share a traveller answers
# What each touchpoint's travellers say, as weights of the survey's options: sour hours
# (see `sourness`) add to the first negative reason.
REASONS = {
    "hel-t2-security": {"queue": 3.0, "staff": 1.0, "rules": 1.0, "other": 0.5, "fast": 3.0},
    "hel-t2-washroom-b": {"cleanliness": 3.0, "supplies": 2.0, "smell": 1.0, "queue": 0.5},
    "hel-gate-31": {"delay": 2.0, "information": 1.5, "seats": 1.0, "boarding": 2.0},
}
DISPLAY_KIOSK = "hel-gate-31-01"
DISPLAY_PORT = int(os.environ.get("DEMO_PAGE_PORT", "8765"))
SOUR_REASON = {
    "hel-t2-security": "queue",
    "hel-t2-washroom-b": "cleanliness",
    "hel-gate-31": "delay",
}
DEMO_USER = "demo"
KIOSKS = [
    DemoKiosk("hel-t2-sec-01", "hel-t2-security", (0.35, 0.30, 0.20, 0.15), 20),
    DemoKiosk("hel-t2-sec-02", "hel-t2-security", (0.35, 0.30, 0.20, 0.15), 20),
    DemoKiosk("hel-t2-sec-03", "hel-t2-security", (0.30, 0.30, 0.22, 0.18), 16),
    DemoKiosk("hel-t2-wc-b-01", "hel-t2-washroom-b", (0.30, 0.30, 0.24, 0.16), 18),
    DemoKiosk("hel-t2-wc-b-02", "hel-t2-washroom-b", (0.32, 0.30, 0.22, 0.16), 14),
    DemoKiosk("hel-gate-31-01", "hel-gate-31", (0.55, 0.30, 0.10, 0.05), 28, camera=True),
]


def sourness(location_id: str, local: datetime, age_days: float) -> float:
    """How sour a touchpoint is (0..1) at a local time, `age_days` before now."""
    hour, weekday = local.hour, local.weekday()
    if location_id == "hel-t2-security":  # queues at the morning peak; a lane added 10 days ago
        peak = 1.0 if 5 <= hour <= 8 else 0.4 if 16 <= hour <= 18 else 0.0
        return peak * (1.0 if age_days > 10 else 0.6)
    if location_id == "hel-t2-washroom-b":  # cleaned at six; worse by the evening, and weekly
        evening = min(1.0, max(0.0, (hour - 9) / 10))
        return evening * (1.0 - 0.5 * age_days / HISTORY_DAYS)
    return 0.6 if weekday in (4, 6) and hour >= 17 else 0.0  # the gate: weekend-evening delays


def soured(mood: Sequence[float], sour: float) -> tuple[float, float, float, float]:
    """`mood` with up to 70 % of its positive weight moved to the two negative buttons."""
    very_happy, happy, unhappy, very_unhappy = mood
    moved = (very_happy + happy) * 0.7 * sour
    keep = 1 - 0.7 * sour
    return (very_happy * keep, happy * keep, unhappy + moved * 0.4, very_unhappy + moved * 0.6)


def _history_of(
    kiosk: DemoKiosk, index: int, *, start: datetime, end: datetime, seed: int
) -> Iterator[PressEvent]:
    """One kiosk's presses from `start` to `end`: the live simulator's schedule at real
    speed, with the airport's week and the touchpoint's moods; misuse as the kiosk flags it."""
    zone = ZoneInfo(TIME_ZONE)
    end_s = end.timestamp()

    def local(t: float) -> datetime:
        return datetime.fromtimestamp(t, zone)

    def rate_at(t: float) -> float:
        moment = local(t)
        week = AIRPORT_WEEK[moment.weekday()]
        return kiosk.history_peak_per_hour * AIRPORT_DAY[moment.hour] * week / 3600

    def mood_at(t: float) -> tuple[float, float, float, float]:
        return soured(kiosk.mood, sourness(kiosk.location_id, local(t), (end_s - t) / 86_400))

    schedule = press_schedule(
        random.Random(seed * 1000 + index),
        rate_at=rate_at,
        mood_at=mood_at,
        misuse_share=MISUSE_SHARE,
        response_interval_s=RESPONSE_INTERVAL_S,
        start_s=start.timestamp(),
    )
    window = MisuseWindow(RESPONSE_INTERVAL_S)
    at_s = start.timestamp()
    for seq, scheduled in enumerate(schedule, start=1):
        at_s += scheduled.wait_s
        if at_s >= end_s:
            return
        yield PressEvent(
            event_id=str(uuid7(int(at_s * 1000))),
            device_id=kiosk.device_id,
            location_id=kiosk.location_id,
            seq=seq,
            occurred_at=datetime.fromtimestamp(at_s, UTC),
            button=scheduled.button,
            misuse=window.is_misuse(at_s),
            survey_id=SURVEY_OF[kiosk.location_id],
            survey_version=1,
        )


def history(
    now: datetime, *, days: int = HISTORY_DAYS, seed: int = HISTORY_SEED
) -> list[PressEvent]:
    """Every demo kiosk's presses over the `days` before `now`, in time order."""
    start = now - timedelta(days=days)
    return list(
        heapq.merge(
            *(
                _history_of(kiosk, index, start=start, end=now, seed=seed)
                for index, kiosk in enumerate(KIOSKS)
            ),
            key=lambda event: event.occurred_at,
        )
    )


def seed_history(sessions: sessionmaker[Session], presses: Sequence[PressEvent]) -> None:
    """Store `presses` (in time order) as the hub stores what kiosks send: `store_events` in
    batches, each received a moment after its last press, so the rollups are exact."""
    for first in range(0, len(presses), HISTORY_BATCH):
        batch = presses[first : first + HISTORY_BATCH]
        with sessions.begin() as session:
            store_events(
                session, events=batch, received_at=batch[-1].occurred_at + timedelta(seconds=2)
            )
    with sessions.begin() as session:
        add_history_followups(session, presses)


def add_history_followups(session: Session, presses: Sequence[PressEvent]) -> int:
    """Each seeded press (not misuse) its follow-up, as the kiosk would have recorded it: most
    answered, with the reasons that fit the touchpoint and its sour hours (security: the
    queue at the morning peak; the washroom: dirty by the evening; the gate: delays), the
    rest shown and left. Stored through the hub's own path; returns how many."""
    rng = random.Random(HISTORY_SEED)
    surveys = {name: load_survey_file(SURVEYS / f"{name}.toml") for name in SURVEY_OF.values()}
    zone, end = ZoneInfo(TIME_ZONE), presses[-1].occurred_at if presses else datetime.now(UTC)
    followups = []
    for press in presses:
        survey = surveys[SURVEY_OF[press.location_id]].survey
        question = polarity(press.button.value)
        follow_up = survey.follow_up(question)  # type: ignore[arg-type]
        if press.misuse or follow_up is None:
            continue
        option = None
        if rng.random() < ANSWER_SHARE:
            sour = sourness(
                press.location_id,
                press.occurred_at.astimezone(zone),
                (end - press.occurred_at).total_seconds() / 86_400,
            )
            keys = [o.key for o in follow_up.options]
            weights = [
                REASONS[press.location_id].get(key, 1.0)
                + (6.0 * sour if key == SOUR_REASON[press.location_id] else 0.0)
                for key in keys
            ]
            option = rng.choices(keys, weights)[0]
        followups.append(
            FollowUp(
                followup_id=str(uuid7(int(press.occurred_at.timestamp() * 1000) + 4000)),
                event_id=press.event_id,
                device_id=press.device_id,
                location_id=press.location_id,
                survey_id=survey.survey_id,
                survey_version=survey.version,
                question=question,
                option=option,
                language=rng.choice(["en", "en", "nl", "zh-Hans", "fa"]),
                answered_at=press.occurred_at + timedelta(seconds=rng.uniform(2, 7)),
            )
        )
    for first in range(0, len(followups), HISTORY_BATCH):
        batch = followups[first : first + HISTORY_BATCH]
        store_followups(session, followups=batch, received_at=batch[-1].answered_at)
    return len(followups)


def _speed(hour: int | None = None) -> float:
    """Scale the daily pattern so that, whatever the hour (now), kiosks press at the demo rate."""
    hour = datetime.now(ZoneInfo(TIME_ZONE)).hour if hour is None else hour
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
        f"response_interval_s = {RESPONSE_INTERVAL_S}\n"
        "[mqtt]\nack_timeout_s = 10\n" + _display_section(kiosk) + "[simulation]\n"
        f"peak_presses_per_hour = {PEAK_PER_HOUR}\n"
        f"answer_share = {ANSWER_SHARE}\n"
        f"reasons = {_toml_table(REASONS[kiosk.location_id])}\n"
        f"mood = {list(kiosk.mood)}\n"
        f"misuse_share = {MISUSE_SHARE}\n"
        f'time_zone = "{TIME_ZONE}"\n'
        f"seed = {index}\n" + _camera_section(faces if kiosk.camera else None)
    )
    return path


def _display_section(kiosk: DemoKiosk) -> str:
    """The gate's kiosk has a touch display: its page, on `DISPLAY_PORT`, is the demo's to
    open in a browser."""
    if kiosk.device_id != DISPLAY_KIOSK:
        return ""
    return f"[display]\nport = {DISPLAY_PORT}\nlanguages = {LANGUAGES.split(',')}\n"


def _toml_table(weights: dict[str, float]) -> str:
    return "{ " + ", ".join(f"{key} = {value}" for key, value in weights.items()) + " }"


def _hub_env() -> dict[str, str]:
    return {
        **os.environ,
        "SEED_HUB_DATA_DIR": str(WORKDIR / "hub"),
        "SEED_HUB_CLIENT_ID": "seed-hub-demo",
    }


def _seed_hub(*args: str) -> str:
    """A `seed-hub` command run in this process, as a technician would type it; its output.
    (A process each cost seconds of imports, a minute of the demo's start in all.)"""
    os.environ.update(_hub_env())
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = seed_hub(["--log-level", "WARNING", *args])
    if code != 0:
        raise SystemExit(f"demo: `seed-hub {' '.join(args)}` failed (exit {code})")
    return output.getvalue()


def _register_locations() -> None:
    """The airport's tree: site, areas, touchpoints (named), the airport's languages, a survey
    at each touchpoint, and a kiosk registered at each."""
    for location_id, name in (SITE, *AREAS.items(), *LOCATIONS.items()):
        _seed_hub("locations", "add", location_id, "--name", name, "--tz", TIME_ZONE)
    for kiosk in KIOSKS:
        area = AREA_OF[kiosk.location_id]
        _seed_hub(
            "devices", "add", kiosk.device_id, "--site", SITE[0], "--area", area,
            "--location", kiosk.location_id,
        )  # fmt: skip
    # once the tree stands: a subtree's languages reach only the places already beneath it
    _seed_hub("surveys", "languages", SITE[0], LANGUAGES)
    _approve_cameras()
    for location_id, survey in SURVEY_OF.items():
        _seed_hub("surveys", "create", str(SURVEYS / f"{survey}.toml"))
        _seed_hub("surveys", "assign", survey, location_id)


def _approve_cameras() -> None:
    """The gate's camera reads FER2013 faces from a folder, yet the hub turns a camera off
    where no approval covers it (docs/camera.md): record the demo's own."""
    _seed_hub(
        "camera", "approve", SITE[0], "--approved-by", "Demo data-protection officer",
        "--impact-assessment", "DEMO-DPIA-1 (demo: FER2013 faces from a folder)",
        "--approved-on", f"{datetime.now(UTC):%Y-%m-%d}", "--deployer", SITE[1] + " (demo)",
        "--contact", "privacy@example.com", "--legal-basis", "demo only: no person is filmed",
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


def _hub_url() -> str:
    return f"sqlite:///{WORKDIR / 'hub' / 'hub.sqlite3'}"


def _seed_history(now: datetime) -> str:
    """Four weeks of history into the hub's database (before the hub starts); says what."""
    started = time.monotonic()
    presses = history(now)
    engine = make_engine(_hub_url())
    try:
        seed_history(session_factory(engine), presses)
    finally:
        engine.dispose()
    misuse = sum(press.misuse for press in presses)
    return (
        f"seeded {HISTORY_DAYS} days of history: {len(presses)} presses at "
        f"{len(LOCATIONS)} touchpoints, {misuse / len(presses):.1%} misuse "
        f"({time.monotonic() - started:.1f} s)"
    )


def _tally(since: datetime) -> str:
    """The presses stored since `since` (the live ones), and the share flagged as misuse."""
    with open_session(_hub_url()) as session:
        presses, misuse = session.execute(
            select(func.count(), func.count().filter(Event.misuse.is_(True))).where(
                Event.occurred_at >= since
            )
        ).one()
    share = f", {misuse} misuse ({misuse / presses:.1%})" if presses else ""
    return f"{presses} live presses{share}"


def _report(*, as_json: bool = False) -> str:
    with open_session(_hub_url()) as session:
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
    seeded_until = datetime.now(UTC)
    print(_seed_history(seeded_until))
    hub, broker_url, dashboard_url = _start_hub()
    print(f"hub up; MQTT broker at {broker_url}; data and logs in {WORKDIR}")
    print(f"dashboard at {dashboard_url}: sign in as {DEMO_USER!r} with password {password!r}")
    print(
        f"the gate's touch display at http://127.0.0.1:{DISPLAY_PORT}/ (press a smiley; "
        "DEMO_PAGE_PORT=N moves it)"
    )
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
            print(f"\n--- {datetime.now():%H:%M:%S}, per-location scores, {HISTORY_DAYS} days ---")
            print(_report())
            print(_tally(seeded_until))
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
    print(f"{HISTORY_DAYS} days of seeded history, then {_tally(seeded_until)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
