"""Tables of operations, on the gateway's metadata; migration 0010_redrives creates them.

`dl_index` is a projection of the `dead-letters` stream (rebuildable by reading the stream
again into an empty table): one row per dead letter, with its reason and raw record already
masked (`schemas.validators.mask_personal_ids`), so no page or command can show a personal id
in clear from it; the original stays on the log, found again by (partition, offset) when a
re-drive needs the source key. `dl_redrives` keeps every re-drive attempt, who asked and what
came of it. `dl_positions` is how far the index has read.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from gateway.store.tables import metadata

# SQLite autoincrements only an INTEGER PRIMARY KEY; PostgreSQL gets a bigint identity.
_ROW_ID = BigInteger().with_variant(Integer(), "sqlite")

dl_index = Table(
    "dl_index",
    metadata,
    Column("id", _ROW_ID, primary_key=True, autoincrement=True),  # keyset order: newest last
    Column("event_id", String(64), nullable=False, unique=True),
    Column("connector", String(128), nullable=False),
    Column("target_stream", String(64), nullable=False),
    Column("error_code", String(64), nullable=False),
    Column("field", String(200), nullable=True),
    Column("reason", Text, nullable=False),  # masked
    Column("raw", Text, nullable=False),  # masked JSON text of the source record
    Column("failed_ms", BigInteger, nullable=False),
    Column("source_system", String(128), nullable=False),
    Column("source_table", String(200), nullable=False),
    Column("source_key", String(200), nullable=False),  # masked
    Column("source_version", String(200), nullable=False),
    Column("log_partition", Integer, nullable=False),
    Column("log_offset", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),  # OPEN, REDRIVEN
    Column("indexed_ms", BigInteger, nullable=False),
    Index("ix_dl_index_connector_code", "connector", "error_code", "id"),
    Index("ix_dl_index_code", "error_code", "id"),
)

dl_redrives = Table(
    "dl_redrives",
    metadata,
    Column("id", _ROW_ID, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False),  # the dead letter's
    Column("actor", String(200), nullable=False),  # person:<username> or cli:<user>
    Column("at_ms", BigInteger, nullable=False),
    Column("outcome", String(32), nullable=False),  # REPUBLISHED, STILL_FAILING, NOT_FOUND, FAILED
    Column("code", String(64), nullable=True),
    Column("detail", Text, nullable=True),  # masked
    Column("event_ids", Text, nullable=True),  # JSON list of the ids published
    Index("ix_dl_redrives_event", "event_id", "id"),
)

dl_positions = Table(
    "dl_positions",
    metadata,
    Column("source", String(300), primary_key=True),
    Column("position", Text, nullable=False),  # JSON {partition: next offset}
    Column("updated_ms", BigInteger, nullable=False),
)
