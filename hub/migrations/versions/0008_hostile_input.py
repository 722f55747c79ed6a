"""hostile input: presses the hub leaves out of scores, bounded dead letters, 64-bit footfall

Events gain `flag` (too_fast, backdated); devices their latest press, to time the next.
Dead letters gain their source (the topic's device id) for a per-source quota, and a tally
of every dead letter per source and reason that outlives retention. Hourly footfall sums
32-bit kiosk counters, so it needs 64 bits.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 02:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.models

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = hub.models.UtcDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("events") as batch_op:
        batch_op.add_column(sa.Column("flag", sa.String(16), nullable=True))
    with op.batch_alter_table("devices") as batch_op:
        batch_op.add_column(sa.Column("last_press_seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("last_press_at", UTC_TIME, nullable=True))
    with op.batch_alter_table("hourly_footfall") as batch_op:
        batch_op.alter_column("passersby", type_=sa.BigInteger(), existing_type=sa.Integer())
    with op.batch_alter_table("dead_letters") as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(64), nullable=False, server_default=""))
        batch_op.create_index("ix_dead_letters_source", ["source"])
        batch_op.create_index("ix_dead_letters_received_at", ["received_at"])
    op.create_table(
        "dead_letter_tallies",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("reason", sa.String(64), primary_key=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("first_at", UTC_TIME, nullable=False),
        sa.Column("last_at", UTC_TIME, nullable=False),
    )
    op.execute(
        "INSERT INTO dead_letter_tallies (source, reason, count, first_at, last_at) "
        "SELECT '', reason, count(*), min(received_at), max(received_at) "
        "FROM dead_letters GROUP BY reason"
    )


def downgrade() -> None:
    op.drop_table("dead_letter_tallies")
    with op.batch_alter_table("dead_letters") as batch_op:
        batch_op.drop_index("ix_dead_letters_received_at")
        batch_op.drop_index("ix_dead_letters_source")
        batch_op.drop_column("source")
    with op.batch_alter_table("hourly_footfall") as batch_op:
        batch_op.alter_column("passersby", type_=sa.Integer(), existing_type=sa.BigInteger())
    with op.batch_alter_table("devices") as batch_op:
        batch_op.drop_column("last_press_at")
        batch_op.drop_column("last_press_seq")
    with op.batch_alter_table("events") as batch_op:
        batch_op.drop_column("flag")
