"""A throwaway PostgreSQL database on a server that benches and tests may use."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from hub.db import make_engine
from protocol.errors import StoreError

SCRATCH_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
"""The server benches make their scratch databases on by default (`--postgres-url`), and
tests too unless $SEED_TEST_POSTGRES_URL names another."""


@contextmanager
def scratch_postgres_database(admin_url: str, prefix: str = "seed_scratch") -> Iterator[str]:
    """Create an empty PostgreSQL database, yield its URL, drop it afterwards."""
    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        raise StoreError(f"cannot reach PostgreSQL at {admin_url}: {exc.orig}") from exc
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
