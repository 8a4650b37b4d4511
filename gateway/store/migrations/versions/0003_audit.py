"""Audit log: hash-chained rows and the chain head (branch "audit").

Revision ID: 0003_audit
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_audit"
down_revision = "0002"
branch_labels = ("audit",)
depends_on = None

GENESIS = "0" * 64  # prev_hash of the first row; see gateway.audit.chain


def upgrade() -> None:
    op.create_table(
        "audit_rows",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("member_id", sa.String(128), nullable=True),
        sa.Column("keyid", sa.String(256), nullable=True),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("route", sa.String(256), nullable=True),
        sa.Column("holder", sa.String(64), nullable=True),
        sa.Column("holder_type", sa.String(32), nullable=True),
        sa.Column("purpose", sa.String(64), nullable=True),
        sa.Column("case_no", sa.String(64), nullable=True),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("code", sa.String(64), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_rows"),
    )
    op.create_index("ix_audit_rows_holder", "audit_rows", ["holder", "seq"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS}])


def downgrade() -> None:
    op.drop_table("audit_head")
    op.drop_index("ix_audit_rows_holder", table_name="audit_rows")
    op.drop_table("audit_rows")
