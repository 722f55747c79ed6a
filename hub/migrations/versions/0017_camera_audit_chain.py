"""camera audit chain: each camera_audit_log entry carries its predecessor's sha256 and its own

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 09:00:00

ADD COLUMN keeps the table and so its triggers (0016): it stays append-only. Entries
written before this revision have no hashes; the chain starts at the first entry after it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("prev_sha256", "entry_sha256")


def upgrade() -> None:
    # not batch_alter_table: on SQLite that copies the table and drops its triggers
    for name in COLUMNS:
        op.add_column("camera_audit_log", sa.Column(name, sa.String(64)))


def downgrade() -> None:
    for name in reversed(COLUMNS):
        op.drop_column("camera_audit_log", name)
