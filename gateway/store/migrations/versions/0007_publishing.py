"""Publish scopes and published event ids; grants' field lists deny by default (branch "members").

`publish_scopes`: what each publisher member may publish (kind, code, source system).
`published_events`: event ids taken by `POST /v1/events/{kind}`, with their content's SHA-256.
Grants whose field list was NULL (which meant "every field", the holder's id number included)
get the explicit all-fields marker `["*"]`: every field but personal id numbers, which from now
on are shown only where a grant names them. NULL now means no field beyond the unconditional.

Revision ID: 0007_publishing
Revises: 0003_members
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_publishing"
down_revision = "0003_members"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "publish_scopes",
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("source_system", sa.String(64), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "member_id", "kind", "code", "source_system", name="pk_publish_scopes"
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.member_id"], name="fk_publish_scopes_member_id"
        ),
    )
    op.create_table(
        "published_events",
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("stream", sa.String(32), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_published_events"),
    )
    op.execute("UPDATE grants SET fields = '[\"*\"]' WHERE fields IS NULL")


def downgrade() -> None:
    op.execute("UPDATE grants SET fields = NULL WHERE fields = '[\"*\"]'")
    op.drop_table("published_events")
    op.drop_table("publish_scopes")
