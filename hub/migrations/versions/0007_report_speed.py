"""report speed: covering indexes on the hourly rollups, by hour and by location

The overview sums every location's rollups over a period: an index that leads with the hour
reads just the period's rows. A location page sums one subtree's hours: an index that leads
with the location and carries the counts answers without touching the table.

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-23 22:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = ["very_happy", "happy", "unhappy", "very_unhappy"]


def upgrade() -> None:
    op.create_index(
        "ix_hourly_rollups_bucket_counts",
        "hourly_rollups",
        ["bucket_start", "location_id", "misuse", *COUNTS],
    )
    op.create_index(
        "ix_hourly_rollups_location_counts",
        "hourly_rollups",
        ["location_id", "bucket_start", "misuse", *COUNTS],
    )


def downgrade() -> None:
    op.drop_index("ix_hourly_rollups_location_counts", "hourly_rollups")
    op.drop_index("ix_hourly_rollups_bucket_counts", "hourly_rollups")
