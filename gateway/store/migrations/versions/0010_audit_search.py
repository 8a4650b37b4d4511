"""Indexes for the audit search (审计查询, the console; branch "audit").

Each search filter reads its rows newest first from an index that leads with the filter's
column and continues with (at_ms, seq), the search's order: a page is one range read whatever
the table's size, with or without a time range, never a sort of every match. Refusals get a
partial index (only `decision = 'deny'` rows), since they are few among allowed rows and a
search for them would otherwise walk the allowed ones. The holder keeps its index of 0003_audit
(a holder has few rows: they are sorted in memory).

`audit_verifications`: each run of `verify`, MAC'd and linked (gateway.audit.verifications), for
the console's chain verification state.

Revision ID: 0010_audit_search
Revises: 0009_audit_sm3
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_audit_search"
down_revision = "0009_audit_sm3"
branch_labels = None
depends_on = None

DENIED = sa.text("decision = 'deny'")


def upgrade() -> None:
    op.create_table(
        "audit_verifications",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("at_ms", sa.BigInteger, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("rows_checked", sa.BigInteger, nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("head_seq", sa.BigInteger, nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("problem_count", sa.BigInteger, nullable=False),
        sa.Column("first_problem", sa.String(256), nullable=True),
        sa.Column("hash_alg", sa.String(16), nullable=False),
        sa.Column("signed_anchors", sa.BigInteger, nullable=False),
        sa.Column("anchored_seq", sa.BigInteger, nullable=False),
        sa.Column("audit_seq", sa.BigInteger, nullable=False),
        sa.Column("prev_mac", sa.String(64), nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_rows_at", "audit_rows", ["at_ms", "seq"])
    op.create_index("ix_audit_rows_member_at", "audit_rows", ["member_id", "at_ms", "seq"])
    op.create_index("ix_audit_rows_purpose_at", "audit_rows", ["purpose", "at_ms", "seq"])
    op.create_index(
        "ix_audit_rows_denied_at",
        "audit_rows",
        ["at_ms", "seq"],
        sqlite_where=DENIED,
        postgresql_where=DENIED,
    )


def downgrade() -> None:
    for name in (
        "ix_audit_rows_denied_at",
        "ix_audit_rows_purpose_at",
        "ix_audit_rows_member_at",
        "ix_audit_rows_at",
    ):
        op.drop_index(name, table_name="audit_rows")
    op.drop_table("audit_verifications")
