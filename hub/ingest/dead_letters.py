"""Dead letters stay bounded: a retention job deletes old ones, `seed-hub dead-letters` shows
and purges them. Every dead letter is counted for good (per source and reason); only its
payload is dropped."""

import argparse
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from hub.cli_options import (
    DB,
    DB_UNDER_GROUP,
    Commands,
    SettingsFrom,
    session_command,
)
from hub.clock import Clock, utc_now
from hub.config import HubSettings
from hub.ingest import store
from hub.periodic import PeriodicJob, always

log = logging.getLogger(__name__)

RETENTION_EVERY_S = 600.0


def apply_retention(session: Session, *, settings: HubSettings, now: datetime) -> int:
    """Delete dead letters older than the retention age and beyond the row limit."""
    return store.purge_dead_letters(
        session,
        older_than=now - timedelta(days=settings.dead_letters.max_age_days),
        keep_newest=settings.dead_letters.max_rows,
    )


class DeadLetterRetention(PeriodicJob):
    """Applies the retention every few minutes in the process holding the lease."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: HubSettings,
        *,
        interval_s: float = RETENTION_EVERY_S,
        may_run: Callable[[], bool] = always,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__("dead-letter-retention", self._step, interval_s, may_run=may_run)
        self._sessions = sessions
        self._settings = settings
        self._clock = clock

    def _step(self) -> None:
        with self._sessions.begin() as session:
            deleted = apply_retention(session, settings=self._settings, now=self._clock())
        if deleted:
            log.info("dead-letter retention deleted %d old dead letters (counts kept)", deleted)


def _show(session: Session, args: argparse.Namespace) -> None:
    counts = store.dead_letter_counts(session)
    if args.sources:
        print(json.dumps(store.dead_letter_sources(session, limit=args.sources), indent=2))
    else:
        print(json.dumps(counts, indent=2, sort_keys=True))


def _purge(session: Session, args: argparse.Namespace, clock: Clock = utc_now) -> None:
    older_than = (
        None if args.older_than_days is None else clock() - timedelta(days=args.older_than_days)
    )
    if older_than is None and not args.all:
        raise SystemExit("say what to purge: --older-than-days N, or --all")
    deleted = store.purge_dead_letters(session, older_than=older_than, source=args.source)
    print(f"deleted {deleted} dead letters; their counts stay (seed-hub dead-letters)")


def add_dead_letter_commands(commands: Commands, settings_from: SettingsFrom) -> None:
    dead = commands.add_parser(
        "dead-letters",
        help="counts of refused input, by reason; `purge` deletes kept ones",
        description="Counts of every message the hub refused, by reason (kept or not).",
        parents=[DB],
    )
    dead.add_argument(
        "--sources",
        type=int,
        metavar="N",
        help="instead: the N devices with the most dead letters, with how many are kept",
    )
    dead.set_defaults(run=session_command(_show, settings_from))
    actions = dead.add_subparsers(dest="action")
    purge = actions.add_parser(
        "purge",
        help="delete kept dead letters (their counts stay)",
        description="Delete kept dead letters and their payloads; the counts stay. The hub "
        "also does this by itself (SEED_HUB_DEAD_LETTER_MAX_AGE_DAYS, _MAX_ROWS).",
        parents=[DB_UNDER_GROUP],
    )
    purge.add_argument("--older-than-days", type=float, metavar="DAYS", help="received before")
    purge.add_argument("--source", metavar="DEVICE", help="only those from this device")
    purge.add_argument("--all", action="store_true", help="every kept dead letter")
    purge.set_defaults(run=session_command(_purge, settings_from))
