"""Export an audit search as CSV or XLSX (审计导出), streamed.

An export holds at most `MAX_EXPORT_ROWS` rows (100,000): `prepare` counts the matches (a
bounded count, never further than one past the limit) and refuses a larger one with
`AuditExportTooLarge` before a byte is sent, so a person narrows the search rather than getting
a cut-off file. Rows are read in keyset batches (gateway.audit.search) and written as they come:
CSV straight to the response; XLSX through openpyxl's write-only workbook into a temporary file
(a zip is only complete at its end), which is then streamed in chunks. Memory stays flat.

Cells hold what the search shows: holders as pseudonyms, never ids (and should a row hold a
resident id in clear after all, one written before paths were pseudonymised, it is masked). A
text that a spreadsheet would take for a formula (starting with = + - @, a tab or a return)
gets a leading apostrophe; control characters (a caller's path may hold them; XLSX cannot)
become U+FFFD.
CSV is UTF-8 with a byte-order mark, which Excel in a Chinese locale needs to read it as UTF-8.
"""

from __future__ import annotations

import asyncio
import csv
import io
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import IO, Literal

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from gateway.audit.errors import AuditExportTooLarge
from gateway.audit.filters import AuditQuery, local_text
from gateway.audit.search import AuditRecord, AuditSearch
from schemas.validators import mask_ids_in_text

MAX_EXPORT_ROWS = 100_000
BATCH = 2000
CHUNK = 64 * 1024
Format = Literal["csv", "xlsx"]
MEDIA_TYPES: dict[Format, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
HEADER = (
    "序号 seq",
    "时间 time (Asia/Shanghai)",
    "成员 member",
    "密钥 keyid",
    "方法 method",
    "路径 path",
    "路由 route",
    "持有人假名 holder pseudonym",
    "持有人类型 holder type",
    "事项编码 item code",
    "办件编号 case",
    "结果 decision",
    "拒绝代码 code",
    "状态 status",
    "请求数 requests",
    "文件 SHA-256",
    "行校验 row check",
)
_DECISION = {"allow": "允许 allowed", "deny": "拒绝 refused"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Export:
    """An export ready to stream: `rows` matched (checked against the limit)."""

    search: AuditSearch
    query: AuditQuery
    rows: int
    format: Format

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]

    def filename(self, stem: str = "audit") -> str:
        return f"{stem}.{self.format}"

    def stream(self) -> AsyncIterator[bytes]:
        return _csv(self) if self.format == "csv" else _xlsx(self)


async def prepare(
    search: AuditSearch, query: AuditQuery, format: Format, *, max_rows: int = MAX_EXPORT_ROWS
) -> Export:
    """An export of `query`, or `AuditExportTooLarge` when more than `max_rows` rows match."""
    found = await search.count_upto(query, max_rows + 1)
    if found > max_rows:
        raise AuditExportTooLarge(
            f"more than {max_rows:,} rows match: narrow the search (time range, member, item) "
            "and export in parts"
        )
    return Export(search, query, found, format)


def cells(row: AuditRecord) -> list[str | int | None]:
    """One row as the export's cells, in HEADER's order."""
    return [
        row.seq,
        local_text(row.at_ms).replace("T", " "),
        _safe(row.member_id),
        _safe(row.keyid),
        _safe(row.method),
        _safe(row.path),
        _safe(row.route),
        row.holder,
        _safe(row.holder_type),
        _safe(row.purpose),
        _safe(row.case_no),
        _DECISION.get(row.decision, row.decision),
        _safe(row.code),
        row.status,
        row.requests,
        row.content_sha256,
        row.check,
    ]


def _safe(text: str | None) -> str | None:
    """`text` as a cell: no resident id in clear, never read as a formula, no control
    character (XLSX refuses them)."""
    if not text:
        return text
    text = mask_ids_in_text(ILLEGAL_CHARACTERS_RE.sub("\ufffd", text))
    return "'" + text if text.startswith(_FORMULA_START) else text


async def _rows(export: Export) -> AsyncIterator[list[AuditRecord]]:
    async for batch in export.search.batches(export.query, batch=BATCH, max_rows=export.rows):
        yield batch


async def _csv(export: Export) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    yield b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")
    async for batch in _rows(export):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(cells(row) for row in batch)
        yield buffer.getvalue().encode("utf-8")


async def _xlsx(export: Export) -> AsyncIterator[bytes]:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("审计 audit")
    sheet.append(HEADER)
    with tempfile.TemporaryFile() as file:
        async for batch in _rows(export):
            await asyncio.to_thread(_append, sheet.append, batch)
        await asyncio.to_thread(_save, book, file)
        while chunk := await asyncio.to_thread(file.read, CHUNK):
            yield chunk


def _append(append: Callable[[list[str | int | None]], None], batch: list[AuditRecord]) -> None:
    for row in batch:
        append(cells(row))


def _save(book: Workbook, file: IO[bytes]) -> None:
    book.save(file)
    file.seek(0)
