"""observations (the camera's reading at a press), hourly footfall, camera health

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = hub.models.UtcDateTime(timezone=True)
# The EMOTIC categories as columns, frozen here as this revision made them.
EMOTION_COLUMNS = (
    "affection",
    "anger",
    "annoyance",
    "anticipation",
    "aversion",
    "confidence",
    "disapproval",
    "disconnection",
    "disquietment",
    "doubt_confusion",
    "embarrassment",
    "engagement",
    "esteem",
    "excitement",
    "fatigue",
    "fear",
    "happiness",
    "pain",
    "peace",
    "pleasure",
    "sadness",
    "sensitivity",
    "suffering",
    "surprise",
    "sympathy",
    "yearning",
)


def upgrade() -> None:
    op.create_table(
        "observations",
        sa.Column("event_id", sa.String(64), sa.ForeignKey("events.event_id"), primary_key=True),
        sa.Column(
            "location_id", sa.String(64), sa.ForeignKey("locations.location_id"), nullable=False
        ),
        sa.Column("occurred_at", UTC_TIME, nullable=False),
        sa.Column("valence", sa.Float(), nullable=False),
        sa.Column("arousal", sa.Float(), nullable=False),
        sa.Column("dominance", sa.Float(), nullable=False),
        sa.Column("face_score", sa.Float(), nullable=False),
        *(sa.Column(name, sa.Float(), nullable=False) for name in EMOTION_COLUMNS),
    )
    op.create_index("ix_observations_location_time", "observations", ["location_id", "occurred_at"])
    op.create_table(
        "hourly_footfall",
        sa.Column(
            "location_id", sa.String(64), sa.ForeignKey("locations.location_id"), nullable=False
        ),
        sa.Column("bucket_start", UTC_TIME, nullable=False),
        sa.Column("passersby", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("location_id", "bucket_start"),
    )
    with op.batch_alter_table("devices") as batch_op:
        batch_op.add_column(sa.Column("camera", sa.String(16), nullable=True))
        batch_op.add_column(sa.Column("camera_fault", sa.String(300), nullable=True))
        batch_op.add_column(sa.Column("passersby_total", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch_op:
        batch_op.drop_column("passersby_total")
        batch_op.drop_column("camera_fault")
        batch_op.drop_column("camera")
    op.drop_table("hourly_footfall")
    op.drop_index("ix_observations_location_time", "observations")
    op.drop_table("observations")
