"""What every group of `seed-hub` commands shares: the `--db` option, and the types of the
functions that add a group."""

import argparse
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from hub.config import HubSettings
from hub.db import run_migrated

DB_HELP = "SQLAlchemy URL (default: $SEED_HUB_DB, else SQLite in the data folder)"

Commands = Any  # argparse's private _SubParsersAction
SettingsFrom = Callable[[argparse.Namespace], HubSettings]
SessionAction = Callable[[Session, argparse.Namespace], None]


def session_command(
    action: SessionAction, settings_from: SettingsFrom
) -> Callable[[argparse.Namespace], int]:
    """A command that runs `action` in one transaction on the migrated database."""

    def run(args: argparse.Namespace) -> int:
        run_migrated(settings_from(args).database_url, lambda session: action(session, args))
        return 0

    return run


def _db_option(default: Any = None) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--db", help=DB_HELP, default=default)
    return parent


DB = _db_option()
"""`parents=[DB]`: the command takes `--db`, the hub's database (`HubSettings.db` if left out)."""

DB_UNDER_GROUP = _db_option(argparse.SUPPRESS)
"""`--db` for a subcommand whose group takes `--db` too (`dead-letters --db X purge`):
given after the subcommand it wins; left out, the group's value stands (not None)."""
