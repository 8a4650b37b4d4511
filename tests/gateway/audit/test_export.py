"""Audit export on SQLite and PostgreSQL: CSV and XLSX streamed, bounded, no id in clear."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.errors import AuditExportTooLarge
from gateway.audit.export import HEADER, prepare
from gateway.audit.filters import AuditQuery, parse_query
from gateway.audit.log import AuditLog
from gateway.audit.search import AuditSearch
from schemas.validators import make_resident_id
from tests.gateway.audit import BACKENDS, SECRET, database_url, entry, fresh_engine

HOLDER = make_resident_id("330802", date(1990, 3, 7), 42)
ROWS = 45


@pytest.fixture(params=BACKENDS)
async def search(request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[AuditSearch]:
    async with fresh_engine(database_url(request.param, request, data_dir)) as engine:
        await seed(engine)
        yield AuditSearch(engine, SECRET)


async def seed(engine: AsyncEngine) -> None:
    async with AuditLog(engine, SECRET) as audit:
        for i in range(ROWS):
            await audit.record(
                entry(
                    i,
                    holder_id=HOLDER,
                    path=f"/v1/certificates/{HOLDER}",
                    member_id="=cmd|' /C calc'!A0" if i == 3 else f"window-{i % 2}",
                    decision="deny" if i % 4 == 0 else "allow",
                    status=403 if i % 4 == 0 else 200,
                )
            )


async def body(stream: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in stream])


async def test_csv_has_a_bom_the_header_every_row_and_no_id(search: AuditSearch) -> None:
    export = await prepare(search, AuditQuery(), "csv")
    assert export.rows == ROWS and export.media_type.startswith("text/csv")
    data = await body(export.stream())
    assert data.startswith(b"\xef\xbb\xbf")
    assert HOLDER.encode() not in data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == HEADER
    assert [int(r[0]) for r in rows[1:]] == list(range(ROWS, 0, -1))
    assert {r[7] for r in rows[1:]} == {r[5].rsplit("/", 1)[1] for r in rows[1:]}  # pseudonym
    assert rows[-4][2] == "'=cmd|' /C calc'!A0"  # never a formula
    assert {r[16] for r in rows[1:]} == {"intact"}


async def test_xlsx_opens_with_every_row(search: AuditSearch) -> None:
    query = parse_query({"decision": "refused"}, SECRET)
    export = await prepare(search, query, "xlsx")
    data = await body(export.stream())
    assert data[:2] == b"PK" and HOLDER.encode() not in data
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == HEADER
    assert [r[0] for r in rows[1:]] == [i + 1 for i in range(ROWS - 1, -1, -1) if i % 4 == 0]
    assert {r[11] for r in rows[1:]} == {"拒绝 refused"}


async def test_more_rows_than_allowed_are_refused_before_a_byte(search: AuditSearch) -> None:
    with pytest.raises(AuditExportTooLarge) as caught:
        await prepare(search, AuditQuery(), "csv", max_rows=ROWS - 1)
    assert caught.value.code == "AUDIT_EXPORT_TOO_LARGE"
    exact = await prepare(search, AuditQuery(), "xlsx", max_rows=ROWS)
    assert exact.rows == ROWS and exact.filename() == "audit.xlsx"


async def test_an_id_in_clear_in_an_old_row_is_masked_in_the_file(search: AuditSearch) -> None:
    from schemas.validators import mask
    from tests.gateway.audit import execute

    await execute(search.engine, f"UPDATE audit_rows SET path = '/v1/x/{HOLDER}' WHERE seq = 1")
    for format_ in ("csv", "xlsx"):
        export = await prepare(search, AuditQuery(), format_)
        data = await body(export.stream())
        assert HOLDER.encode() not in data
        if format_ == "csv":
            assert f"/v1/x/{mask(HOLDER)}".encode() in data
