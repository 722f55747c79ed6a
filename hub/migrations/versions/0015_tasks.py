"""tasks: teams of staff, the tasks alerts open for them, their history and notifications

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.models

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = hub.models.UtcDateTime(timezone=True)


def _location() -> sa.Column[str]:
    return sa.Column(
        "location_id", sa.String(64), sa.ForeignKey("locations.location_id"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("team_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        _location(),
        sa.Column("working_hours", sa.String(11)),
        sa.Column("ack_minutes", sa.Integer(), nullable=False),
        sa.Column("resolve_minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
    )
    op.create_index("ix_teams_location_id", "teams", ["location_id"])
    op.create_table(
        "team_members",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "team_id",
            sa.String(64),
            sa.ForeignKey("teams.team_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("route", sa.String(16), nullable=False),
        sa.Column("target", sa.String(2000), nullable=False),
        sa.Column("removed_at", UTC_TIME),
    )
    op.create_index("ix_team_members_team", "team_members", ["team_id"])
    op.create_table(
        "team_rules",
        sa.Column(
            "team_id",
            sa.String(64),
            sa.ForeignKey("teams.team_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "rule_id",
            sa.Integer(),
            sa.ForeignKey("alert_rules.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    _create_tasks()
    _create_task_events()
    _create_task_notifications()


def _create_tasks() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("team_id", sa.String(64), sa.ForeignKey("teams.team_id"), nullable=False),
        _location(),
        sa.Column("device_id", sa.String(64)),
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alerts.id")),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("negative_share", sa.Float()),
        sa.Column("responses", sa.Integer()),
        sa.Column("window_min", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("opened_at", UTC_TIME, nullable=False),
        sa.Column("opened_by", sa.String(200), nullable=False),
        sa.Column("ack_due_at", UTC_TIME, nullable=False),
        sa.Column("resolve_due_at", UTC_TIME, nullable=False),
        sa.Column("acknowledged_at", UTC_TIME),
        sa.Column("acknowledged_by", sa.String(200)),
        sa.Column("resolved_at", UTC_TIME),
        sa.Column("resolved_by", sa.String(200)),
        sa.Column("escalated_at", UTC_TIME),
        sa.Column("before_unhappy", sa.Integer()),
        sa.Column("before_total", sa.Integer()),
        sa.Column("after_unhappy", sa.Integer()),
        sa.Column("after_total", sa.Integer()),
        sa.Column("recovery", sa.String(16)),
    )
    op.create_index("ix_tasks_team_location_state", "tasks", ["team_id", "location_id", "state"])
    op.create_index("ix_tasks_location_opened", "tasks", ["location_id", "opened_at"])
    op.create_index("ix_tasks_state", "tasks", ["state"])


def _create_task_events() -> None:
    op.create_table(
        "task_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("tasks.id"), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("alert_id", sa.Integer()),
    )
    op.create_index("ix_task_events_task", "task_events", ["task_id", "id"])


def _create_task_notifications() -> None:
    op.create_table(
        "task_notifications",
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("tasks.id"), primary_key=True),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("team_members.id"), primary_key=True),
        sa.Column("reason", sa.String(16), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("next_attempt_at", UTC_TIME, nullable=False),
        sa.Column("delivered_at", UTC_TIME),
        sa.Column("last_error", sa.String(500)),
    )
    op.create_index("ix_task_notifications_due", "task_notifications", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_task_notifications_due", "task_notifications")
    op.drop_table("task_notifications")
    op.drop_index("ix_task_events_task", "task_events")
    op.drop_table("task_events")
    for name in ("ix_tasks_state", "ix_tasks_location_opened", "ix_tasks_team_location_state"):
        op.drop_index(name, "tasks")
    op.drop_table("tasks")
    op.drop_table("team_rules")
    op.drop_index("ix_team_members_team", "team_members")
    op.drop_table("team_members")
    op.drop_index("ix_teams_location_id", "teams")
    op.drop_table("teams")
