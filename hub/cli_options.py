"""What every group of `seed-hub` commands shares: the `--db` option, and the types of the
functions that add a group."""

import argparse
from collections.abc import Callable
from typing import Any

from hub.config import HubSettings

DB_HELP = "SQLAlchemy URL (default: $SEED_HUB_DB, else SQLite in the data folder)"

Commands = Any  # argparse's private _SubParsersAction
SettingsFrom = Callable[[argparse.Namespace], HubSettings]


def _db_option(default: Any = None) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--db", help=DB_HELP, default=default)
    return parent


DB = _db_option()
"""`parents=[DB]`: the command takes `--db`, the hub's database (`HubSettings.db` if left out)."""

DB_UNDER_GROUP = _db_option(argparse.SUPPRESS)
"""`--db` for a subcommand whose group takes `--db` too (`dead-letters --db X purge`):
given after the subcommand it wins; left out, the group's value stands (not None)."""
