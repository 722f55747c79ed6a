"""surveys: versioned questions with follow-ups, their assignments, and the answers

A survey's versions keep every wording it had; a location subtree is assigned one survey
(the nearest assignment up the tree wins); each location has its languages (the first its
default). Presses record the survey version they answered; follow-ups are stored by their
own id and point at their press by event id, with no foreign key: the press may come later.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.models

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = hub.models.UtcDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("locations") as batch_op:
        batch_op.add_column(
            sa.Column("languages", sa.String(100), nullable=False, server_default="en")
        )
    with op.batch_alter_table("events") as batch_op:
        batch_op.add_column(sa.Column("survey_id", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("survey_version", sa.Integer(), nullable=True))
    op.create_table(
        "surveys",
        sa.Column("survey_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("retired_at", UTC_TIME, nullable=True),
    )
    op.create_table(
        "survey_versions",
        sa.Column("survey_id", sa.String(64), sa.ForeignKey("surveys.survey_id")),
        sa.Column("version", sa.Integer()),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("survey_id", "version"),
    )
    op.create_table(
        "survey_assignments",
        sa.Column(
            "location_id", sa.String(64), sa.ForeignKey("locations.location_id"), primary_key=True
        ),
        sa.Column("survey_id", sa.String(64), sa.ForeignKey("surveys.survey_id"), nullable=False),
        sa.Column("assigned_at", UTC_TIME, nullable=False),
        sa.Column("assigned_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "followups",
        sa.Column("followup_id", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("location_id", sa.String(64), nullable=False),
        sa.Column("survey_id", sa.String(64), nullable=False),
        sa.Column("survey_version", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(16), nullable=False),
        sa.Column("option", sa.String(32), nullable=True),
        sa.Column("language", sa.String(35), nullable=True),
        sa.Column("answered_at", UTC_TIME, nullable=False),
        sa.Column("received_at", UTC_TIME, nullable=False),
    )
    op.create_index("ix_followups_event_id", "followups", ["event_id"])
    op.create_index("ix_followups_location_answered", "followups", ["location_id", "answered_at"])


def downgrade() -> None:
    op.drop_table("followups")
    op.drop_table("survey_assignments")
    op.drop_table("survey_versions")
    op.drop_table("surveys")
    with op.batch_alter_table("events") as batch_op:
        batch_op.drop_column("survey_version")
        batch_op.drop_column("survey_id")
    with op.batch_alter_table("locations") as batch_op:
        batch_op.drop_column("languages")
