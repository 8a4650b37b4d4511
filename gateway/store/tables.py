"""Tables of the gateway's database (SQLAlchemy Core). Alembic migrations create them."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, MetaData, String, Table, Text

metadata = MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
    }
)

# The SQL event log: one row per record; offsets are dense and assigned in commit order per
# stream (see gateway.log.sql), so a reader that has seen offset N has seen all before it.
log_records = Table(
    "log_records",
    metadata,
    Column("stream", String(64), primary_key=True),
    Column("log_offset", BigInteger, primary_key=True, autoincrement=False),
    Column("record_key", LargeBinary, nullable=True),
    Column("value", LargeBinary, nullable=False),
    Column("headers", Text, nullable=False),  # JSON list of [name, value] pairs, UTF-8 values
    Column("timestamp_ms", BigInteger, nullable=False),
)

# Next offset per stream; its row lock serializes appends so offsets commit in order.
log_heads = Table(
    "log_heads",
    metadata,
    Column("stream", String(64), primary_key=True),
    Column("next_offset", BigInteger, nullable=False),
)

# Committed positions of consumer groups on the SQL log.
log_group_offsets = Table(
    "log_group_offsets",
    metadata,
    Column("group_id", String(200), primary_key=True),
    Column("stream", String(64), primary_key=True),
    Column("partition_no", Integer, primary_key=True, autoincrement=False),
    Column("next_offset", BigInteger, nullable=False),
)

# Connector offsets on the SQL log (on Kafka they live in the compacted connect-offsets topic).
connector_offsets = Table(
    "connector_offsets",
    metadata,
    Column("connector", String(64), primary_key=True),
    Column("source_partition", String(300), primary_key=True),
    Column("source_offset", Text, nullable=False),  # JSON
    Column("updated_ms", BigInteger, nullable=False),
)

# What `govgate connect status` shows, whichever log the connectors write to.
connector_status = Table(
    "connector_status",
    metadata,
    Column("connector", String(64), primary_key=True),
    Column("state", String(32), nullable=False),  # running, waiting, stopped, failed
    Column("records", BigInteger, nullable=False),
    Column("dead_letters", BigInteger, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("last_error_ms", BigInteger, nullable=True),
    Column("position", Text, nullable=True),  # JSON: partition → offset summary
    Column("updated_ms", BigInteger, nullable=False),
)
