"""The camera audit log: append-only in the database itself, exported as CSV and JSON."""

import csv
import io
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Executable, delete, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from hub.camera.audit import (
    AUDIT_COLUMNS,
    Action,
    audit_csv,
    audit_entries,
    audit_json,
    log_switch,
    shipped_model_sha256,
)
from hub.models import CameraAuditEntry
from protocol.errors import ConfigError
from tests.hub.factories import NOON

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
    }
    assert json.loads(json.dumps(document)) == document
