"""Lookup store: certificates, materials, case events, and the event ids already applied.

A branch of its own (`lookup`), so other components add their tables beside it.

Revision ID: 0003_lookup
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_lookup"
down_revision = "0002"
branch_labels = ("lookup",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lk_certificates",
        sa.Column("cert_id", sa.String(), nullable=False),
        sa.Column("type_code", sa.String(), nullable=False),
        sa.Column("holder_id_type", sa.String(), nullable=False),
        sa.Column("holder_id", sa.String(), nullable=False),
        sa.Column("holder_name", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("sharing_class", sa.String(), nullable=False),
        sa.Column("issuer_code", sa.String(), nullable=False),
        sa.Column("region_code", sa.String(), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("source_version", sa.String(), nullable=False),
        sa.Column("fetched_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("cert_id", name="pk_lk_certificates"),
    )
    op.create_index(
        "ix_lk_certificates_holder", "lk_certificates", ["holder_id", "type_code", "cert_id"]
    )
    op.create_table(
        "lk_materials",
        sa.Column("material_id", sa.String(), nullable=False),
        sa.Column("holder_id", sa.String(), nullable=False),
        sa.Column("catalog_code", sa.String(), nullable=False),
        sa.Column("case_no", sa.String(), nullable=True),
        sa.Column("reusable", sa.Boolean(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("source_version", sa.String(), nullable=False),
        sa.Column("fetched_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("material_id", name="pk_lk_materials"),
    )
    op.create_index(
        "ix_lk_materials_holder", "lk_materials", ["holder_id", "catalog_code", "material_id"]
    )
    op.create_table(
        "lk_case_events",
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("case_no", sa.String(), nullable=False),
        sa.Column("occurred_ms", sa.BigInteger(), nullable=False),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_lk_case_events"),
    )
    op.create_index(
        "ix_lk_case_events_case", "lk_case_events", ["case_no", "occurred_ms", "event_id"]
    )
    op.create_table(
        "lk_applied",
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("stream", sa.String(64), nullable=False),
        sa.Column("log_partition", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("log_offset", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_lk_applied"),
    )


def downgrade() -> None:
    op.drop_table("lk_applied")
    op.drop_index("ix_lk_case_events_case", table_name="lk_case_events")
    op.drop_table("lk_case_events")
    op.drop_index("ix_lk_materials_holder", table_name="lk_materials")
    op.drop_table("lk_materials")
    op.drop_index("ix_lk_certificates_holder", table_name="lk_certificates")
    op.drop_table("lk_certificates")
