"""The camera audit log: append-only in the database itself, each entry chained to the one
before by sha256 (so an entry changed, removed or slipped in past the triggers is found),
exported as CSV and JSON."""

import csv
import io
import json
import re
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Executable, delete, insert, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from hub.camera.audit import (
    AUDIT_COLUMNS,
    GENESIS,
    Action,
    audit_csv,
    audit_entries,
    audit_json,
    entry_sha256,
    log_governance,
    log_switch,
    shipped_model_sha256,
    verify_chain,
)
from hub.cli import main
from hub.ingest import store
from hub.models import CameraAuditEntry, Device
from protocol.errors import ConfigError
from tests.hub.factories import NOON, place

HUB = Path(__file__).resolve().parents[3] / "hub"
MANIFEST = HUB.parent / "models" / "emotion26.json"


def _fill(sessions: sessionmaker[Session]) -> None:
    """k1 on then off at the gate, k2 on at security, an hour apart."""
    switches: list[tuple[str, str, Action, str]] = [
        ("k1", "gate", "on", "approved: DPIA-1 by Dr. Data"),
        ("k2", "security", "on", '=HYPERLINK("http://evil")'),
        ("k1", "gate", "off", "audience changed to employees"),
    ]
    with sessions.begin() as session:
        for hours, (device_id, location_id, action, reason) in enumerate(switches):
            log_switch(
                session,
                device_id=device_id,
                location_id=location_id,
                action=action,
                reason=reason,
                actor="cli:ops",
                now=NOON + timedelta(hours=hours),
                approval_id=1 if action == "on" else None,
            )


@pytest.mark.parametrize(
    "change",
    [
        update(CameraAuditEntry).values(reason="nothing happened"),
        update(CameraAuditEntry).values(action="on").where(CameraAuditEntry.action == "off"),
        delete(CameraAuditEntry),
        delete(CameraAuditEntry).where(CameraAuditEntry.device_id == "k1"),
    ],
    ids=["update", "update-where", "delete", "delete-where"],
)
def test_the_database_refuses_to_edit_or_delete_an_entry(
    sessions: sessionmaker[Session], change: Executable
) -> None:
    _fill(sessions)
    refused = pytest.raises(DBAPIError, match="camera_audit_log is append-only")
    with refused, sessions.begin() as session:
        session.execute(change)
    with sessions() as session:
        entries = audit_entries(session)
    assert [(e.device_id, e.action) for e in entries] == [("k1", "on"), ("k2", "on"), ("k1", "off")]


def test_an_entry_changed_through_the_orm_is_refused_too(sessions: sessionmaker[Session]) -> None:
    _fill(sessions)
    with pytest.raises(DBAPIError, match="append-only"), sessions.begin() as session:
        (first, *_) = audit_entries(session)
        first.reason = "rewritten"
    with pytest.raises(DBAPIError, match="append-only"), sessions.begin() as session:
        session.delete(audit_entries(session)[0])
    with sessions() as session:
        assert audit_entries(session)[0].reason == "approved: DPIA-1 by Dr. Data"


def test_a_truncate_is_refused_on_postgresql(sessions: sessionmaker[Session]) -> None:
    _fill(sessions)
    with sessions() as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("SQLite has no TRUNCATE")
    with pytest.raises(DBAPIError, match="append-only"), sessions.begin() as session:
        session.execute(text("TRUNCATE camera_audit_log"))


def test_no_product_code_edits_the_log() -> None:
    """The triggers refuse it; the product does not even try: no UPDATE or DELETE of the log
    in its code, but in the migrations that make the triggers."""
    edits = re.compile(
        r"\b(update|delete)\(\s*CameraAuditEntry|(UPDATE|DELETE FROM)\s+camera_audit"
    )
    offenders = [
        str(path.relative_to(HUB))
        for path in HUB.rglob("*.py")
        if "migrations" not in path.parts and edits.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_each_entry_names_the_shipped_model() -> None:
    assert shipped_model_sha256() == json.loads(MANIFEST.read_text())["sha256"]


def test_a_blank_or_overlong_reason_is_refused(sessions: sessionmaker[Session]) -> None:
    for reason in ("  ", "x" * 501, "a\nforged line"):
        with pytest.raises(ConfigError), sessions.begin() as session:
            log_switch(
                session,
                device_id="k1",
                location_id="gate",
                action="on",
                reason=reason,
                actor="cli:ops",
                now=NOON,
            )


def test_the_export_filters_and_keeps_a_spreadsheet_from_running_a_reason(
    sessions: sessionmaker[Session],
) -> None:
    _fill(sessions)
    with sessions() as session:
        everything = audit_entries(session)
        k1 = audit_entries(session, device_id="k1", since=NOON + timedelta(minutes=30))
        at_security = audit_entries(session, location_ids=["security"])
        latest = audit_entries(session, limit=2)
        before = audit_entries(session, until=NOON + timedelta(hours=1))
        document = audit_json(everything)
        rows = list(csv.reader(io.StringIO(audit_csv(everything))))
    assert [(e.device_id, e.action) for e in k1] == [("k1", "off")]
    assert [e.device_id for e in at_security] == ["k2"]
    assert [e.entry_id for e in latest] == [e.entry_id for e in everything[1:]]
    assert [e.entry_id for e in before] == [everything[0].entry_id]
    assert rows[0] == list(AUDIT_COLUMNS) and len(rows) == 4
    assert rows[2][AUDIT_COLUMNS.index("reason")] == '\'=HYPERLINK("http://evil")'
    assert rows[1][AUDIT_COLUMNS.index("at")] == "2026-11-23T12:00:00+00:00"
    assert document[0] == {
        "entry_id": everything[0].entry_id,
        "at": "2026-11-23T12:00:00+00:00",
        "action": "on",
        "device_id": "k1",
        "location_id": "gate",
        "actor": "cli:ops",
        "reason": "approved: DPIA-1 by Dr. Data",
        "approval_id": 1,
        "model_sha256": shipped_model_sha256(),
        "prev_sha256": GENESIS,
        "entry_sha256": everything[0].entry_sha256,
    }
    assert [d["prev_sha256"] for d in document[1:]] == [d["entry_sha256"] for d in document[:-1]]
    assert rows[3][-2:] == [everything[1].entry_sha256, everything[2].entry_sha256]
    assert json.loads(json.dumps(document)) == document


def test_each_entry_is_chained_to_the_one_before_and_governance_is_logged_too(
    sessions: sessionmaker[Session],
) -> None:
    _fill(sessions)
    with sessions.begin() as session:
        log_governance(
            session,
            action="approve",
            location_id="gate",
            reason="approval 2 recorded: DPIA-2 approved by Dr. Data " + "x" * 600,
            actor="cli:dpo",
            now=NOON + timedelta(hours=5),
            approval_id=2,
        )
    with sessions() as session:
        entries = audit_entries(session)
        check = verify_chain(session)
    approval = entries[-1]
    assert (approval.action, approval.device_id, approval.location_id) == ("approve", "-", "gate")
    assert len(approval.reason) == 500 and approval.reason.endswith("…"), "cut to the column"
    assert [e.prev_sha256 for e in entries] == [GENESIS, *(e.entry_sha256 for e in entries[:-1])]
    assert all(e.entry_sha256 == entry_sha256(e) for e in entries)
    assert len({e.entry_sha256 for e in entries}) == 4
    assert (check.chained, check.unchained, check.broken_at) == (4, 0, None)
    assert check.newest_sha256 == approval.entry_sha256


def _past_the_triggers(session: Session, statement: str) -> None:
    """What someone with the table owner's rights can do: the triggers off, then a change."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE camera_audit_log DISABLE TRIGGER ALL"))
        session.execute(text(statement))
        session.execute(text("ALTER TABLE camera_audit_log ENABLE TRIGGER ALL"))
        return
    for verb in ("update", "delete"):
        session.execute(text(f"DROP TRIGGER camera_audit_log_no_{verb}"))
    session.execute(text(statement))


def _rehashed_reason(session: Session, entry_id: int) -> str:
    """The entry's reason changed and its own hash made to fit: only the next one tells."""
    entry = session.get(CameraAuditEntry, entry_id)
    assert entry is not None
    forged = CameraAuditEntry(
        **{c: getattr(entry, c) for c in AUDIT_COLUMNS if c != "entry_id"} | {"reason": "forged"}
    )
    return f"SET reason = 'forged', entry_sha256 = '{entry_sha256(forged)}'"


TAMPERING: dict[str, tuple[Callable[[Session, list[int]], str], int, str]] = {
    # what is done to the log -> (the SQL, the entry found broken, what it says)
    "a reason changed": (
        lambda _, ids: f"UPDATE camera_audit_log SET reason = 'forged' WHERE entry_id = {ids[1]}",
        1,
        "does not match its entry_sha256: it was changed",
    ),
    "a reason changed and rehashed": (
        lambda session, ids: (
            f"UPDATE camera_audit_log {_rehashed_reason(session, ids[1])} WHERE entry_id = {ids[1]}"
        ),
        2,
        "does not follow entry",
    ),
    "an entry removed": (
        lambda _, ids: f"DELETE FROM camera_audit_log WHERE entry_id = {ids[1]}",
        2,
        "does not follow entry",
    ),
    "the first entry removed": (
        lambda _, ids: f"DELETE FROM camera_audit_log WHERE entry_id = {ids[0]}",
        1,
        "does not follow the start of the chain",
    ),
}


@pytest.mark.parametrize("tampering", TAMPERING)
def test_verify_names_the_first_entry_changed_or_removed_past_the_triggers(
    db_url: str,
    sessions: sessionmaker[Session],
    capsys: pytest.CaptureFixture[str],
    tampering: str,
) -> None:
    _fill(sessions)
    assert main(["camera", "log", "--verify", "--db", db_url]) == 0
    assert "the chain holds: 3 entries" in capsys.readouterr().out
    statement, broken, problem = TAMPERING[tampering]
    with sessions.begin() as session:
        ids = [e.entry_id for e in audit_entries(session)]
        _past_the_triggers(session, statement(session, ids))
    with sessions() as session:
        check = verify_chain(session)
    assert check.broken_at == ids[broken] and problem in (check.problem or "")
    assert main(["camera", "log", "--verify", "--db", db_url]) == 1
    assert f"BROKEN: entry {ids[broken]} " in capsys.readouterr().err


def test_an_entry_slipped_in_by_insert_breaks_the_chain_and_older_ones_are_told_apart(
    sessions: sessionmaker[Session],
) -> None:
    legacy = {
        "at": NOON - timedelta(days=1),
        "actor": "cli:ops",
        "action": "on",
        "reason": "before the chain",
        "device_id": "k0",
    }
    with sessions.begin() as session:  # an entry written before migration 0017: no hashes
        session.execute(insert(CameraAuditEntry).values(legacy))
    _fill(sessions)
    with sessions() as session:
        check = verify_chain(session)
    assert (check.unchained, check.chained, check.broken_at) == (1, 3, None)
    with sessions.begin() as session:  # INSERT is allowed: a forged entry at the end
        session.execute(insert(CameraAuditEntry).values(legacy | {"reason": "forged"}))
    with sessions() as session:
        check = verify_chain(session)
        newest = max(e.entry_id for e in audit_entries(session))
    assert check.broken_at == newest and "it was slipped in" in (check.problem or "")


def test_entries_removed_from_the_end_show_as_another_newest_hash(
    sessions: sessionmaker[Session],
) -> None:
    _fill(sessions)
    with sessions() as session:
        kept = verify_chain(session).newest_sha256
        entries = audit_entries(session)
    with sessions.begin() as session:
        _past_the_triggers(
            session, f"DELETE FROM camera_audit_log WHERE entry_id = {entries[-1].entry_id}"
        )
    with sessions() as session:
        check = verify_chain(session)
    assert check.broken_at is None, "a chain cut at its end still holds"
    assert check.newest_sha256 == entries[-2].entry_sha256 != kept


def test_two_writers_at_once_append_one_after_the_other(sessions: sessionmaker[Session]) -> None:
    first_logged, first_may_commit = threading.Event(), threading.Event()
    second_done = threading.Event()

    def switch(device_id: str, logged: threading.Event, wait: threading.Event | None) -> None:
        with sessions.begin() as session:
            session.execute(text("SELECT 1"))  # a read first: no write lock taken by it
            log_switch(
                session,
                device_id=device_id,
                location_id="gate",
                action="on",
                reason="test",
                actor="cli:ops",
                now=NOON,
            )
            logged.set()
            if wait is not None:
                assert wait.wait(10)

    first = threading.Thread(target=switch, args=("k1", first_logged, first_may_commit))
    first.start()
    assert first_logged.wait(10)
    second = threading.Thread(target=switch, args=("k2", second_done, None))
    second.start()
    assert not second_done.wait(0.5), "the second writer waits for the first to commit"
    first_may_commit.set()
    first.join(10)
    second.join(20)
    with sessions() as session:
        check = verify_chain(session)
        devices = [e.device_id for e in audit_entries(session)]
    assert devices == ["k1", "k2"]
    assert (check.chained, check.broken_at) == (2, None)


def test_an_entry_names_the_model_the_kiosk_reported_running(
    sessions: sessionmaker[Session],
) -> None:
    reported = "ab" * 32
    with sessions.begin() as session:
        place(session, "gate")
        store.register_device(session, device_id="k9", location_id="gate")
        device = session.get(Device, "k9")
        assert device is not None
        device.model_sha256 = reported
        entry = log_switch(
            session,
            device_id="k9",
            location_id="gate",
            action="on",
            reason="approved",
            actor="cli:ops",
            now=NOON,
        )
        assert entry.model_sha256 == reported
