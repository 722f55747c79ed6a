"""kiosk model sha: the sha256 of the emotion model a kiosk's camera reports it has loaded

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch_op:
        batch_op.add_column(sa.Column("model_sha256", sa.String(64)))


def downgrade() -> None:
    op.drop_column("devices", "model_sha256")  # in place: no copy of a table others point at
