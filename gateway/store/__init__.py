"""The gateway's own database: engine set-up, tables and Alembic migrations."""

from gateway.store.engine import make_engine, migrate, open_database, upsert_insert

__all__ = ["make_engine", "migrate", "open_database", "upsert_insert"]
