"""Engine creation and migrations: SQLite (WAL) by default, any PostgreSQL URL alike."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.util.exc import CommandError
from sqlalchemy import Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from hub.file_modes import private_file, private_folder, tighten
from protocol.errors import ConfigError, StoreError
from protocol.files import PRIVATE_MODE

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
# SQLite gives these the database file's own mode when it makes them, whatever the umask
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


CONNECT_TIMEOUT_S = 10


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"database URL {url!r} is not a SQLAlchemy URL") from exc
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    # a server that hangs rather than refuses is an outage too, not a wait without end
    timeout = {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT_S}
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, connect_args=timeout)


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:" and not database.startswith("file:"):
        _private_database_file(Path(database))
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def _private_database_file(path: Path) -> None:
    """The database file made before SQLite opens it, readable by its owner only (it holds
    password hashes and every response), and so its journals; a folder made for it, 0700."""
    if not path.parent.is_dir():
        private_folder(path.parent)
    private_file(path)
    for suffix in SQLITE_COMPANIONS:
        tighten(path.with_name(path.name + suffix), PRIVATE_MODE)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, *, revision: str = "head") -> None:
    """Bring the schema to `revision`, the newest by default (idempotent)."""
    try:
        command.upgrade(alembic_config(engine), revision)
    except OperationalError as exc:
        raise StoreError(f"cannot migrate {engine.url!r}: {exc.orig}") from exc
    except CommandError as exc:
        raise ConfigError(f"cannot migrate to {revision!r}: {exc}") from exc


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at; None if it was never migrated."""
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise StoreError(f"cannot read {engine.url!r}: {exc.orig}") from exc


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def run_migrated(url: str, action: Callable[[Session], None]) -> None:
    """Migrate the database, run `action` in one transaction, let go of the engine: what a
    command that changes something and exits does."""
    engine = make_engine(url)
    try:
        migrate(engine)
        with session_factory(engine).begin() as session:
            action(session)
    finally:
        engine.dispose()


@contextmanager
def open_session(url: str) -> Iterator[Session]:
    """A session on its own short-lived engine, for commands and tools that run once."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def adding_upsert(
    session: Session, model: type[Any], key_names: tuple[str, ...], counts: tuple[str, ...]
) -> Any:
    """INSERT … ON CONFLICT (the key) DO UPDATE that adds each of `counts` to the row there;
    made once per dialect and table (building one costs more than running it)."""
    table: Table = model.__table__
    return _adding_upsert(session.get_bind().dialect.name, table, key_names, counts)


@cache
def _adding_upsert(
    dialect: str, table: Table, key_names: tuple[str, ...], counts: tuple[str, ...]
) -> Any:
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return statement.on_conflict_do_update(
        index_elements=list(key_names),
        set_={name: table.c[name] + statement.excluded[name] for name in counts},
    )


def dialect_insert(session: Session, model: type[Any]) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (SQLite and PostgreSQL alike)."""
    table: Table = model.__table__
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
