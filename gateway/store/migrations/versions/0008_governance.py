"""The catalogue (资源目录), sharing applications (共享申请) with their review steps, and the
governance outbox (branch "governance").

Revision ID: 0008_governance
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_governance"
down_revision = "0002"
branch_labels = ("governance",)
depends_on = "0008_members_grants"


def upgrade() -> None:
    op.create_table(
        "catalogue_entries",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("department_code", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("sharing_class", sa.String(16), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("published_ms", sa.BigInteger(), nullable=False),
        sa.Column("published_by", sa.String(128), nullable=False),
        sa.Column("entry", sa.Text(), nullable=False),
    )
    op.create_table(
        "catalogue_heads",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("department_code", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("sharing_class", sa.String(16), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("search", sa.Text(), nullable=False),
    )
    op.create_index("ix_catalogue_heads_department", "catalogue_heads", ["department_code", "code"])
    op.create_table(
        "catalogue_codes",
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("record_code", sa.String(64), primary_key=True),
        sa.Column("code", sa.String(64), primary_key=True),
    )
    op.create_table(
        "sharing_applications",
        sa.Column("application_id", sa.String(64), primary_key=True),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("department_code", sa.String(64), nullable=False),
        sa.Column("resource_code", sa.String(64), nullable=False),
        sa.Column("resource_version", sa.Integer(), nullable=False),
        sa.Column("provider_code", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
    )
    op.create_index(
        "ix_sharing_applications_provider", "sharing_applications", ["provider_code", "status"]
    )
    op.create_table(
        "review_steps",
        sa.Column("application_id", sa.String(64), primary_key=True),
        sa.Column("step", sa.String(32), primary_key=True),
        sa.Column("department_code", sa.String(64), nullable=False),
        sa.Column("limit_days", sa.Integer(), nullable=False),
        sa.Column("opened_ms", sa.BigInteger(), nullable=False),
        sa.Column("decided_ms", sa.BigInteger(), nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("fields", sa.Text(), nullable=True),
        sa.Column("purposes", sa.Text(), nullable=True),
    )
    op.create_table(
        "governance_outbox",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("event_key", sa.LargeBinary(), nullable=False),
        sa.Column("event_value", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "governance_outbox",
        "review_steps",
        "sharing_applications",
        "catalogue_codes",
        "catalogue_heads",
        "catalogue_entries",
    ):
        op.drop_table(table)
