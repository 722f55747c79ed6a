"""Database pool use, from the pool's own events: connections in use and the pool's size."""

from hub.db import make_engine
from hub.metrics.pool import forget_pool, watch_pool
from tests.hub.metrics.samples import value

IN_USE = "seed_hub_db_pool_checked_out_connections"
SIZE = "seed_hub_db_pool_size_connections"


def test_connections_in_use_are_counted_until_returned_or_detached(db_url: str) -> None:
    engine = make_engine(db_url)
    size, in_use = value(SIZE), value(IN_USE)
    watch_pool(engine)
    try:
        assert value(SIZE) - size == 5
        first, second = engine.connect(), engine.connect()
        assert value(IN_USE) - in_use == 2
        first.close()
        assert value(IN_USE) - in_use == 1
        second.connection.detach()  # leaves the pool for good: never checked in
        assert value(IN_USE) - in_use == 0
        second.close()
        assert value(IN_USE) - in_use == 0
    finally:
        forget_pool(engine)
        engine.dispose()
    assert value(SIZE) == size
