"""phone channel: a channel on every response and rollup, phone links and comments

Responses now arrive from kiosks and from the survey on a traveller's phone. Every press
and every rollup cell says which (`kiosk` for all stored so far), so scores can be read per
channel or together; the phone survey's links and its travellers' comments get tables.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.models

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = hub.models.UtcDateTime(timezone=True)
COUNTS = ["very_happy", "happy", "unhappy", "very_unhappy"]
ROLLUPS = ("hourly_rollups", "daily_rollups", "monthly_rollups")
INDEXES = {
    "ix_hourly_rollups_bucket_counts": ("hourly_rollups", ["bucket_start", "location_id"]),
    "ix_hourly_rollups_location_counts": ("hourly_rollups", ["location_id", "bucket_start"]),
    "ix_daily_rollups_bucket_counts": ("daily_rollups", ["bucket_start", "location_id"]),
    "ix_monthly_rollups_bucket_counts": ("monthly_rollups", ["bucket_start", "location_id"]),
}
KEY = ["location_id", "bucket_start", "misuse"]


def _channel() -> sa.Column[str]:
    return sa.Column("channel", sa.String(8), nullable=False, server_default="kiosk")


def upgrade() -> None:
    with op.batch_alter_table("events") as batch_op:
        batch_op.add_column(_channel())
    for name, (table, _lead) in INDEXES.items():
        op.drop_index(name, table)
    for table in ROLLUPS:
        _rekey(table, [*KEY, "channel"], add_channel=True)
    for name, (table, lead) in INDEXES.items():
        op.create_index(name, table, [*lead, "misuse", "channel", *COUNTS])
    op.create_table(
        "phone_links",
        sa.Column("token", sa.String(32), primary_key=True),
        sa.Column(
            "location_id", sa.String(64), sa.ForeignKey("locations.location_id"), nullable=False
        ),
        sa.Column("device_id", sa.String(64)),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("revoked_at", UTC_TIME),
        sa.Column("revoked_by", sa.String(64)),
    )
    op.create_index("ix_phone_links_location", "phone_links", ["location_id"])
    op.create_table(
        "comments",
        sa.Column("event_id", sa.String(64), sa.ForeignKey("events.event_id"), primary_key=True),
        sa.Column(
            "location_id", sa.String(64), sa.ForeignKey("locations.location_id"), nullable=False
        ),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("text", sa.Text()),
        sa.Column("masked", sa.String(64), nullable=False),
        sa.Column("erased_at", UTC_TIME),
        sa.Column("hidden_at", UTC_TIME),
        sa.Column("hidden_by", sa.String(64)),
    )
    op.create_index("ix_comments_location_created", "comments", ["location_id", "created_at"])


def _rekey(table: str, key: list[str], *, add_channel: bool) -> None:
    """Copy a rollup table into one with this primary key (and, if asked, a channel column,
    `kiosk` for every row): the one way to change a primary key that both SQLite and
    PostgreSQL take."""
    columns = [*KEY, *COUNTS]
    new = f"_new_{table}"
    op.create_table(
        new,
        sa.Column(
            "location_id", sa.String(64), sa.ForeignKey("locations.location_id"), nullable=False
        ),
        sa.Column("bucket_start", UTC_TIME, nullable=False),
        sa.Column("misuse", sa.Boolean(), nullable=False),
        *([_channel()] if add_channel else []),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.PrimaryKeyConstraint(*key, name=f"{new}_pkey"),
    )
    listed = ", ".join(columns)
    op.execute(sa.text(f"INSERT INTO {new} ({listed}) SELECT {listed} FROM {table}"))
    op.drop_table(table)
    op.rename_table(new, table)
    if op.get_bind().dialect.name == "postgresql":  # the name it would have had
        op.execute(sa.text(f"ALTER TABLE {table} RENAME CONSTRAINT {new}_pkey TO {table}_pkey"))


def downgrade() -> None:
    op.drop_index("ix_comments_location_created", "comments")
    op.drop_table("comments")
    op.drop_index("ix_phone_links_location", "phone_links")
    op.drop_table("phone_links")
    op.execute(sa.text("DELETE FROM events WHERE channel <> 'kiosk'"))
    for name, (table, _lead) in INDEXES.items():
        op.drop_index(name, table)
    for table in ROLLUPS:
        op.execute(sa.text(f"DELETE FROM {table} WHERE channel <> 'kiosk'"))
        _rekey(table, KEY, add_channel=False)
    for name, (table, lead) in INDEXES.items():
        op.create_index(name, table, [*lead, "misuse", *COUNTS])
    with op.batch_alter_table("events") as batch_op:
        batch_op.drop_column("channel")
