"""The audit chain records its hash algorithm: sha-256 or sm3 (branch "audit").

`audit_head.hash_alg`: the algorithm of every row of the chain (gateway.audit.hashing), set by
its first row. A chain that already has rows is SHA-256 (recorded here); an empty chain takes
the configured one (`gateway.audit_hash`) when its first row is written.

Revision ID: 0009_audit_sm3
Revises: 0006_audit_content
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_audit_sm3"
down_revision = "0006_audit_content"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_head", sa.Column("hash_alg", sa.String(16), nullable=True))
    op.execute("UPDATE audit_head SET hash_alg = 'sha-256' WHERE seq > 0")


def downgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("hash_alg")
