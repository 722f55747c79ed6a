"""Item 13: the hub's files are its own user's alone, whatever the umask, and the first admin's
password never reaches a log."""

import logging
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from hub.cli import main
from hub.config import HubSettings
from hub.db import make_engine, migrate, open_session, session_factory
from hub.file_modes import private_data_dir
from hub.first_admin import first_password_file
from hub.reporting.schedule import ReportScheduler, reports_dir
from hub.users import authenticate
from tests.hub.reporting.report_data import add_presses, add_site

MONDAY = datetime(2026, 11, 23, 8, tzinfo=UTC)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """The usual umask, under which a plain open() makes files everyone may read."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def test_the_sqlite_database_its_journals_and_its_new_folder_are_private(tmp_path: Path) -> None:
    database = tmp_path / "new" / "hub.sqlite3"
    engine = make_engine(f"sqlite:///{database}")
    migrate(engine)
    with engine.begin() as connection:  # the WAL and its index exist while a connection is open
        connection.execute(text("SELECT count(*) FROM users"))
        companions = [database.with_name(database.name + s) for s in ("-wal", "-shm")]
        assert all(path.exists() for path in companions)
        assert {path.name: mode(path) for path in [database, *companions]} == {
            "hub.sqlite3": 0o600,
            "hub.sqlite3-wal": 0o600,
            "hub.sqlite3-shm": 0o600,
        }
    engine.dispose()
    assert mode(database.parent) == 0o700


def test_a_database_an_older_hub_left_readable_is_tightened_with_a_note(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = tmp_path / "hub.sqlite3"
    wal = tmp_path / "hub.sqlite3-wal"
    for path in (database, wal):
        path.touch()
        path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="hub.file_modes"):
        make_engine(f"sqlite:///{database}").dispose()
    assert (mode(database), mode(wal)) == (0o600, 0o600)
    assert f"{database} was mode 0644" in caplog.text


def test_weekly_reports_are_private_and_old_open_ones_are_closed_at_start(tmp_path: Path) -> None:
    settings = HubSettings(data_dir=tmp_path, db=f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    engine = make_engine(settings.database_url)
    migrate(engine)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        add_site(session)
        add_presses(session)
    scheduler = ReportScheduler(settings, sessions, clock=lambda: MONDAY, check_every_s=3600)
    [week] = scheduler.run_once()
    old = reports_dir(settings) / "osl" / "osl-2020-W01.pdf"
    old.parent.mkdir()
    old.parent.chmod(0o755)
    old.write_bytes(b"%PDF-")  # 0644 under this umask: as an older hub left it
    scheduler.start()
    scheduler.stop()
    engine.dispose()
    pdf = week.pdf(reports_dir(settings))
    assert {path.name: mode(path) for path in (old, pdf, pdf.with_suffix(".json"))} == {
        "osl-2020-W01.pdf": 0o600,
        "hel-2026-W47.pdf": 0o600,
        "hel-2026-W47.json": 0o600,
    }
    assert {mode(folder) for folder in (reports_dir(settings), pdf.parent, old.parent)} == {0o700}


def test_a_pdf_written_on_request_is_private_too(tmp_path: Path, sqlite_url: str) -> None:
    with open_session(sqlite_url) as session, session.begin():
        add_site(session)
    pdf = tmp_path / "hel.pdf"
    argv = ["report", "--db", sqlite_url, "--pdf", str(pdf), "--site", "hel"]
    assert main(argv) == 0
    assert mode(pdf) == 0o600


def test_an_export_to_a_file_is_private_whether_new_or_overwritten(
    tmp_path: Path, sqlite_url: str
) -> None:
    with open_session(sqlite_url) as session, session.begin():
        add_site(session)
    new, old = tmp_path / "responses.csv", tmp_path / "last-week.csv"
    old.write_text("an older export, left readable\n")
    old.chmod(0o644)
    for out in (new, old):
        assert main(["export", "responses", "--db", sqlite_url, "--out", str(out)]) == 0
        assert mode(out) == 0o600
    assert old.read_text() == new.read_text()


def serve_once(data_dir: Path) -> int:
    """`seed-hub serve`: start on the embedded broker, stop at once."""
    return main(["serve", "--role", "ingest", "--duration", "0", "--db", database_url(data_dir)])


def database_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'hub.sqlite3'}"


def test_the_first_admin_password_goes_to_a_private_file_not_to_a_log(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    monkeypatch.setenv("SEED_HUB_DATA_DIR", str(data_dir))
    monkeypatch.setenv("SEED_HUB_FLEET_DIR", str(tmp_path / "fleet"))  # as in production
    with caplog.at_level(logging.DEBUG):
        assert serve_once(data_dir) == 0
    handed_over = first_password_file(data_dir)
    password = handed_over.read_text().strip()
    printed = capsys.readouterr()
    assert str(handed_over) in printed.out
    assert password not in printed.out + printed.err + caplog.text
    assert (mode(handed_over), mode(data_dir), mode(data_dir / "hub.sqlite3")) == (
        0o600,
        0o700,
        0o600,
    )
    with open_session(database_url(data_dir)) as session:
        assert authenticate(session, username="admin", password=password) is not None


def test_the_broker_may_pass_through_the_data_folder_to_a_fleet_folder_inside(
    tmp_path: Path,
) -> None:
    for made_with in (0o755, 0o700):
        data_dir = tmp_path / f"data-{made_with:o}"
        data_dir.mkdir(mode=made_with)
        private_data_dir(data_dir, fleet_folder=data_dir / "fleet")
        assert mode(data_dir) == 0o711  # others pass, none lists; the fleet folder guards itself


def test_the_password_file_goes_once_the_admin_has_changed_his_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEED_HUB_DATA_DIR", str(tmp_path))
    assert serve_once(tmp_path) == 0
    assert first_password_file(tmp_path).exists()
    assert serve_once(tmp_path) == 0  # unchanged: the file stays for him to read
    assert first_password_file(tmp_path).exists()
    new_password = ["--password", "a-password-of-his-own"]
    assert main(["users", "add", "admin", "--role", "admin", *new_password]) == 0
    assert serve_once(tmp_path) == 0
    assert not first_password_file(tmp_path).exists()
