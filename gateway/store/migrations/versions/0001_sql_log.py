"""SQL event log: records, per-stream heads, consumer-group offsets.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_records",
        sa.Column("stream", sa.String(64), nullable=False),
        sa.Column("log_offset", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("record_key", sa.LargeBinary(), nullable=True),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("stream", "log_offset", name="pk_log_records"),
    )
    op.create_table(
        "log_heads",
        sa.Column("stream", sa.String(64), nullable=False),
        sa.Column("next_offset", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("stream", name="pk_log_heads"),
    )
    op.create_table(
        "log_group_offsets",
        sa.Column("group_id", sa.String(200), nullable=False),
        sa.Column("stream", sa.String(64), nullable=False),
        sa.Column("partition_no", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("next_offset", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "stream", "partition_no", name="pk_log_group_offsets"),
    )


def downgrade() -> None:
    op.drop_table("log_group_offsets")
    op.drop_table("log_heads")
    op.drop_table("log_records")
