"""Tests for connectors/simulators/rs.py: the 人社 GBK CSV and XLSX drops."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from connectors.simulators.rs import (
    CERTIFICATE_HEADER,
    REGISTRATION_HEADER,
    REGISTRATION_STATUSES,
    RsSimulator,
)
from tests.connectors.simulators.rowcheck import (
    Check,
    assert_defects,
    code,
    party_id,
    region,
    required,
    timestamp,
)

AT = datetime(2026, 11, 23, 16, 0, 0)
REGISTRATION_CHECKS: dict[str, Check] = {
    "公民身份号码": party_id(lambda _row: "RESIDENT_ID"),
    "单位统一社会信用代码": party_id(lambda _row: "USCC"),
    "姓名": required,
    "参保日期": timestamp(),
    "受理时间": timestamp(),
    "办结时间": timestamp(optional=True),
    "办理状态": code(REGISTRATION_STATUSES),
    "行政区划": region,
}
CERTIFICATE_CHECKS: dict[str, Check] = {
    "公民身份号码": party_id(lambda _row: "RESIDENT_ID"),
    "姓名": required,
    "开具日期": timestamp(),
    "有效期至": timestamp(),
    "行政区划": region,
}


def read_csv(path: Path, encoding: str = "gbk") -> list[dict[str, str]]:
    text = path.read_bytes().decode(encoding)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    return list(reader)


def test_registrations_are_gbk_csv_with_the_agreed_header(tmp_path: Path) -> None:
    sim = RsSimulator(tmp_path / "drop", seed=4, bad_share=0.1, fullwidth_share=0.3)
    path = sim.write_registrations(40, at=AT)
    assert path.name == "cbdj_20261123_001.csv"
    assert path.read_bytes().decode("gbk").splitlines()[0].split(",") == REGISTRATION_HEADER
    rows = read_csv(path)
    assert len(rows) == 40
    assert any(not row["公民身份号码"].isascii() for row in rows)  # full-width digits
    for row in rows:
        assert re.fullmatch(r"\d{4}/\d\d/\d\d", row["参保日期"])
        if row["业务流水号"] not in sim.bad_keys:
            assert (row["办结时间"] == "") == (row["办理状态"] == "受理")
    assert len(sim.bad_keys) == 4
    assert_defects(
        {row["业务流水号"]: row for row in rows}, REGISTRATION_CHECKS, sim.bad_keys, sim.defects
    )
    assert [p.name for p in (tmp_path / "drop").iterdir()] == [path.name]  # no temp left


def test_open_registrations_come_back_finished_in_a_later_file(tmp_path: Path) -> None:
    sim = RsSimulator(tmp_path, seed=1, bad_share=0.1)
    latest: dict[str, dict[str, str]] = {}
    history: dict[str, list[str]] = {}
    for round_ in range(6):
        path = sim.write_registrations(30, at=AT + timedelta(minutes=round_))
        for row in read_csv(path):
            latest[row["业务流水号"]] = row
            history.setdefault(row["业务流水号"], []).append(row["办理状态"])
    repeated = {key: states for key, states in history.items() if len(states) > 1}
    assert repeated
    for states in repeated.values():
        assert states[0] in ("受理", "待审核") and states[1] in ("已办结", "退回", "待审核")
    assert_defects(latest, REGISTRATION_CHECKS, sim.bad_keys, sim.defects)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"cbdj_20261123_{n:03d}.csv" for n in range(1, 7)]


def test_payment_certificates_in_gbk_and_utf8(tmp_path: Path) -> None:
    sim = RsSimulator(tmp_path, seed=2, bad_share=0.2, fullwidth_share=0.3)
    gbk = sim.write_payment_certificates(25, at=AT)
    utf8 = sim.write_payment_certificates(25, encoding="utf-8-sig", at=AT)
    assert (gbk.name, utf8.name) == ("jfzm_20261123_001.csv", "jfzm_20261123_002.csv")
    assert utf8.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = read_csv(gbk) + read_csv(utf8, "utf-8-sig")
    assert list(rows[0]) == CERTIFICATE_HEADER
    for row in rows:
        assert re.fullmatch(r"\d{6}", row["缴费起始年月"]) and row["缴费截止年月"] == "202610"
        assert row["有效期至"] == "20270221"
    assert len(sim.bad_keys) == 10
    assert_defects({r["证明编号"]: r for r in rows}, CERTIFICATE_CHECKS, sim.bad_keys, sim.defects)


@pytest.mark.parametrize("excel_dates", [False, True])
def test_payment_certificates_as_xlsx(tmp_path: Path, excel_dates: bool) -> None:
    sim = RsSimulator(tmp_path, seed=3, bad_share=0.2)
    path = sim.write_xlsx(10, at=AT, excel_dates=excel_dates)
    assert path.name == "jfzm_20261123_001.xlsx"
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        sheet = workbook.active
        assert sheet is not None
        header, *rows = list(sheet.iter_rows(values_only=True))
    finally:
        workbook.close()
    assert list(header) == CERTIFICATE_HEADER
    assert len(rows) == 10
    issued = {row[7] for row in rows}
    if excel_dates:
        assert datetime(2026, 11, 23) in issued  # a date cell (an Excel serial in the file)
    else:
        assert "20261123" in issued
    assert all(isinstance(row[6], int) for row in rows)
    records = {str(row[0]): dict(zip(CERTIFICATE_HEADER, row, strict=True)) for row in rows}
    assert_defects(records, CERTIFICATE_CHECKS, sim.bad_keys, sim.defects)


def test_the_sequence_continues_after_files_were_moved(tmp_path: Path) -> None:
    first = RsSimulator(tmp_path, seed=0).write_registrations(3, at=AT)
    (tmp_path / "done").mkdir()
    first.rename(tmp_path / "done" / first.name)
    second = RsSimulator(tmp_path, seed=0).write_registrations(3, at=AT)
    assert second.name == "cbdj_20261123_002.csv"


def test_the_same_seed_writes_the_same_files(tmp_path: Path) -> None:
    def run(folder: Path, seed: int) -> bytes:
        sim = RsSimulator(folder, seed=seed, bad_share=0.1)
        sim.write_registrations(20, at=AT)
        return sim.write_registrations(20, at=AT).read_bytes()

    assert run(tmp_path / "a", 1) == run(tmp_path / "b", 1)
    assert run(tmp_path / "c", 1) != run(tmp_path / "d", 2)
