"""Audit log: keyed chain (rows tallying requests; where the keyed rows begin) (branch "audit").

`audit_rows.requests`: how many requests a row stands for (1, or a tally of unauthenticated
refusals). `audit_head.keyed_from`: the first seq hashed with the chain key; rows already there
keep their legacy unkeyed (v1) hashes and verify as such (gateway.audit.hashing).

Revision ID: 0005_audit_keyed
Revises: 0003_audit
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_audit_keyed"
down_revision = "0003_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "audit_rows",
        sa.Column("requests", sa.BigInteger(), nullable=False, server_default="1"),
    )
    op.add_column("audit_head", sa.Column("keyed_from", sa.BigInteger(), nullable=True))
    op.execute("UPDATE audit_head SET keyed_from = seq + 1")


def downgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("keyed_from")
    with op.batch_alter_table("audit_rows") as batch:
        batch.drop_column("requests")
