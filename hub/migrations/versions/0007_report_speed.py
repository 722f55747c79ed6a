"""report speed: daily rollups (filled from the hourly ones) and covering rollup indexes

The overview sums every location's counts over a period: whole UTC days come from the new
daily rollups, and indexes that lead with the bucket read just the period's rows. A location
page sums one subtree's hours: an index that leads with the location and carries the counts
answers without touching the table.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.models

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = hub.models.UtcDateTime(timezone=True)
COUNTS = ["very_happy", "happy", "unhappy", "very_unhappy"]
KEY = ["bucket_start", "location_id", "misuse", *COUNTS]
DAY_OF = {
    "sqlite": "substr(bucket_start, 1, 10) || ' 00:00:00.000000'",
    "postgresql": "date_trunc('day', bucket_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
}


def upgrade() -> None:
    op.create_table(
        "daily_rollups",
        sa.Column("location_id", sa.String(64), sa.ForeignKey("locations.location_id")),
        sa.Column("bucket_start", UTC_TIME),
        sa.Column("misuse", sa.Boolean()),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.PrimaryKeyConstraint("location_id", "bucket_start", "misuse"),
    )
    day = DAY_OF[op.get_bind().dialect.name]
    sums = ", ".join(f"sum({name})" for name in COUNTS)
    op.execute(
        f"INSERT INTO daily_rollups (location_id, bucket_start, misuse, {', '.join(COUNTS)}) "
        f"SELECT location_id, {day}, misuse, {sums} FROM hourly_rollups "
        f"GROUP BY location_id, {day}, misuse"
    )
    op.create_index("ix_daily_rollups_bucket_counts", "daily_rollups", KEY)
    op.create_index("ix_hourly_rollups_bucket_counts", "hourly_rollups", KEY)
    op.create_index(
        "ix_hourly_rollups_location_counts",
        "hourly_rollups",
        ["location_id", "bucket_start", "misuse", *COUNTS],
    )


def downgrade() -> None:
    op.drop_index("ix_hourly_rollups_location_counts", "hourly_rollups")
    op.drop_index("ix_hourly_rollups_bucket_counts", "hourly_rollups")
    op.drop_table("daily_rollups")
