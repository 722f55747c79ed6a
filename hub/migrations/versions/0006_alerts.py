"""alert rules, alerts, their comments, the delivery outbox and CUSUM state

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.models

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = hub.models.UtcDateTime(timezone=True)


def _location() -> sa.Column[str]:
    return sa.Column(
        "location_id", sa.String(64), sa.ForeignKey("locations.location_id"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _location(),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("window_min", sa.Integer, nullable=False),
        sa.Column("min_responses", sa.Integer, nullable=False),
        sa.Column("button", sa.String(16), nullable=True),
        sa.Column("quiet_from", sa.String(5), nullable=True),
        sa.Column("quiet_until", sa.String(5), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "rule_id",
            sa.Integer,
            sa.ForeignKey("alert_rules.id", ondelete="SET NULL"),
            nullable=True,
        ),
        _location(),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("rule_text", sa.String(300), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("opened_at", UTC_TIME, nullable=False),
        sa.Column("resolved_at", UTC_TIME, nullable=True),
        sa.Column("acknowledged_at", UTC_TIME, nullable=True),
        sa.Column("acknowledged_by", sa.String(64), nullable=True),
    )
    op.create_index("ix_alerts_rule_subject", "alerts", ["rule_id", "subject"])
    op.create_index("ix_alerts_location_opened", "alerts", ["location_id", "opened_at"])
    op.create_table(
        "alert_comments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id"), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_index("ix_alert_comments_alert_id", "alert_comments", ["alert_id"])
    op.create_table(
        "alert_deliveries",
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id"), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTC_TIME, nullable=False),
        sa.Column("delivered_at", UTC_TIME, nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("alert_id", "channel"),
    )
    op.create_index("ix_alert_deliveries_due", "alert_deliveries", ["state", "next_attempt_at"])
    op.create_table(
        "alert_cusum_state",
        sa.Column(
            "rule_id",
            sa.Integer,
            sa.ForeignKey("alert_rules.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _location(),
        sa.Column("statistic", sa.Float, nullable=False),
        sa.Column("through", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("rule_id", "location_id"),
    )


def downgrade() -> None:
    for table in ("alert_cusum_state", "alert_deliveries", "alert_comments", "alerts"):
        op.drop_table(table)
    op.drop_table("alert_rules")
