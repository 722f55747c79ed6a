"""Classify every press a kiosk committed against what the hub stored, Jepsen style."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import func, select

from hub.db import open_session
from hub.models import Event
from hub.rollups.checks import rollup_press_count


@dataclass(frozen=True)
class Intent:
    """A press a kiosk was about to commit (written to its ledger before the outbox)."""

    device_id: str
    event_id: str
    seq: int


@dataclass(frozen=True)
class Stored:
    device_id: str
    event_id: str
    seq: int


POISON_SLOWDOWN_ALLOWED = 0.2
"""The stored rate under a poison kiosk may fall this much below the clean one, no more."""


def poison_slowed_ingest(verdict: dict[str, Any]) -> bool:
    """True when the run measured both rates and the poison cut ingest beyond the allowance."""
    rates = verdict.get("stored_per_s")
    if not rates:
        return False
    return bool(rates["poison"] < (1 - POISON_SLOWDOWN_ALLOWED) * rates["clean"])


def read_ledger(path: Path, device_id: str) -> list[Intent]:
    intents = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:  # a line cut short by a kill is no intent
            intents.append(Intent(device_id, parts[0], int(parts[1])))
    return intents


def read_stored(db_url: str) -> tuple[list[Stored], int]:
    """Every stored press, and how many presses the rollups count."""
    with open_session(db_url) as session:
        rows = session.execute(select(Event.device_id, Event.event_id, Event.seq))
        stored = [Stored(device_id, event_id, seq) for device_id, event_id, seq in rows]
        return stored, rollup_press_count(session)


class StoredCount(NamedTuple):
    events: int
    devices: int


def count_stored(db_url: str) -> StoredCount:
    """How many presses are stored so far, from how many kiosks."""
    with open_session(db_url) as session:
        events, devices = session.execute(
            select(func.count(), func.count(func.distinct(Event.device_id)))
        ).one()
        return StoredCount(events, devices)


def check(intents: Iterable[Intent], stored: Iterable[Stored], counted: int) -> dict[str, Any]:
    """`counted`: presses the hub's rollups count, which must equal the events stored.

    - ok: committed and stored once;
    - aborted: killed before its outbox commit (its sequence number went to the next press);
      a power cut during a press, not a loss of anything the kiosk had accepted;
    - lost: committed (or at least not superseded) and never stored;
    - duplicated: one press stored or counted more than once;
    - unexpected: stored, but no kiosk ever made it.
    """
    intents = list(intents)
    stored = list(stored)
    stored_ids = {s.event_id for s in stored}
    stored_seqs = Counter((s.device_id, s.seq) for s in stored)
    known_ids = {i.event_id for i in intents}
    ok = aborted = lost = 0
    for intent in intents:
        if intent.event_id in stored_ids:
            ok += 1
        elif stored_seqs[(intent.device_id, intent.seq)]:
            aborted += 1
        else:
            lost += 1
    same_press_twice = sum(n - 1 for n in stored_seqs.values() if n > 1)
    return {
        "ok": ok,
        "lost": lost,
        "duplicated": same_press_twice,
        "rollup_mismatch": counted - len(stored),
        "unexpected": len(stored_ids - known_ids),
        "aborted": aborted,
        "intents": len(intents),
        "stored": len(stored),
    }
