"""events: the kiosk's own press time and the clock correction; devices: outbox bounds

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 17:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.models

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch_op:
        batch_op.add_column(
            sa.Column("kiosk_occurred_at", hub.models.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("clock_offset_s", sa.Float(), nullable=True))
    with op.batch_alter_table("devices") as batch_op:
        batch_op.add_column(sa.Column("outbox_capacity", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("outbox_dropped", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch_op:
        batch_op.drop_column("outbox_dropped")
        batch_op.drop_column("outbox_capacity")
    with op.batch_alter_table("events") as batch_op:
        batch_op.drop_column("clock_offset_s")
        batch_op.drop_column("kiosk_occurred_at")
