"""Tables of the catalogue (migration 0008_governance).

`catalogue_entries` keeps every published version of every entry (a change is a new version,
never an edit); `catalogue_heads` names each code's current version, which a publication moves
in the same transaction that inserts it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table, Text

from gateway.store.tables import metadata

catalogue_entries = Table(
    "catalogue_entries",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("department_code", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("sharing_class", String(16), nullable=False),
    Column("withdrawn", Boolean, nullable=False),
    Column("published_ms", BigInteger, nullable=False),
    Column("published_by", String(128), nullable=False),
    Column("entry", Text, nullable=False),  # the whole entry, JSON
)

catalogue_heads = Table(
    "catalogue_heads",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("department_code", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("sharing_class", String(16), nullable=False),
    Column("withdrawn", Boolean, nullable=False),
    Column("search", Text, nullable=False),  # code, name, description and field names, lowercased
)
Index("ix_catalogue_heads_department", catalogue_heads.c.department_code, catalogue_heads.c.code)

# Which resource covers a record code of a kind (a certificate type, a catalog …): the policy's
# way from a record to its catalogue entry. Rewritten with the head.
catalogue_codes = Table(
    "catalogue_codes",
    metadata,
    Column("kind", String(32), primary_key=True),
    Column("record_code", String(64), primary_key=True),
    Column("code", String(64), primary_key=True),
)
