"""The Alembic migrations build exactly the schema the models describe, on both engines."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from hub.db import migrate
from hub.models import Base


def test_migrations_match_the_models(engine: Engine) -> None:
    migrate(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
