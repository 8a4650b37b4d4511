"""Operations: the dead-letter index (死信), re-drives and the index's read position
(branch "operations").

Revision ID: 0010_redrives
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_redrives"
down_revision = "0002"
branch_labels = ("operations",)
depends_on = None

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "dl_index",
        sa.Column("id", _ROW_ID, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("connector", sa.String(128), nullable=False),
        sa.Column("target_stream", sa.String(64), nullable=False),
        sa.Column("error_code", sa.String(64), nullable=False),
        sa.Column("field", sa.String(200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("failed_ms", sa.BigInteger(), nullable=False),
        sa.Column("source_system", sa.String(128), nullable=False),
        sa.Column("source_table", sa.String(200), nullable=False),
        sa.Column("source_key", sa.String(200), nullable=False),
        sa.Column("source_version", sa.String(200), nullable=False),
        sa.Column("log_partition", sa.Integer(), nullable=False),
        sa.Column("log_offset", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("indexed_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dl_index"),
        sa.UniqueConstraint("event_id", name="uq_dl_index_event_id"),
    )
    op.create_index("ix_dl_index_connector_code", "dl_index", ["connector", "error_code", "id"])
    op.create_index("ix_dl_index_code", "dl_index", ["error_code", "id"])
    op.create_table(
        "dl_redrives",
        sa.Column("id", _ROW_ID, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("code", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("event_ids", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_dl_redrives"),
    )
    op.create_index("ix_dl_redrives_event", "dl_redrives", ["event_id", "id"])
    op.create_table(
        "dl_positions",
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("position", sa.Text(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("source", name="pk_dl_positions"),
    )


def downgrade() -> None:
    op.drop_table("dl_positions")
    op.drop_index("ix_dl_redrives_event", table_name="dl_redrives")
    op.drop_table("dl_redrives")
    op.drop_index("ix_dl_index_code", table_name="dl_index")
    op.drop_index("ix_dl_index_connector_code", table_name="dl_index")
    op.drop_table("dl_index")
