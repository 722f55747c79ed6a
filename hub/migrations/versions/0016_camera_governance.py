"""camera governance: each place's audience, camera approvals, an append-only camera audit log

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.models

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = hub.models.UtcDateTime(timezone=True)
APPEND_ONLY = "camera_audit_log is append-only"


def upgrade() -> None:
    with op.batch_alter_table("locations") as batch:
        batch.add_column(
            sa.Column("audience", sa.String(16), nullable=False, server_default="public")
        )
    op.create_table(
        "camera_approvals",
        sa.Column("approval_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "location_id", sa.String(64), sa.ForeignKey("locations.location_id"), nullable=False
        ),
        sa.Column("approved_by", sa.String(200), nullable=False),
        sa.Column("impact_assessment", sa.String(200), nullable=False),
        sa.Column("approved_on", sa.Date(), nullable=False),
        sa.Column("deployer_name", sa.String(200), nullable=False),
        sa.Column("deployer_contact", sa.String(300), nullable=False),
        sa.Column("legal_basis", sa.String(300), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", UTC_TIME, nullable=False),
        sa.Column("withdrawn_at", UTC_TIME),
        sa.Column("withdrawn_by", sa.String(200)),
    )
    op.create_index("ix_camera_approvals_location_id", "camera_approvals", ["location_id"])
    op.create_table(
        "camera_audit_log",
        sa.Column("entry_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("location_id", sa.String(64)),
        sa.Column("model_sha256", sa.String(64)),
        sa.Column("approval_id", sa.Integer()),
    )
    op.create_index("ix_camera_audit_log_at", "camera_audit_log", ["at"])
    op.create_index("ix_camera_audit_log_device_id", "camera_audit_log", ["device_id"])
    _refuse_changes()


def _refuse_changes() -> None:
    """UPDATE and DELETE on the audit log fail in the database itself, whoever connects."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION camera_audit_log_append_only() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER camera_audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
            "ON camera_audit_log FOR EACH STATEMENT "
            "EXECUTE FUNCTION camera_audit_log_append_only()"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER camera_audit_log_no_{verb.lower()} BEFORE {verb} "
            f"ON camera_audit_log BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER camera_audit_log_append_only ON camera_audit_log")
        op.execute("DROP FUNCTION camera_audit_log_append_only()")
    op.drop_table("camera_audit_log")
    op.drop_table("camera_approvals")
    # ALTER TABLE ... DROP COLUMN, not a batch copy: SQLite could not drop `locations` while
    # other tables' foreign keys point at it
    op.drop_column("locations", "audience")
