"""Data for the operations pages, put in through the gateway's own services and stores: dead
letters on the log, a 发改 department database with a bad row, the supervision subscriber's
state, 双告知 notices in the lookup store, and credit checks in the audit log."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select, update

from connectors.runtime.connector import ConnectorRuntime
from connectors.runtime.host import load_specs, publish_codes, register_publishers
from connectors.runtime.offsets import offset_store
from connectors.simulators.fgw import TZXM_SPBJ, metadata
from connectors.sources.factory import build_source
from gateway.api.services import Services
from gateway.audit.log import AuditEntry
from gateway.audit.tables import audit_rows
from gateway.credit.views import CREDIT_ROUTE
from gateway.lookup.tables import _notice_row, lk_notices
from gateway.supervision.calendar import WorkCalendar
from gateway.supervision.state import open_state
from gateway.supervision.supervisor import Incoming, Supervisor
from tests.connectors.fgw_rows import fgw_row
from tests.gateway.notices.test_views import notice
from tests.gateway.operations.conftest import letter, person_id, put
from tests.gateway.supervision.cases import event

BAD_ROW = fgw_row(3, "bad_check_digit")  # a person's id with a wrong check digit
FIXED_ID = fgw_row(3)["SQRZJHM"]


async def dead_letters(services: Services, n: int = 5) -> list[dict[str, Any]]:
    letters = [letter(i) for i in range(n)] + [letter(50, code="UNKNOWN_CODE")]
    await put(services.log, letters)
    return letters


def _department_db(data_dir: Path) -> str:
    folder = data_dir / "departments"
    folder.mkdir(exist_ok=True)
    return f"sqlite:///{folder / 'fgw.db'}"


async def bad_department_row(services: Services) -> None:
    """The 发改 department's table with one bad row, read by the real connector (backfill)."""
    url = _department_db(services.settings.data_dir)

    def write() -> None:
        engine = create_engine(url)
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(insert(TZXM_SPBJ).values([BAD_ROW]))
        engine.dispose()

    await asyncio.to_thread(write)
    [spec] = load_specs(services.settings, ["fgw-tzxm"])
    await register_publishers(services.engine, [spec])
    await ConnectorRuntime(
        spec,
        build_source(spec, backfill=True),
        services.log,
        offset_store(services.log, services.engine),
        publishes=await publish_codes(services.engine, spec),
    ).run()


def correct_department_row(data_dir: Path) -> None:
    """The department fixes the id number (and its update time moves)."""
    engine = create_engine(_department_db(data_dir))
    with engine.begin() as conn:
        conn.execute(
            update(TZXM_SPBJ)
            .where(TZXM_SPBJ.c.SLBH == BAD_ROW["SLBH"])
            .values(SQRZJHM=FIXED_ID, GXSJ="2026-01-06 10:00:00")
        )
        assert conn.execute(select(TZXM_SPBJ.c.SQRZJHM)).scalar_one() == FIXED_ID
    engine.dispose()


async def supervision_state(services: Services) -> None:
    """`govgate supervise`'s state at DATA_DIR/supervise.db: cases of two departments."""
    now = dt.datetime(2026, 11, 16, 12, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    async with open_state(f"sqlite:///{services.settings.data_dir / 'supervise.db'}") as state:
        supervisor = Supervisor(
            state, WorkCalendar(), yellow_share=0.8, now=lambda: now, echo=lambda _: None
        )
        events = [
            event("FG-A", "ACCEPTED", "2026-11-02"),
            event("FG-B", "ACCEPTED", "2026-11-12"),
            event("SC-C", "ACCEPTED", "2026-11-09", department="SCJG"),
            event("SC-D", "ACCEPTED", "2026-11-02", department="SCJG"),
            event("SC-D", "COMPLETED", "2026-11-04", department="SCJG"),
        ]
        await supervisor.apply([Incoming(f"t/{i}", e) for i, e in enumerate(events)])
        await supervisor.sweep()


async def notices_and_checks(services: Services) -> None:
    records = [
        notice(1, "330802-SCJG", "2026-11-02T10:00:00"),
        notice(2, "330802-SCJG", "2026-11-13T10:00:00", "2026-11-16T09:00:00"),
        notice(5, "330802-JTYS", "2026-11-12T10:00:00"),
        notice(6, "330802-POOL", "2026-11-03T10:00:00", pool=True),
    ]
    async with services.engine.begin() as conn:
        await conn.execute(lk_notices.insert(), [_notice_row(r, 1) for r in records])
    for i in range(3):
        await services.audit.record(
            AuditEntry(
                method="GET",
                path=f"/v1/credit/{person_id(i)}",
                decision="allow",
                status=200,
                member_id="window-kc",
                route=CREDIT_ROUTE,
                holder_id=person_id(i),
                holder_type="PERSON",
                purpose="ZFCG",
            )
        )


async def audit_codes(services: Services, actor: str) -> list[tuple[str, str]]:
    query = (
        select(audit_rows.c.code, audit_rows.c.decision)
        .where(audit_rows.c.member_id == actor)
        .order_by(audit_rows.c.seq)
    )
    async with services.engine.connect() as conn:
        return [(r.code, r.decision) for r in await conn.execute(query)]
