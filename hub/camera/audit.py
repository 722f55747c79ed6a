"""The camera audit log: every camera switched on or off and every governance change (an
approval recorded or withdrawn, a place's audience), by whom, when, why, on which model.

Append-only: this module only inserts, and the database refuses UPDATE and DELETE on the
table (triggers, migration 0016), so no path through the product edits an entry. Each entry
also carries the sha256 of the one before it and its own (migration 0017), so an entry
changed, removed or slipped in by someone who got past the triggers breaks the chain, which
`verify_chain` (`seed-hub camera log --verify`) finds.
"""

import hashlib
import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from edge.camera.paths import EMOTION_MANIFEST_FILE, find_model
from hub.camera.kiosk_model import device_model_sha256
from hub.clock import as_utc
from hub.models import CameraAuditEntry
from protocol.errors import ConfigError
from protocol.text import printable

Action = Literal["on", "off", "default"]
"""A camera switched on or off, or left to the kiosk's own file (`default`)."""
GovernanceAction = Literal["approve", "withdraw", "audience"]
NO_DEVICE = "-"
"""The device of a governance entry: it concerns a place."""
ACTOR_MAX_CHARS = 200
REASON_MAX_CHARS = 500
"""The sizes of the camera_audit_log columns."""
SHA256_CHARS = 64
GENESIS = "0" * SHA256_CHARS
"""The prev_sha256 of the first entry of the chain."""
CHAIN_LOCK = 0x5EED_CA3E
"""The PostgreSQL advisory lock that makes writers append one at a time."""
HASHED_FIELDS = (
    "at",
    "action",
    "device_id",
    "location_id",
    "actor",
    "reason",
    "approval_id",
    "model_sha256",
    "prev_sha256",
)
AUDIT_COLUMNS = ("entry_id", *HASHED_FIELDS, "entry_sha256")


def bounded_text(text: str, *, what: str, max_chars: int) -> str:
    """`text` stripped, or a ConfigError if it is blank, longer than `max_chars` or holds a
    control character."""
    text = printable(text, what=what).strip()
    if not text or len(text) > max_chars:
        raise ConfigError(f"{what}: give 1 to {max_chars} characters, not only spaces")
    return text


def clipped(text: str, max_chars: int = REASON_MAX_CHARS) -> str:
    """`text`, cut to `max_chars` with an ellipsis where it is longer."""
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


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
    """Append one entry: the camera of `device_id` was switched `action` by `actor`, with the
    sha256 of the model the kiosk reported running, else of the model the hub ships."""
    model_sha256 = device_model_sha256(session, device_id) or shipped_model_sha256()
    return _append(
        session,
        CameraAuditEntry(
            at=now,
            actor=bounded_text(actor, what="actor", max_chars=ACTOR_MAX_CHARS),
            action=action,
            reason=bounded_text(reason, what="reason", max_chars=REASON_MAX_CHARS),
            device_id=device_id,
            location_id=location_id,
            model_sha256=model_sha256,
            approval_id=approval_id,
        ),
    )


def log_governance(
    session: Session,
    *,
    action: GovernanceAction,
    location_id: str,
    reason: str,
    actor: str,
    now: datetime,
    approval_id: int | None = None,
) -> CameraAuditEntry:
    """Append one entry: `actor` recorded or withdrew an approval, or set an audience, at
    `location_id`; `reason` says what (cut to the column's size)."""
    return _append(
        session,
        CameraAuditEntry(
            at=now,
            actor=bounded_text(actor, what="actor", max_chars=ACTOR_MAX_CHARS),
            action=action,
            reason=bounded_text(clipped(reason), what="reason", max_chars=REASON_MAX_CHARS),
            device_id=NO_DEVICE,
            location_id=location_id,
            approval_id=approval_id,
        ),
    )


def _append(session: Session, entry: CameraAuditEntry) -> CameraAuditEntry:
    """Chain the entry to the newest one and insert it."""
    _one_writer_at_a_time(session)
    newest = session.scalar(
        select(CameraAuditEntry.entry_sha256).order_by(CameraAuditEntry.entry_id.desc()).limit(1)
    )
    entry.prev_sha256 = newest or GENESIS
    entry.entry_sha256 = entry_sha256(entry)
    session.add(entry)
    session.flush()
    return entry


def _one_writer_at_a_time(session: Session) -> None:
    """Until this transaction ends no other may append, so that no two entries share a
    predecessor: PostgreSQL takes an advisory lock; SQLite takes its write lock now (its
    driver begins a transaction only at the first write, after the newest was read)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(CHAIN_LOCK)))
    elif connection.dialect.name == "sqlite":
        driver = connection.connection.driver_connection
        if driver is not None and not driver.in_transaction:
            driver.execute("BEGIN IMMEDIATE")


def entry_sha256(entry: CameraAuditEntry) -> str:
    """sha256 of the entry's fields and its predecessor's hash, as canonical JSON (sorted
    keys, no spaces, UTF-8, the time in UTC to the microsecond)."""
    fields: dict[str, Any] = {name: getattr(entry, name) for name in HASHED_FIELDS}
    fields["at"] = as_utc(entry.at).isoformat(timespec="microseconds")
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainCheck:
    """What `verify_chain` found."""

    chained: int
    """Entries whose hashes hold."""
    unchained: int
    """Entries written before the chain began (migration 0017), not covered by it."""
    newest_sha256: str | None
    """The newest entry's hash: kept elsewhere, it shows later whether any were removed
    from the end."""
    broken_at: int | None = None
    """The first entry that does not fit; None: the chain holds."""
    problem: str | None = None


def verify_chain(session: Session) -> ChainCheck:
    """Recompute every entry's hash, oldest first, and follow the chain to the newest."""
    expected, before = GENESIS, None
    chained = unchained = 0
    entries = session.scalars(
        select(CameraAuditEntry)
        .order_by(CameraAuditEntry.entry_id)
        .execution_options(yield_per=1000)
    )
    for entry in entries:
        if chained == 0 and entry.prev_sha256 is None and entry.entry_sha256 is None:
            unchained += 1
            continue
        problem = _misfit(entry, expected, before)
        if problem is not None:
            return ChainCheck(chained, unchained, expected, entry.entry_id, problem)
        expected, before = entry.entry_sha256 or GENESIS, entry.entry_id
        chained += 1
    return ChainCheck(chained, unchained, expected if chained else None)


def _misfit(entry: CameraAuditEntry, expected: str, before: int | None) -> str | None:
    if entry.prev_sha256 != expected:
        after = "the start of the chain" if before is None else f"entry {before}"
        return (
            f"entry {entry.entry_id} does not follow {after} (its prev_sha256 differs): it "
            "was slipped in, or an entry before it was changed or removed"
        )
    if entry.entry_sha256 != entry_sha256(entry):
        return (
            f"entry {entry.entry_id} does not match its entry_sha256: it was changed after "
            "it was written"
        )
    return None


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
        entry.prev_sha256,
        entry.entry_sha256,
    )


def audit_json(entries: Iterable[CameraAuditEntry]) -> list[dict[str, Any]]:
    """The entries as JSON objects, times in ISO 8601 UTC, with their chain's hashes."""
    return [dict(zip(AUDIT_COLUMNS, _row(entry), strict=True)) for entry in entries]


def audit_csv(entries: Iterable[CameraAuditEntry]) -> str:
    """The entries as CSV with a header row, times in ISO 8601 UTC, with their chain's
    hashes; a text cell a spreadsheet would run as a formula is written with a ' before it."""
    # hub.reporting imports hub.ingest.store, which imports this package
    from hub.reporting.exports import csv_lines, inert  # noqa: PLC0415

    rows = [
        AUDIT_COLUMNS,
        *(tuple(cell if cell == NO_DEVICE else inert(cell) for cell in _row(e)) for e in entries),
    ]
    return csv_lines(rows, neutralised=True)
