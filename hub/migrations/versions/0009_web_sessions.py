"""web sessions: a per-user session epoch that ends every session, and sign-in throttling

Users gain `session_epoch`, copied into each session cookie and raised by logout, a password
change and `users disable`, so every cookie issued before stops working at once. Failed
sign-ins are counted per (user name, address) and per address in `login_throttles`, which
every web process shares; rows quiet for an hour are purged.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.models

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = hub.models.UtcDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "login_throttles",
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", UTC_TIME, nullable=False),
        sa.Column("last_failure_at", UTC_TIME, nullable=False),
    )
    op.create_index("ix_login_throttles_last_failure_at", "login_throttles", ["last_failure_at"])


def downgrade() -> None:
    op.drop_index("ix_login_throttles_last_failure_at", table_name="login_throttles")
    op.drop_table("login_throttles")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("session_epoch")
