"""Lookup store: deletes seen at the source, 双告知 notices, credit-list entries (branch "lookup").

Revision ID: 0005_lookup_flows
Revises: 0003_lookup
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_lookup_flows"
down_revision = "0003_lookup"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lk_notices",
        sa.Column("notice_id", sa.String(), nullable=False),
        sa.Column("department_code", sa.String(), nullable=False),
        sa.Column("region_code", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("item_code", sa.String(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("source_version", sa.String(), nullable=False),
        sa.Column("fetched_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("notice_id", name="pk_lk_notices"),
    )
    op.create_index(
        "ix_lk_notices_department", "lk_notices", ["department_code", "status", "notice_id"]
    )
    op.create_table(
        "lk_credit_entries",
        sa.Column("entry_id", sa.String(), nullable=False),
        sa.Column("subject_id", sa.String(), nullable=False),
        sa.Column("list_code", sa.String(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("removed_on", sa.Date(), nullable=True),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("source_version", sa.String(), nullable=False),
        sa.Column("fetched_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name="pk_lk_credit_entries"),
    )
    op.create_index(
        "ix_lk_credit_entries_subject",
        "lk_credit_entries",
        ["subject_id", "list_code", "entry_id"],
    )
    op.create_table(
        "lk_deletions",
        sa.Column("stream", sa.String(64), nullable=False),
        sa.Column("record_key", sa.String(), nullable=False),
        sa.Column("fetched_ms", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=True),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("stream", "record_key", name="pk_lk_deletions"),
    )


def downgrade() -> None:
    op.drop_table("lk_deletions")
    op.drop_index("ix_lk_credit_entries_subject", table_name="lk_credit_entries")
    op.drop_table("lk_credit_entries")
    op.drop_index("ix_lk_notices_department", table_name="lk_notices")
    op.drop_table("lk_notices")
