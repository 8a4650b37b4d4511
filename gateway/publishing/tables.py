"""Tables of publishing (migration 0007_publishing, on the members branch).

`publish_scopes`: what each publisher member is registered to publish. `published_events`:
every event id accepted on `POST /v1/events/{kind}` with the SHA-256 of its content, whose
primary key is what refuses the same id with other content, in whichever worker it arrives.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, String, Table

from gateway.store.tables import metadata

publish_scopes = Table(
    "publish_scopes",
    metadata,
    Column(
        "member_id",
        String(64),
        ForeignKey("members.member_id", name="fk_publish_scopes_member_id"),
        primary_key=True,
    ),
    Column("kind", String(32), primary_key=True),  # certificates | materials | case-events
    Column("code", String(64), primary_key=True),  # 证照类型 / 材料目录 / 事项编码, or `*`
    Column("source_system", String(64), primary_key=True),
    Column("created_ms", BigInteger, nullable=False),
)

published_events = Table(
    "published_events",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("stream", String(32), nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("member_id", String(64), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)
