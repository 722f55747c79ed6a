"""dashboard users and the sites each manager is given

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 22:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = hub.models.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("disabled_at", UTC_TIME, nullable=True),
    )
    op.create_table(
        "user_sites",
        sa.Column("username", sa.String(64), sa.ForeignKey("users.username"), nullable=False),
        sa.Column(
            "location_id", sa.String(64), sa.ForeignKey("locations.location_id"), nullable=False
        ),
        sa.PrimaryKeyConstraint("username", "location_id"),
    )


def downgrade() -> None:
    op.drop_table("user_sites")
    op.drop_table("users")
