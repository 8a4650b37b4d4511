"""Tables of people's accounts and console sessions (migration 0010_people)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table, Text

from gateway.store.tables import metadata

# A person's account. `password_hash` is an argon2id PHC string (None: single sign-on only);
# `failed` counts wrong passwords in a row, `locked_until_ms` ends a lockout.
people = Table(
    "people",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("display_name", String(100), nullable=False),
    Column("role", String(16), nullable=False),
    Column("department_code", String(64), nullable=True),
    Column("password_hash", Text, nullable=True),
    Column("sso_subject", String(255), nullable=True, unique=True),
    Column("disabled", Boolean, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("locked_until_ms", BigInteger, nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

# A console session: only the SHA-256 of its token is kept, so a copy of the table signs no
# one in. It ends `idle` after `last_seen_ms`, and in any case at `expires_ms`.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("last_seen_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
)
Index("ix_console_sessions_username", console_sessions.c.username)
