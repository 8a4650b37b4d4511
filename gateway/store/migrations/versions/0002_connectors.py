"""Connector offsets (SQL log) and connector status.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connector_offsets",
        sa.Column("connector", sa.String(64), nullable=False),
        sa.Column("source_partition", sa.String(300), nullable=False),
        sa.Column("source_offset", sa.Text(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("connector", "source_partition", name="pk_connector_offsets"),
    )
    op.create_table(
        "connector_status",
        sa.Column("connector", sa.String(64), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.Column("dead_letters", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_ms", sa.BigInteger(), nullable=True),
        sa.Column("position", sa.Text(), nullable=True),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("connector", name="pk_connector_status"),
    )


def downgrade() -> None:
    op.drop_table("connector_status")
    op.drop_table("connector_offsets")
