"""Tables of sharing applications, their review steps, and the governance outbox
(migration 0008_governance)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, String, Table, Text

from gateway.store.tables import metadata

# 共享申请: who applied (member and department) for which resource version, its state, and what
# it asked for (purposes, scenario, fields, days) as JSON.
sharing_applications = Table(
    "sharing_applications",
    metadata,
    Column("application_id", String(64), primary_key=True),
    Column("member_id", String(64), nullable=False),
    Column("department_code", String(64), nullable=False),
    Column("resource_code", String(64), nullable=False),
    Column("resource_version", Integer, nullable=False),
    Column("provider_code", String(64), nullable=False),
    Column("status", String(32), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)
Index(
    "ix_sharing_applications_provider",
    sharing_applications.c.provider_code,
    sharing_applications.c.status,
)

# One row per review step (BUREAU_CHECK, PROVIDER_DECISION): who must decide, by when (limit in
# working days from `opened_ms`), and what they decided.
review_steps = Table(
    "review_steps",
    metadata,
    Column("application_id", String(64), primary_key=True),
    Column("step", String(32), primary_key=True),
    Column("department_code", String(64), nullable=False),
    Column("limit_days", Integer, nullable=False),
    Column("opened_ms", BigInteger, nullable=False),
    Column("decided_ms", BigInteger, nullable=True),
    Column("decided_by", String(64), nullable=True),
    Column("decision", String(16), nullable=True),
    Column("reason", Text, nullable=True),
    Column("fields", Text, nullable=True),  # JSON: the fields approved
    Column("purposes", Text, nullable=True),  # JSON: the purposes approved
)

# Events committed with their change, waiting for the relay to append them to `governance`.
governance_outbox = Table(
    "governance_outbox",
    metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("event_key", LargeBinary, nullable=False),
    Column("event_value", LargeBinary, nullable=False),
    Column("headers", Text, nullable=False),  # JSON [[name, latin-1 text], …]
    Column("created_ms", BigInteger, nullable=False),
)
