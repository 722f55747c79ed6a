"""Database pool use, counted from SQLAlchemy's pool events so that it adds up across worker
processes (a scrape cannot look into another process's pool)."""

from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.pool import QueuePool

from hub.metrics.instruments import DB_POOL_CHECKED_OUT, DB_POOL_SIZE


def _checked_out(*_args: Any) -> None:
    DB_POOL_CHECKED_OUT.inc()


def _returned(*_args: Any) -> None:
    """Checked in, or detached (a detached connection is never checked in)."""
    DB_POOL_CHECKED_OUT.dec()


def watch_pool(engine: Engine) -> None:
    """Count `engine`'s connections in use, and its pool's size, until `forget_pool`."""
    event.listen(engine, "checkout", _checked_out)
    event.listen(engine, "checkin", _returned)
    event.listen(engine, "detach", _returned)
    DB_POOL_SIZE.inc(_size(engine))


def forget_pool(engine: Engine) -> None:
    """Take `engine`'s pool out of the figures (before it is disposed of)."""
    DB_POOL_SIZE.dec(_size(engine))


def _size(engine: Engine) -> int:
    pool = engine.pool
    return pool.size() if isinstance(pool, QueuePool) else 0
