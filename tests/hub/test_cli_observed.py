"""`seed-hub report` shows the cameras' reading only for groups of at least k readings (k from
the hub's settings, SEED_HUB_CAMERA_MIN_READINGS), with its coverage, and withholds a group that
less the groups shown beneath it would leave fewer than k."""

import json
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub.cli import main
from hub.db import make_engine, session_factory
from hub.ingest import store
from protocol.messages import Button, ObservedEmotion
from tests.hub.camera.factories import approve_places
from tests.hub.factories import NOON, place, press

READING = ObservedEmotion(
    emotions=[0.5] * 26, vad=[0.8, 0.5, 0.5], face_score=0.9, age_s=0, faces=1
)


def _fill(url: str, readings: int, presses: int, *, gate: str = "gate-a") -> None:
    """`gate`: `readings` presses with the camera's reading, then `presses` without."""
    sessions: sessionmaker[Session] = session_factory(make_engine(url))
    events = [
        press(
            Button.HAPPY,
            device_id=f"k-{gate}",
            location_id=gate,
            seq=n,
            at=NOON + timedelta(minutes=n),
        )
        for n in range(1, readings + presses + 1)
    ]
    read = [e.model_copy(update={"emotion": READING}) for e in events[:readings]]
    with sessions.begin() as session:
        approve_places(session, [gate])  # the hub keeps a reading only where one may be
        store.store_events(session, events=[*read, *events[readings:]], received_at=NOON)


def _report(url: str, capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, object], str]:
    assert main(["report", "--json", "--db", url]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert main(["report", "--db", url]) == 0
    (line,) = capsys.readouterr().out.splitlines()[2:]
    return row, line


def test_nine_readings_show_neither_figures_nor_their_count(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(sqlite_url, 9, 1)
    row, line = _report(sqlite_url, capsys)
    assert row["observed"] is None
    assert (row["observed_suppressed"], row["observed_min_readings"]) == (True, 10)
    assert line.split()[-2:] == ["hidden", "-"]


def test_ten_readings_show_the_observed_index_with_its_coverage(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(sqlite_url, 10, 6)
    row, line = _report(sqlite_url, capsys)
    observed = row["observed"]
    assert isinstance(observed, dict)
    assert (observed["readings"], observed["presses"], observed["coverage"]) == (10, 16, 0.62)
    assert observed["observed_index"] == 80.0
    assert " 80 (62%) " in line  # coverage 62.5 % rounds to even


def test_the_minimum_comes_from_the_hubs_settings(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(sqlite_url, 9, 0)
    monkeypatch.setenv("SEED_HUB_CAMERA_MIN_READINGS", "5")
    row, line = _report(sqlite_url, capsys)
    assert row["observed_min_readings"] == 5
    observed = row["observed"]
    assert isinstance(observed, dict) and observed["readings"] == 9
    assert " 80 (100%) " in line


def test_a_site_less_its_shown_gate_leaving_one_reading_is_withheld(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sessions: sessionmaker[Session] = session_factory(make_engine(sqlite_url))
    with sessions.begin() as session:
        place(session, "hel", kind="site")
        place(session, "gate-a", parent="hel")
        place(session, "gate-b", parent="hel")
    _fill(sqlite_url, 12, 0)
    _fill(sqlite_url, 1, 0, gate="gate-b")
    assert main(["report", "--json", "--db", sqlite_url]) == 0
    rows = {row["location"]: row for row in json.loads(capsys.readouterr().out)}
    assert (rows["hel"]["observed"], rows["hel"]["observed_suppressed"]) == (None, True)
    assert rows["gate-a"]["observed"]["readings"] == 12
    assert (rows["gate-b"]["observed"], rows["gate-b"]["observed_suppressed"]) == (None, True)
