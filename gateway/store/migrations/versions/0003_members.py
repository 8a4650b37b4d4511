"""Members, member keys, grants and used nonces (the gateway's authentication).

Revision ID: 0003_members
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_members"
down_revision = "0002"
branch_labels = ("members",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "members",
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("roles", sa.String(200), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("revoked_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("member_id", name="pk_members"),
    )
    op.create_table(
        "member_keys",
        sa.Column("keyid", sa.String(64), nullable=False),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("alg", sa.String(32), nullable=False),
        sa.Column("public_pem", sa.Text(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("not_before_ms", sa.BigInteger(), nullable=False),
        sa.Column("not_after_ms", sa.BigInteger(), nullable=True),
        sa.Column("revoked_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("keyid", name="pk_member_keys"),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.member_id"], name="fk_member_keys_member_id"
        ),
    )
    op.create_index("ix_member_keys_member_id", "member_keys", ["member_id"])
    op.create_table(
        "grants",
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("fields", sa.Text(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("member_id", "kind", "code", "purpose", name="pk_grants"),
        sa.ForeignKeyConstraint(["member_id"], ["members.member_id"], name="fk_grants_member_id"),
    )
    op.create_table(
        "used_nonces",
        sa.Column("keyid", sa.String(64), nullable=False),
        sa.Column("nonce", sa.String(128), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("keyid", "nonce", name="pk_used_nonces"),
    )
    op.create_index("ix_used_nonces_expires_ms", "used_nonces", ["expires_ms"])


def downgrade() -> None:
    op.drop_index("ix_used_nonces_expires_ms", table_name="used_nonces")
    op.drop_table("used_nonces")
    op.drop_table("grants")
    op.drop_index("ix_member_keys_member_id", table_name="member_keys")
    op.drop_table("member_keys")
    op.drop_table("members")
