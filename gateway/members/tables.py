"""Tables of members, their keys and grants, and used request nonces (migration 0003_members).

Times are epoch milliseconds, as in the rest of the gateway's tables, so that SQLite and
PostgreSQL store and compare them the same way.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table, Text

from gateway.store.tables import metadata

# A calling system (成员单位): a county's window system, the e-supervision service, …
members = Table(
    "members",
    metadata,
    Column("member_id", String(64), primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("roles", String(200), nullable=False),  # sorted, comma-separated
    Column("created_ms", BigInteger, nullable=False),
    Column("revoked_ms", BigInteger, nullable=True),
    # 部门编码 of the department it belongs to (the data bureau's is `governance.bureau_code`);
    # migration 0008_members_grants
    Column("department_code", String(64), nullable=True),
)

# Public keys; several may be valid at once so a member can roll over without downtime.
member_keys = Table(
    "member_keys",
    metadata,
    Column("keyid", String(64), primary_key=True),  # RFC 7638 thumbprint
    Column(
        "member_id",
        String(64),
        ForeignKey("members.member_id", name="fk_member_keys_member_id"),
        nullable=False,
    ),
    Column("alg", String(32), nullable=False),
    Column("public_pem", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("not_before_ms", BigInteger, nullable=False),
    Column("not_after_ms", BigInteger, nullable=True),
    Column("revoked_ms", BigInteger, nullable=True),
    Index("ix_member_keys_member_id", "member_id"),
)

# What a member may see: a certificate type (证照类型) or material catalog (材料目录) code, for
# one item (事项编码) or every item (`*`), optionally only some surface fields (有条件共享).
grants = Table(
    "grants",
    metadata,
    Column(
        "member_id",
        String(64),
        ForeignKey("members.member_id", name="fk_grants_member_id"),
        primary_key=True,
    ),
    Column("kind", String(16), primary_key=True),  # certificate | material | credit | notice | case
    Column("code", String(64), primary_key=True),
    Column("purpose", String(64), primary_key=True),
    # JSON list; NULL or []: no field beyond the unconditional ones; ["*"]: every field but
    # personal ids (migration 0007_publishing turned the old NULL, "every field", into ["*"])
    Column("fields", Text, nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    # Migration 0008_members_grants: a grant's life (gateway.governance.grants). Only ACTIVE
    # grants not past `expires_ms` count; the others stay, for the record.
    Column("status", String(16), nullable=False, server_default="ACTIVE"),
    Column("expires_ms", BigInteger, nullable=True),  # NULL: no expiry (an operator's grant)
    Column("application_id", String(64), nullable=True),  # the application it was approved on
    Column("updated_ms", BigInteger, nullable=True),
    Column("reason", Text, nullable=True),  # why it was last narrowed, suspended or revoked
)

# Nonces of accepted request signatures; the primary key is what refuses a replay, in
# whichever gateway worker it arrives. Rows past `expires_ms` are purged.
used_nonces = Table(
    "used_nonces",
    metadata,
    Column("keyid", String(64), primary_key=True),
    Column("nonce", String(128), primary_key=True),
    Column("expires_ms", BigInteger, nullable=False),
    Index("ix_used_nonces_expires_ms", "expires_ms"),
)
