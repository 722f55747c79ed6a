"""fleet: location hierarchy, device credentials and revocation, remote config, placements

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.models

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = hub.models.UtcDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("locations") as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(16), nullable=False, server_default="touchpoint")
        )
        batch_op.add_column(sa.Column("parent_id", sa.String(64), nullable=True))
        batch_op.create_foreign_key(
            "fk_locations_parent", "locations", ["parent_id"], ["location_id"]
        )
    with op.batch_alter_table("devices") as batch_op:
        batch_op.add_column(sa.Column("auth", sa.String(16), nullable=True))
        batch_op.add_column(sa.Column("password_hash", sa.String(200), nullable=True))
        batch_op.add_column(sa.Column("certificate_serial", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("credentials_issued_at", UTC_TIME, nullable=True))
        batch_op.add_column(sa.Column("revoked_at", UTC_TIME, nullable=True))
        batch_op.add_column(sa.Column("desired_config", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("desired_config_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("applied_config_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("config_error", sa.String(300), nullable=True))
    op.create_table(
        "placements",
        sa.Column("device_id", sa.String(64), sa.ForeignKey("devices.device_id"), nullable=False),
        sa.Column(
            "location_id", sa.String(64), sa.ForeignKey("locations.location_id"), nullable=False
        ),
        sa.Column("placed_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("device_id", "location_id"),
    )
    op.execute(
        "INSERT INTO placements (device_id, location_id, placed_at) "
        "SELECT device_id, location_id, COALESCE(first_seen_at, CURRENT_TIMESTAMP) FROM devices "
        "WHERE registered AND location_id IS NOT NULL"
    )
    op.create_table(
        "revoked_certificates",
        sa.Column("serial", sa.String(64), primary_key=True),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("revoked_at", UTC_TIME, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("revoked_certificates")
    op.drop_table("placements")
    with op.batch_alter_table("devices") as batch_op:
        for column in (
            "config_error",
            "applied_config_version",
            "desired_config_version",
            "desired_config",
            "revoked_at",
            "credentials_issued_at",
            "certificate_serial",
            "password_hash",
            "auth",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("locations") as batch_op:
        batch_op.drop_constraint("fk_locations_parent", type_="foreignkey")
        batch_op.drop_column("parent_id")
        batch_op.drop_column("kind")
