"""双告知 claims: the first claim (认领) of each notice, held while it is put on the log
(branch "notices").

Revision ID: 0005_notices
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_notices"
down_revision = "0002"
branch_labels = ("notices",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notice_claims",
        sa.Column("notice_id", sa.String(64), nullable=False),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("department_code", sa.String(64), nullable=False),
        sa.Column("claimed_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("notice_id", name="pk_notice_claims"),
    )


def downgrade() -> None:
    op.drop_table("notice_claims")
