"""Audit rows name the file a request was given: content_sha256 (branch "audit").

Revision ID: 0006_audit_content
Revises: 0005_audit_keyed
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_audit_content"
down_revision = "0005_audit_keyed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_rows") as batch:
        batch.add_column(sa.Column("content_sha256", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_rows") as batch:
        batch.drop_column("content_sha256")
