"""Members belong to departments; grants have a life (status, expiry, the application they came
from) (branch "members").

Revision ID: 0008_members_grants
Revises: 0003_members
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_members_grants"
down_revision = "0003_members"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("members", sa.Column("department_code", sa.String(64), nullable=True))
    op.add_column(
        "grants", sa.Column("status", sa.String(16), nullable=False, server_default="ACTIVE")
    )
    op.add_column("grants", sa.Column("expires_ms", sa.BigInteger(), nullable=True))
    op.add_column("grants", sa.Column("application_id", sa.String(64), nullable=True))
    op.add_column("grants", sa.Column("updated_ms", sa.BigInteger(), nullable=True))
    op.add_column("grants", sa.Column("reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("grants") as batch:
        for column in ("reason", "updated_ms", "application_id", "expires_ms", "status"):
            batch.drop_column(column)
    with op.batch_alter_table("members") as batch:
        batch.drop_column("department_code")
