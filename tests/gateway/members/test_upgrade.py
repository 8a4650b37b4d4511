"""#12.8: `0007_publishing` gives grants that had no field list (every field, ids included)
the all-fields marker, under which personal id numbers stay masked unless named."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text

from gateway.members.store import ALL_FIELDS, Grant, MembersStore
from gateway.store import make_engine, migrate
from gateway.store.engine import alembic_config


async def test_grants_without_a_field_list_get_the_all_fields_marker(data_dir: Path) -> None:
    engine = make_engine(f"sqlite:///{data_dir / 'govgate.db'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "0003_members"))
            await conn.execute(
                text(
                    "INSERT INTO members (member_id, display_name, roles, created_ms) "
                    "VALUES ('window', 'window', 'consumer', 1)"
                )
            )
            for code, fields in (("YYZZ", None), ("BDCQZ", '["权利人"]')):
                await conn.execute(
                    text(
                        "INSERT INTO grants (member_id, kind, code, purpose, fields, created_ms) "
                        "VALUES ('window', 'certificate', :code, '*', :fields, 1)"
                    ),
                    {"code": code, "fields": fields},
                )
        await migrate(engine)  # to the newest schema, as `govgate db upgrade` does
        grants = await MembersStore(engine).grants_for("window")
        assert grants == [
            Grant("certificate", "BDCQZ", "*", ("权利人",)),
            Grant("certificate", "YYZZ", "*", (ALL_FIELDS,)),
        ]
    finally:
        await engine.dispose()
