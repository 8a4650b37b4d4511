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
