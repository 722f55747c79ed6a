"""year views: monthly rollups, and subtree rollups per hour of each place and all beneath it

A year's scores summed 365 daily rows a location; they now read twelve months and the days
at either end. A site's year of trends and heat map summed 8,760 hourly rows of each of its
touchpoints; it now reads the site's own 8,760. Both are filled here: the months from the
daily rollups, the subtrees from the hourly ones, each touchpoint's scored hours added to
itself and to every place above it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.models

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = ["very_happy", "happy", "unhappy", "very_unhappy"]
UTC_TIME = hub.models.UtcDateTime(timezone=True)
MONTH_OF = {
    "sqlite": "substr(bucket_start, 1, 7) || '-01 00:00:00.000000'",
    "postgresql": "date_trunc('month', bucket_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
}
SUMS = ", ".join(f"sum(h.{name})" for name in COUNTS)
FILL = f"""
WITH RECURSIVE up(member, place) AS (
    SELECT location_id, location_id FROM locations
    UNION
    SELECT up.member, l.parent_id FROM up JOIN locations l ON l.location_id = up.place
    WHERE l.parent_id IS NOT NULL
)
INSERT INTO subtree_hourly_rollups (location_id, bucket_start, {", ".join(COUNTS)})
SELECT up.place, h.bucket_start, {SUMS}
FROM hourly_rollups h JOIN up ON up.member = h.location_id
WHERE h.misuse = false
GROUP BY up.place, h.bucket_start
"""


def upgrade() -> None:
    op.create_table(
        "monthly_rollups",
        sa.Column("location_id", sa.String(64), sa.ForeignKey("locations.location_id")),
        sa.Column("bucket_start", UTC_TIME),
        sa.Column("misuse", sa.Boolean()),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.PrimaryKeyConstraint("location_id", "bucket_start", "misuse"),
    )
    month = MONTH_OF[op.get_bind().dialect.name]
    sums = ", ".join(f"sum({name})" for name in COUNTS)
    op.execute(
        f"INSERT INTO monthly_rollups (location_id, bucket_start, misuse, {', '.join(COUNTS)}) "
        f"SELECT location_id, {month}, misuse, {sums} FROM daily_rollups "
        f"GROUP BY location_id, {month}, misuse"
    )
    op.create_index(
        "ix_monthly_rollups_bucket_counts",
        "monthly_rollups",
        ["bucket_start", "location_id", "misuse", *COUNTS],
    )
    op.create_table(
        "subtree_hourly_rollups",
        sa.Column("location_id", sa.String(64), sa.ForeignKey("locations.location_id")),
        sa.Column("bucket_start", UTC_TIME),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.PrimaryKeyConstraint("location_id", "bucket_start"),
    )
    op.execute(FILL)
    op.create_index(
        "ix_subtree_hourly_rollups_location_counts",
        "subtree_hourly_rollups",
        ["location_id", "bucket_start", *COUNTS],
    )


def downgrade() -> None:
    op.drop_table("subtree_hourly_rollups")
    op.drop_table("monthly_rollups")
