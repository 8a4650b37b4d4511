"""Webhook subscriptions and their delivery state (branch "webhooks").

Revision ID: 0004_webhooks
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_webhooks"
down_revision = "0002"
branch_labels = ("webhooks",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("subscription_id", sa.String(36), nullable=False),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("stream", sa.String(64), nullable=False),
        sa.Column("target_url", sa.String(2048), nullable=False),
        sa.Column("department_code", sa.String(64), nullable=True),
        sa.Column("region_code", sa.String(64), nullable=True),
        sa.Column("item_code", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("paused_reason", sa.String(16), nullable=True),
        sa.Column("position", sa.Text(), nullable=False),
        sa.Column("delivered", sa.BigInteger(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("last_error_ms", sa.BigInteger(), nullable=True),
        sa.Column("last_delivered_ms", sa.BigInteger(), nullable=True),
        sa.Column("next_attempt_ms", sa.BigInteger(), nullable=False),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_until_ms", sa.BigInteger(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subscription_id", name="pk_webhook_subscriptions"),
    )
    op.create_index("ix_webhook_subscriptions_member_id", "webhook_subscriptions", ["member_id"])
    op.create_index(
        "ix_webhook_subscriptions_next_attempt_ms", "webhook_subscriptions", ["next_attempt_ms"]
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_subscriptions_next_attempt_ms", table_name="webhook_subscriptions")
    op.drop_index("ix_webhook_subscriptions_member_id", table_name="webhook_subscriptions")
    op.drop_table("webhook_subscriptions")
