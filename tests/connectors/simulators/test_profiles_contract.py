"""Contract between the simulators and the shipped connector profiles (connectors/profiles/):
the rows a profile refuses (mapping, identifier checks, Avro encoding) are exactly the rows
the simulator spoiled on purpose, as listed in its `bad_keys`."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import select

from connectors.errors import RecordError
from connectors.mapping import Mapper, load_connector_spec
from connectors.simulators.fgw import TZXM_SPBJ, FgwSimulator
from connectors.simulators.rs import RsSimulator
from connectors.simulators.scjg import SCJG_YYZZ, ScjgSimulator
from connectors.simulators.zrzy import ZrzySimulator
from connectors.sources.base import SourceRecord
from schemas.checks import check_record
from schemas.codec import EventCodec
from schemas.errors import SchemaError

PROFILES = Path(__file__).parents[3] / "connectors" / "profiles"
AT = datetime(2026, 11, 23, 9, 0, 0)
Rows = list[tuple[str, Mapping[str, Any]]]


def refused(profile: str, rows: Rows) -> set[str]:
    """Keys of the rows the profile would send to the dead-letter stream."""
    mapper = Mapper(load_connector_spec(PROFILES / f"{profile}.yaml"))
    codec = EventCodec()
    failed = set()
    for key, data in rows:
        raw = SourceRecord(partition="p", offset={}, table="t", key=key, version="v", data=data)
        try:
            record = mapper.map(raw, datetime.now(UTC))
            if check_record(mapper.record_type, record):
                failed.add(key)
                continue
            codec.encode(mapper.record_type, record)
        except (RecordError, SchemaError, ValueError):
            failed.add(key)
    return failed


async def test_sql_departments(tmp_path: Path) -> None:
    async with FgwSimulator(f"sqlite:///{tmp_path / 'fgw.db'}", seed=1, bad_share=0.1) as fgw:
        await fgw.populate(1_000, until=AT)
        await fgw.add_cases(100, at=AT)
        await fgw.advance(50, at=AT)
        async with fgw.engine.connect() as conn:
            cases: Rows = [
                (r.SLBH, dict(r._mapping)) for r in await conn.execute(select(TZXM_SPBJ))
            ]
        assert refused("fgw-tzxm", cases) == fgw.bad_keys
    async with ScjgSimulator(f"sqlite:///{tmp_path / 'scjg.db'}", seed=1, bad_share=0.1) as sc:
        await sc.populate(1_000, until=AT)
        await sc.add_licences(100, at=AT)
        await sc.amend(30, at=AT)
        await sc.change_status(30, at=AT)
        async with sc.engine.connect() as conn:
            rows: Rows = [
                (str(r.ID), dict(r._mapping)) for r in await conn.execute(select(SCJG_YYZZ))
            ]
        assert refused("scjg-yyzz", rows) == sc.bad_keys


def test_http_department() -> None:
    sim = ZrzySimulator(seed=1, bad_share=0.1)
    sim.add_certificates(300, at=AT)
    sim.add_cases(200, at=AT)
    sim.advance(100, at=AT)
    sim.revoke(50, at=AT)
    certificates: Rows = [(str(item["ywh"]), item) for item in sim.certificates]
    cases: Rows = [(str(item["ywh"]), item) for item in sim.cases]
    assert refused("zrzy-bdcqz", certificates) == sim.bad_keys & {k for k, _ in certificates}
    assert refused("zrzy-ydys", cases) == sim.bad_keys & {k for k, _ in cases}


def test_file_department(tmp_path: Path) -> None:
    sim = RsSimulator(tmp_path, seed=1, bad_share=0.1, fullwidth_share=0.2)
    registrations: Rows = []
    for minute in range(5):
        path = sim.write_registrations(100, at=AT + timedelta(minutes=minute))
        text = path.read_bytes().decode("gbk")
        registrations += [(row["业务流水号"], row) for row in csv.DictReader(io.StringIO(text))]
    path = sim.write_payment_certificates(200, at=AT)
    text = path.read_bytes().decode("gbk")
    certificates: Rows = [(row["证明编号"], row) for row in csv.DictReader(io.StringIO(text))]
    workbook = openpyxl.load_workbook(sim.write_xlsx(200, at=AT, excel_dates=True))
    sheet = workbook.active
    assert sheet is not None
    header, *cells = list(sheet.iter_rows(values_only=True))
    certificates += [(str(row[0]), dict(zip(map(str, header), row, strict=True))) for row in cells]
    workbook.close()
    assert refused("rs-cbdj", registrations) == sim.bad_keys & {k for k, _ in registrations}
    assert refused("rs-jfzm", certificates) == sim.bad_keys & {k for k, _ in certificates}
