"""The subscriptions table (migration 0004_webhooks), on the gateway's shared metadata.

One row per webhook subscription: what it wants (stream, filter, target), where delivery
stands (the log position after the last acknowledged event), how it is failing, and which
gateway worker holds it now (`lease_owner` until `lease_until_ms`). Times are epoch ms.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from gateway.store.tables import metadata

subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("subscription_id", String(36), primary_key=True),
    Column("member_id", String(64), nullable=False),
    Column("stream", String(64), nullable=False),
    Column("target_url", String(2048), nullable=False),
    Column("department_code", String(64), nullable=True),
    Column("region_code", String(64), nullable=True),
    Column("item_code", String(64), nullable=True),
    Column("state", String(16), nullable=False),  # active | paused
    Column("paused_reason", String(16), nullable=True),  # requested | failing | not_allowed
    Column("position", Text, nullable=False),  # JSON {partition: next offset}
    Column("delivered", BigInteger, nullable=False),
    Column("failures", Integer, nullable=False),  # consecutive
    Column("last_error", String(200), nullable=True),
    Column("last_error_ms", BigInteger, nullable=True),
    Column("last_delivered_ms", BigInteger, nullable=True),
    Column("next_attempt_ms", BigInteger, nullable=False),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until_ms", BigInteger, nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Index("ix_webhook_subscriptions_member_id", "member_id"),
    Index("ix_webhook_subscriptions_next_attempt_ms", "next_attempt_ms"),
)
