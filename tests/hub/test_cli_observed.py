"""`seed-hub report` shows the cameras' reading only for groups of at least k readings (k from
the hub's settings, SEED_HUB_CAMERA_MIN_READINGS), with its coverage."""

import json
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub.cli import main
from hub.db import make_engine, session_factory
from hub.ingest import store
from protocol.messages import Button, ObservedEmotion
from tests.hub.factories import NOON, press

READING = ObservedEmotion(
    emotions=[0.5] * 26, vad=[0.8, 0.5, 0.5], face_score=0.9, age_s=0, faces=1
)


def _fill(url: str, readings: int, presses: int) -> None:
    """gate-a: `readings` presses with the camera's reading, then `presses` without."""
    sessions: sessionmaker[Session] = session_factory(make_engine(url))
    events = [
        press(Button.HAPPY, seq=n, at=NOON + timedelta(minutes=n))
        for n in range(1, readings + presses + 1)
    ]
    read = [e.model_copy(update={"emotion": READING}) for e in events[:readings]]
    with sessions.begin() as session:
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
    assert line.split()[-2:] == ["<10", "-"]


def test_ten_readings_show_the_observed_index_with_its_coverage(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(sqlite_url, 10, 6)
    row, line = _report(sqlite_url, capsys)
    observed = row["observed"]
    assert isinstance(observed, dict)
    assert (observed["readings"], observed["presses"], observed["coverage"]) == (10, 16, 0.625)
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
