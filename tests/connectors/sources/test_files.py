"""File-drop source against real files: 人社 social-insurance registrations (参保登记) exported as
UTF-8, UTF-8 with BOM, GBK and GB18030 CSVs and as XLSX, dropped into a real folder."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import time
from contextlib import aclosing
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from connectors.errors import SourceConfigError
from connectors.sources.base import Offset, SourceRecord
from connectors.sources.files import FileDropConfig, FileDropSource

HEADER = "业务流水号,　姓名　,公民身份号码,参保日期"  # an ideographic space around 姓名
ROWS = [
    "RS2026000001,张三,330802199001011234,２０２６/１１/２３",
    "ＲＳ2026000002, 李四 ,１３０１０５１９８５１２１２００２Ｘ,2026/11/24",
    "RS2026000003,王芳,520500200001010011,2026/11/25",
]
EXPECTED = [
    {
        "业务流水号": "RS2026000001",
        "姓名": "张三",
        "公民身份号码": "330802199001011234",
        "参保日期": "2026/11/23",
    },
    {
        "业务流水号": "RS2026000002",
        "姓名": "李四",
        "公民身份号码": "13010519851212002X",
        "参保日期": "2026/11/24",
    },
    {
        "业务流水号": "RS2026000003",
        "姓名": "王芳",
        "公民身份号码": "520500200001010011",
        "参保日期": "2026/11/25",
    },
]


def csv_text(rows: list[str] = ROWS, header: str = HEADER) -> str:
    return "\r\n".join([header, *rows]) + "\r\n"


class Offsets:
    """The runtime's saved offsets, in memory."""

    def __init__(self) -> None:
        self.saved: dict[str, Offset] = {}

    async def get(self, partition: str) -> Offset | None:
        return self.saved.get(partition)


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    path = tmp_path / "inbox"
    path.mkdir()
    return path


def make_source(inbox: Path, *, backfill: bool = True, **overrides: Any) -> FileDropSource:
    values: dict[str, Any] = {
        "folder": inbox,
        "key_columns": ["业务流水号"],
        "settle_s": 0.3,
        "poll_interval_s": 0.05,
    }
    return FileDropSource("rs-cbdj", FileDropConfig(**(values | overrides)), backfill=backfill)


def drop(inbox: Path, name: str, content: bytes, *, age_s: float = 60) -> Path:
    """Write a file as if it had been copied `age_s` seconds ago (settled)."""
    path = inbox / name
    path.write_bytes(content)
    then = time.time() - age_s
    os.utime(path, (then, then))
    return path


async def run(
    source: FileDropSource, offsets: Offsets, *, commit: bool = True, stop_after: int | None = None
) -> list[SourceRecord]:
    """Drive the source as the runtime does: save each batch's last offsets, then commit."""
    await source.start(offsets)
    records: list[SourceRecord] = []
    try:
        async with aclosing(source.batches()) as batches:
            async for batch in batches:
                records += batch
                last = {record.partition: record.offset for record in batch}
                for partition, offset in last.items() if commit else ():
                    offsets.saved[partition] = offset
                    await source.committed(partition, offset)
                if stop_after is not None and len(records) >= stop_after:
                    await source.stop()
    finally:
        await source.close()
    return records


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@pytest.mark.parametrize(
    ("encoding", "name"),
    [("utf-8", "cbdj-utf8.csv"), ("utf-8-sig", "cbdj-bom.csv"), ("gbk", "cbdj-gbk.CSV")],
)
async def test_decodes_and_normalizes_csv(inbox: Path, encoding: str, name: str) -> None:
    content = csv_text().encode(encoding)
    drop(inbox, name, content)

    records = await run(make_source(inbox), Offsets())

    assert [dict(r.data) for r in records] == EXPECTED
    digest = sha256(content)
    assert {r.partition for r in records} == {f"sha256:{digest}"}
    assert [r.key for r in records] == ["RS2026000001", "RS2026000002", "RS2026000003"]
    assert [r.version for r in records] == [f"sha256:{digest[:12]}:{n}" for n in (1, 2, 3)]
    assert [r.offset for r in records] == [
        {"file": name, "row": 1, "done": False},
        {"file": name, "row": 2, "done": False},
        {"file": name, "row": 3, "done": True},
    ]
    assert records[0].table == name
    assert not (inbox / name).exists() and (inbox / "done" / name).read_bytes() == content


async def test_gb18030_only_characters(inbox: Path) -> None:
    rows = [*ROWS, "RS2026000004,王䶮,520500200001010028,2026/11/26"]  # 䶮 is not in GBK
    drop(inbox, "cbdj.csv", csv_text(rows).encode("gb18030"))

    records = await run(make_source(inbox), Offsets())

    assert [dict(r.data) for r in records[:3]] == EXPECTED
    assert records[3].data["姓名"] == "王䶮"


async def test_xlsx_keeps_dates_and_numbers(inbox: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["业务流水号", "姓名", "公民身份号码", "参保日期", "缴费基数"])
    sheet.append(["RS2026000001", "张三", "330802199001011234", datetime(2026, 11, 23), 4500])
    sheet.append(["ＲＳ2026000002", "　李四", "13010519851212002X", "２０２６/１１/２４", 5200.5])
    path = inbox / "cbdj.xlsx"
    book.save(path)
    os.utime(path, (time.time() - 60, time.time() - 60))

    records = await run(make_source(inbox), Offsets())

    assert [dict(r.data) for r in records] == [
        {
            "业务流水号": "RS2026000001",
            "姓名": "张三",
            "公民身份号码": "330802199001011234",
            "参保日期": datetime(2026, 11, 23),
            "缴费基数": 4500,
        },
        {
            "业务流水号": "RS2026000002",
            "姓名": "李四",
            "公民身份号码": "13010519851212002X",
            "参保日期": "2026/11/24",
            "缴费基数": 5200.5,
        },
    ]
    assert records[-1].offset == {"file": "cbdj.xlsx", "row": 2, "done": True}
    assert (inbox / "done" / "cbdj.xlsx").exists()


async def test_moves_to_done_only_after_commit(inbox: Path) -> None:
    drop(inbox, "cbdj.csv", csv_text().encode("gbk"))
    offsets = Offsets()
    source = make_source(inbox)

    records = await run(source, offsets, commit=False)

    assert len(records) == 3 and (inbox / "cbdj.csv").exists()
    await source.committed(records[1].partition, records[1].offset)
    assert (inbox / "cbdj.csv").exists()
    await source.committed(records[2].partition, records[2].offset)
    assert not (inbox / "cbdj.csv").exists() and (inbox / "done" / "cbdj.csv").exists()


async def test_same_content_is_not_emitted_twice(inbox: Path) -> None:
    content = csv_text().encode("gbk")
    drop(inbox, "cbdj-1123.csv", content)
    offsets = Offsets()
    assert len(await run(make_source(inbox), offsets)) == 3

    drop(inbox, "cbdj-1123-copy.csv", content)  # re-dropped under another name
    drop(inbox, "cbdj-1123.csv", content)  # and under the same name
    again = await run(make_source(inbox), offsets)

    assert again == []
    done = sorted(p.name for p in (inbox / "done").iterdir())
    assert done == ["cbdj-1123-copy.csv", "cbdj-1123.1.csv", "cbdj-1123.csv"]


async def test_same_content_twice_in_one_scan(inbox: Path) -> None:
    content = csv_text().encode("utf-8")
    drop(inbox, "a.csv", content, age_s=60)
    drop(inbox, "b.csv", content, age_s=50)

    records = await run(make_source(inbox), Offsets(), commit=False)

    assert {r.table for r in records} == {"a.csv"} and len(records) == 3
    assert (inbox / "done" / "b.csv").exists() and (inbox / "a.csv").exists()


async def test_resumes_after_the_saved_row(inbox: Path) -> None:
    rows = [f"RS2026{n:06d},张{n},330802199001011234,2026/11/23" for n in range(1, 8)]
    drop(inbox, "cbdj.csv", csv_text(rows).encode("gb18030"))
    offsets = Offsets()

    first = await run(make_source(inbox, batch_size=3), offsets, stop_after=3)  # crash
    assert [r.offset["row"] for r in first] == [1, 2, 3]
    assert (inbox / "cbdj.csv").exists()

    rest = await run(make_source(inbox, batch_size=3), offsets)

    assert [r.key for r in rest] == [f"RS2026{n:06d}" for n in range(4, 8)]
    assert [r.offset["row"] for r in rest] == [4, 5, 6, 7]
    assert rest[-1].offset["done"] and (inbox / "done" / "cbdj.csv").exists()


async def test_bounded_batches(inbox: Path) -> None:
    rows = [f"RS2026{n:06d},张{n},330802199001011234,2026/11/23" for n in range(2500)]
    drop(inbox, "big.csv", csv_text(rows).encode("gbk"))
    source = make_source(inbox, batch_size=1000)
    await source.start(Offsets())

    sizes = [len(batch) async for batch in source.batches()]

    assert sizes == [1000, 1000, 500]


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("extra.csv", "业务流水号,姓名\nRS1,张三\nRS2,李四,多余\n".encode(), "TOO_MANY_CELLS"),
        ("nokey.csv", "流水号,姓名\nRS1,张三\n".encode(), "MISSING_KEY_COLUMN"),
        ("twice.csv", "业务流水号,姓名,姓名\nRS1,张三,张三\n".encode(), "BAD_HEADER"),
        ("fake.xlsx", b"PK\x03\x04 not really a workbook", "XLSX_UNREADABLE"),
        ("photo.csv", random.Random(7).randbytes(4096), "UNKNOWN_ENCODING"),
    ],
)
async def test_broken_file_goes_to_failed(
    inbox: Path, name: str, content: bytes, code: str
) -> None:
    drop(inbox, name, content, age_s=120)
    drop(inbox, "good.csv", csv_text().encode("gbk"), age_s=60)  # read after the broken one

    records = await run(make_source(inbox), Offsets())

    assert {r.table for r in records} == {"good.csv"}
    assert (inbox / "failed" / name).read_bytes() == content
    error = (inbox / "failed" / f"{name}.error.txt").read_text(encoding="utf-8")
    assert f"code: {code}\n" in error and "reason: " in error


async def test_wrong_explicit_encoding_fails_the_file(inbox: Path) -> None:
    drop(inbox, "cbdj.csv", csv_text().encode("gbk"))

    records = await run(make_source(inbox, encoding="utf-8"), Offsets())

    assert records == []
    error = (inbox / "failed" / "cbdj.csv.error.txt").read_text(encoding="utf-8")
    assert "code: DECODE_ERROR" in error


async def test_header_only_goes_to_done(inbox: Path) -> None:
    drop(inbox, "empty.csv", (HEADER + "\r\n").encode("gbk"))

    assert await run(make_source(inbox), Offsets()) == []
    assert (inbox / "done" / "empty.csv").exists()


async def test_file_still_being_written_waits(inbox: Path) -> None:
    drop(inbox, "old.csv", csv_text().encode("gbk"))
    written = time.monotonic()
    fresh = inbox / "fresh.csv"
    fresh.write_bytes(csv_text([ROWS[0]]).encode("gbk"))  # modified just now
    source = make_source(inbox, backfill=False, settle_s=0.6)
    await source.start(Offsets())
    seen: list[tuple[float, str]] = []

    try:
        async with aclosing(source.batches()) as batches:
            async for batch in batches:
                seen.append((time.monotonic() - written, batch[0].table))
                if len(seen) == 2:
                    await source.stop()
    finally:
        await source.close()

    assert [table for _, table in seen] == ["old.csv", "fresh.csv"]
    assert seen[0][0] < 0.5 <= seen[1][0] and seen[1][0] < 5


async def test_other_files_are_left_alone(inbox: Path) -> None:
    drop(inbox, "README.txt", b"not an export")
    drop(inbox, ".cbdj.csv.part", csv_text().encode("gbk"))

    assert await run(make_source(inbox), Offsets()) == []
    assert (inbox / "README.txt").exists() and (inbox / ".cbdj.csv.part").exists()


async def test_stop_wakes_polling(inbox: Path) -> None:
    source = make_source(inbox, backfill=False, poll_interval_s=30)
    await source.start(Offsets())

    async def consume() -> int:
        return sum([len(batch) async for batch in source.batches()])

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.1)
    await source.stop()
    assert await asyncio.wait_for(task, 2) == 0


async def test_missing_inbox_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(SourceConfigError, match="not a folder"):
        await make_source(tmp_path / "nowhere").start(Offsets())
