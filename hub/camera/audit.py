"""The camera audit log: every camera switched on or off, by whom, when, why, on which model.

Append-only: this module only inserts, and the database refuses UPDATE and DELETE on the
table (triggers, migration 0016), so no path through the product edits an entry.
"""

import json
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from edge.camera.paths import EMOTION_MANIFEST_FILE, find_model
from hub.models import CameraAuditEntry
from protocol.errors import ConfigError
from protocol.text import printable

Action = Literal["on", "off"]
ACTOR_MAX_CHARS = 200
REASON_MAX_CHARS = 500
"""The sizes of the camera_audit_log columns."""
SHA256_CHARS = 64
AUDIT_COLUMNS = (
    "entry_id",
    "at",
    "action",
    "device_id",
    "location_id",
    "actor",
    "reason",
    "approval_id",
    "model_sha256",
)


def bounded_text(text: str, *, what: str, max_chars: int) -> str:
    """`text` stripped, or a ConfigError if it is blank, longer than `max_chars` or holds a
    control character."""
    text = printable(text, what=what).strip()
    if not text or len(text) > max_chars:
        raise ConfigError(f"{what}: give 1 to {max_chars} characters, not only spaces")
    return text


def shipped_model_sha256() -> str | None:
    """The sha256 the shipped emotion model's manifest pins (models/emotion26.json, else in
    $SEED_MODELS_DIR); None when there is none or it is unreadable."""
    path = find_model(None, EMOTION_MANIFEST_FILE)
    if path is None:
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    sha256 = document.get("sha256") if isinstance(document, dict) else None
    if not isinstance(sha256, str) or len(sha256) != SHA256_CHARS:
        return None
    return sha256


def log_switch(
    session: Session,
    *,
    device_id: str,
    location_id: str | None,
    action: Action,
    reason: str,
    actor: str,
    now: datetime,
    approval_id: int | None = None,
) -> CameraAuditEntry:
    """Append one entry: the camera of `device_id` was switched `action` by `actor`."""
    entry = CameraAuditEntry(
        at=now,
        actor=bounded_text(actor, what="actor", max_chars=ACTOR_MAX_CHARS),
        action=action,
        reason=bounded_text(reason, what="reason", max_chars=REASON_MAX_CHARS),
        device_id=device_id,
        location_id=location_id,
        model_sha256=shipped_model_sha256(),
        approval_id=approval_id,
    )
    session.add(entry)
    session.flush()
    return entry


def audit_entries(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    device_id: str | None = None,
    location_ids: Collection[str] | None = None,
    limit: int | None = None,
) -> list[CameraAuditEntry]:
    """Entries from `since` (inclusive) to `until` (exclusive), oldest first; with `limit`,
    the latest `limit` of them."""
    query = select(CameraAuditEntry)
    if since is not None:
        query = query.where(CameraAuditEntry.at >= since)
    if until is not None:
        query = query.where(CameraAuditEntry.at < until)
    if device_id is not None:
        query = query.where(CameraAuditEntry.device_id == device_id)
    if location_ids is not None:
        query = query.where(CameraAuditEntry.location_id.in_(set(location_ids)))
    newest_first = query.order_by(CameraAuditEntry.at.desc(), CameraAuditEntry.entry_id.desc())
    entries = list(session.scalars(newest_first.limit(limit)))
    entries.reverse()
    return entries


def _row(entry: CameraAuditEntry) -> tuple[Any, ...]:
    return (
        entry.entry_id,
        entry.at.isoformat(timespec="seconds"),
        entry.action,
        entry.device_id,
        entry.location_id,
        entry.actor,
        entry.reason,
        entry.approval_id,
        entry.model_sha256,
    )


def audit_json(entries: Iterable[CameraAuditEntry]) -> list[dict[str, Any]]:
    """The entries as JSON objects, times in ISO 8601 UTC."""
    return [dict(zip(AUDIT_COLUMNS, _row(entry), strict=True)) for entry in entries]


def audit_csv(entries: Iterable[CameraAuditEntry]) -> str:
    """The entries as CSV with a header row, times in ISO 8601 UTC; a text cell a spreadsheet
    would run as a formula is written with a ' before it."""
    # hub.reporting imports hub.ingest.store, which imports this package
    from hub.reporting.exports import csv_lines, inert  # noqa: PLC0415

    rows = [AUDIT_COLUMNS, *(tuple(inert(cell) for cell in _row(e)) for e in entries)]
    return csv_lines(rows, neutralised=True)
