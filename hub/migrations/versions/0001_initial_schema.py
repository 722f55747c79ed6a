"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 16:47:42.328745
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.models

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("received_at", hub.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("topic", sa.String(length=300), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("payload_size", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.create_index("ix_dead_letters_reason", ["reason"], unique=False)

    op.create_table(
        "locations",
        sa.Column("location_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("created_at", hub.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("location_id"),
    )
    op.create_table(
        "devices",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.String(length=64), nullable=True),
        sa.Column("registered", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("first_seen_at", hub.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", hub.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_status_at", hub.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.String(length=64), nullable=True),
        sa.Column("uptime_s", sa.Float(), nullable=True),
        sa.Column("outbox_depth", sa.Integer(), nullable=True),
        sa.Column("clock_offset_s", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.location_id"],
        ),
        sa.PrimaryKeyConstraint("device_id"),
    )
    op.create_table(
        "events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", hub.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("received_at", hub.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("button", sa.String(length=16), nullable=False),
        sa.Column("misuse", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.location_id"],
        ),
        sa.PrimaryKeyConstraint("event_id"),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_device_seq", ["device_id", "seq"], unique=False)
        batch_op.create_index(
            "ix_events_location_time", ["location_id", "occurred_at"], unique=False
        )

    op.create_table(
        "hourly_rollups",
        sa.Column("location_id", sa.String(length=64), nullable=False),
        sa.Column("bucket_start", hub.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("misuse", sa.Boolean(), nullable=False),
        sa.Column("very_happy", sa.Integer(), nullable=False),
        sa.Column("happy", sa.Integer(), nullable=False),
        sa.Column("unhappy", sa.Integer(), nullable=False),
        sa.Column("very_unhappy", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.location_id"],
        ),
        sa.PrimaryKeyConstraint("location_id", "bucket_start", "misuse"),
    )


def downgrade() -> None:
    op.drop_table("hourly_rollups")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_location_time")
        batch_op.drop_index("ix_events_device_seq")

    op.drop_table("events")
    op.drop_table("devices")
    op.drop_table("locations")
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.drop_index("ix_dead_letters_reason")

    op.drop_table("dead_letters")
