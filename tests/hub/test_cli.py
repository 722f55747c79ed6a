"""The hub's command line as a technician and a script use it."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from hub.cli import main
from hub.db import make_engine, session_factory
from hub.ingest import store
from hub.models import Device, Location
from protocol.messages import Button
from tests.hub.factories import NOON, place, press

REPORT_KEYS = {
    "location",
    "responses",
    "counts",
    "happy_index",
    "positive_share",
    "positive_ci",
    "misuse",
}


def _fill(url: str) -> None:
    sessions: sessionmaker[Session] = session_factory(make_engine(url))
    events = [press(Button.VERY_HAPPY), *(press(b) for b in Button)]
    with sessions.begin() as session:
        store.store_events(session, events=events, received_at=NOON)


def test_report_json_has_the_promised_shape(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(sqlite_url)
    assert main(["report", "--json", "--db", sqlite_url]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert set(row) >= REPORT_KEYS
    assert row["responses"] == 5
    assert set(row["counts"]) == {"very_happy", "happy", "unhappy", "very_unhappy"}
    assert row["happy_index"] == pytest.approx(round(100 * (6 + 2 + 1) / 15, 1))


def test_report_takes_a_period_and_the_db_from_the_environment(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(sqlite_url)
    monkeypatch.setenv("SEED_HUB_DB", sqlite_url)
    assert (
        main(
            [
                "report",
                "--json",
                "--since",
                "2026-11-23T12:00:00Z",
                "--until",
                "2026-11-23T12:00:01",
            ]
        )
        == 0
    )
    (row,) = json.loads(capsys.readouterr().out)
    assert row["responses"] == 5
    assert main(["report", "--json", "--since", "2026-11-23T13:00"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["responses"] == 0


def _airport(url: str) -> None:
    """HEL -> T2 -> gate-1 (VH, H, U and a misused H), gate-2 (VU, VU)."""
    engine = make_engine(url)
    with session_factory(engine).begin() as session:
        place(session, "hel", kind="site")
        place(session, "t2", kind="area", parent="hel")
        place(session, "gate-1", parent="t2")
        place(session, "gate-2", parent="t2")
        gate_1 = [Button.VERY_HAPPY, Button.HAPPY, Button.UNHAPPY]
        events = [press(b, location_id="gate-1", seq=i) for i, b in enumerate(gate_1, start=1)]
        events.append(press(Button.HAPPY, location_id="gate-1", seq=4, misuse=True))
        events += [
            press(Button.VERY_UNHAPPY, location_id="gate-2", device_id="k2", seq=seq)
            for seq in (1, 2)
        ]
        store.store_events(session, events=events, received_at=NOON)
    engine.dispose()


def test_report_rolls_sites_and_areas_up_from_their_touchpoints(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _airport(db_url)
    assert main(["report", "--json", "--db", db_url]) == 0
    rows = {row["location"]: row for row in json.loads(capsys.readouterr().out)}
    assert (rows["gate-1"]["responses"], rows["gate-2"]["responses"]) == (3, 2)
    summed = {"very_happy": 1, "happy": 1, "unhappy": 1, "very_unhappy": 2}
    for parent in ("t2", "hel"):
        assert rows[parent]["responses"] == 5
        assert rows[parent]["counts"] == summed
        assert rows[parent]["misuse"] == 1
        assert rows[parent]["happy_index"] == pytest.approx(round(100 * (3 + 2 + 1) / 15, 1))

    assert main(["report", "--db", db_url]) == 0
    lines = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[2:]}
    location, responses, index, *_, misuse, _observed, _gap = lines["hel"]
    assert (location, responses, index, misuse) == ("hel", "5", "40", "1")

    assert main(["report", "--json", "--include-misuse", "--db", db_url]) == 0
    rows = {row["location"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["hel"]["responses"] == rows["gate-1"]["responses"] + 2 == 6


def test_locations_and_devices_are_registered_from_the_command_line(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "locations",
                "add",
                "gate-a",
                "--name",
                "Gate A",
                "--tz",
                "Europe/Helsinki",
                "--db",
                sqlite_url,
            ]
        )
        == 0
    )
    assert main(["devices", "add", "k1", "--location", "gate-a", "--db", sqlite_url]) == 0
    assert main(["devices", "list", "--db", sqlite_url]) == 0
    assert "k1" in capsys.readouterr().out


def test_text_stored_before_it_was_checked_reaches_the_terminal_escaped(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["locations", "add", "gate-a", "--tz", "UTC", "--db", sqlite_url]) == 0
    assert main(["devices", "add", "k1", "--location", "gate-a", "--db", sqlite_url]) == 0
    sessions: sessionmaker[Session] = session_factory(make_engine(sqlite_url))
    with sessions.begin() as session:
        session.execute(update(Location).values(name="Gate A\r\nforged line\x1b[2J"))
        session.execute(update(Device).values(config_error="bad\x1b]8;;http://x\x07 \u202elink"))
    capsys.readouterr()
    assert main(["locations", "list", "--db", sqlite_url]) == 0
    assert main(["devices", "list", "--db", sqlite_url]) == 0
    printed = capsys.readouterr().out
    assert "Gate A\\r\\nforged line\\x1b[2J" in printed
    assert "REFUSED: bad\\x1b]8;;http://x\\x07 \\u202elink" in printed
    assert not {"\r", "\x1b", "\x07", "\u202e"} & set(printed)


def test_bad_input_on_the_command_line_gets_a_clear_message(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["locations", "add", "gate-a", "--tz", "Mars/Base", "--db", sqlite_url]) == 2
    assert "IANA" in capsys.readouterr().err
    assert main(["devices", "add", "k1", "--location", "nowhere", "--db", sqlite_url]) == 2
    assert "locations add nowhere" in capsys.readouterr().err
    assert main(["serve", "--broker", "http://x"]) == 2
    assert "mqtt://host:port" in capsys.readouterr().err


def test_a_bad_setting_is_named_by_its_variable_and_a_flag_overrides_it(
    sqlite_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SEED_HUB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SEED_HUB_WEB_PORT", "eighty")
    assert main(["report", "--db", sqlite_url]) == 2
    assert "SEED_HUB_WEB_PORT: Input should be a valid integer" in capsys.readouterr().err
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        serve = ["serve", "--role", "web", "--web-port", "0", "--duration", "0"]
        assert main([*serve, "--db", sqlite_url]) == 0
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    assert "dashboard at http://127.0.0.1:" in capsys.readouterr().out


def test_the_demo_runs_by_itself_and_prints_a_final_report(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, str(root / "scripts" / "demo.py")],
        env={**os.environ, "DEMO_SECONDS": "6", "DEMO_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert {row["location"] for row in report} >= {  # and the site and areas above them
        "hel-t2-security",
        "hel-t2-washroom-b",
        "hel-gate-31",
    }
    assert "final report" in result.stdout


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_db_upgrade_migrates_step_by_step_and_then_says_there_is_nothing_to_do(
    backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> None:
    url = (
        request.getfixturevalue("postgres_url")
        if backend == "postgresql"
        else f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    )
    assert main(["db", "current", "--db", url]) == 0
    assert main(["db", "upgrade", "--revision", "0002", "--db", url]) == 0
    assert main(["db", "upgrade", "--db", url]) == 0
    assert main(["db", "upgrade", "--db", url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "empty (never migrated)"
    assert lines[1] == "schema migrated from empty to 0002"
    assert lines[2].startswith("schema migrated from 0002 to ")
    assert lines[3].startswith("schema already at ")


def test_db_upgrade_to_an_unknown_revision_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    assert main(["db", "upgrade", "--revision", "9999", "--db", url]) == 2
    assert "cannot migrate to '9999'" in capsys.readouterr().err
