"""人社 social insurance (社会保险) as files dropped in a folder: GBK CSV and XLSX exports.

Two exports, as a county 社保 system writes them for other departments:
`cbdj_<yyyymmdd>_<seq>.csv` — 参保登记 cases, and `jfzm_<yyyymmdd>_<seq>.csv` (or `.xlsx`) —
社会保险参保缴费证明 (payment certificates). Headers are Chinese, dates come in three layouts
(`2026/11/23`, `2026-11-23 10:00:00`, `20261123`), and a few rows carry full-width digits, as
real exports do. A file is written under a hidden temporary name and renamed into place, so
a watcher never sees half of one. Headers are a contract with the shipped connector mapping.

A registration still 受理 may appear again in a later file with its new status (已办结 or
退回), keeping its 业务流水号. Bad rows (`bad_share`) carry one defect: 公民身份号码 with a wrong
check digit, an impossible date (受理时间 of a 受理 row, 办结时间 of a finished one, 开具日期 of
a certificate), 姓名 or 公民身份号码 empty, or an unknown 办理状态 ("待审核"). Their keys
(业务流水号 / 证明编号) are in `bad_keys`.
"""

from __future__ import annotations

import csv
import io
import os
import random
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl

from connectors.simulators.clock import SimClock, dashed
from connectors.simulators.defects import Defect, DefectBook, SpoilSpec
from connectors.simulators.people import REGIONS, PartyFactory, department, fullwidth

__all__ = ["CERTIFICATE_HEADER", "INSURANCES", "REGISTRATION_HEADER", "RsSimulator"]

REGISTRATION_HEADER = (
    "业务流水号 个人编号 姓名 公民身份号码 参保单位名称 单位统一社会信用代码 险种 参保日期 "
    "办理状态 经办机构 经办人 行政区划 受理时间 办结时间"
).split()
CERTIFICATE_HEADER = (
    "证明编号 姓名 公民身份号码 险种 缴费起始年月 缴费截止年月 累计缴费月数 开具日期 经办机构 "
    "行政区划 有效期至"
).split()
INSURANCES = ("企业职工基本养老保险", "失业保险", "工伤保险")
_INSURANCE_WEIGHTS = (50, 25, 25)
REGISTRATION_STATUSES = ("受理", "已办结", "退回")

_LAYOUT = "%Y-%m-%d %H:%M:%S"
_OPEN_SPOIL = SpoilSpec(
    ids=("公民身份号码",),
    dates=(("受理时间", _LAYOUT),),
    required=("姓名", "公民身份号码"),
    codes=(("办理状态", ("待审核",)),),
    missing_values=("",),
)
# A finished registration's date defect is in 办结时间, the time of its current step.
_DONE_SPOIL = SpoilSpec(
    ids=_OPEN_SPOIL.ids,
    dates=(("办结时间", _LAYOUT),),
    required=_OPEN_SPOIL.required,
    codes=_OPEN_SPOIL.codes,
    missing_values=("",),
)
_CERT_SPOIL = SpoilSpec(
    ids=("公民身份号码",),
    dates=(("开具日期", "%Y%m%d"),),
    required=("姓名", "公民身份号码"),
    missing_values=("",),
)
_VALID_DAYS = 90  # a payment certificate is valid for about three months
Row = dict[str, object]


class RsSimulator:
    """Writes 人社 export files into `folder` (created if missing)."""

    def __init__(
        self,
        folder: Path,
        *,
        seed: int = 0,
        bad_share: float = 0.0,
        region: str = "330802",
        fullwidth_share: float = 0.05,
    ) -> None:
        if region not in REGIONS:
            raise ValueError(f"unknown region {region!r}; known: {', '.join(REGIONS)}")
        self.folder = folder
        self.region = region
        self.office = department(region, "rs")
        self._rng = random.Random(seed)
        self._parties = PartyFactory(self._rng, region)
        self._clock = SimClock()
        self._book = DefectBook(self._rng, bad_share)
        self._fullwidth_share = fullwidth_share
        self._handlers = [self._parties.name() for _ in range(5)]
        self._open: dict[str, Row] = {}  # registrations still 受理, by 业务流水号
        self._last_seq: dict[str, int] = {}

    @property
    def bad_keys(self) -> set[str]:
        """业务流水号 / 证明编号 of the rows generated with a defect."""
        return self._book.bad_keys

    @property
    def defects(self) -> dict[str, Defect]:
        return self._book.defects

    def write_registrations(
        self, n: int, encoding: str = "gbk", at: datetime | None = None
    ) -> Path:
        """Write a 参保登记 CSV of n rows (some re-exporting earlier open cases)."""
        now = self._clock.now(at)
        name = self._next_name("cbdj", now, "csv")
        seq = name.split("_")[2].split(".")[0]
        updates = min(len(self._open), self._rng.randint(0, n // 3))
        rows = [self._finish(key, now) for key in self._rng.sample(sorted(self._open), updates)]
        bad = self._book.plan(n - updates)
        for index in range(n - updates):
            key = f"CB{self.region}{now:%Y%m%d}{seq}{index + 1:04d}"
            row = self._registration(key, now)
            if index in bad:
                spec = _OPEN_SPOIL if row["办理状态"] == "受理" else _DONE_SPOIL
                self._book.spoil(key, spec, row, now)
            row = self._maybe_fullwidth(row, ("公民身份号码", "行政区划"))
            if row["办理状态"] == "受理":
                self._open[key] = dict(row)
            rows.append(row)
        return self._write_csv(name, REGISTRATION_HEADER, rows, encoding)

    def write_payment_certificates(
        self, n: int, encoding: str = "gbk", at: datetime | None = None
    ) -> Path:
        """Write a 参保缴费证明 CSV of n rows."""
        now = self._clock.now(at)
        name = self._next_name("jfzm", now, "csv")
        return self._write_csv(name, CERTIFICATE_HEADER, self._certificates(n, now, name), encoding)

    def write_xlsx(self, n: int, at: datetime | None = None, *, excel_dates: bool = False) -> Path:
        """Write the payment certificates as XLSX; `excel_dates` stores 开具日期 and 有效期至
        as date cells (Excel serial numbers) instead of text, as some exports do."""
        now = self._clock.now(at)
        name = self._next_name("jfzm", now, "xlsx")
        rows = self._certificates(n, now, name)
        workbook = openpyxl.Workbook(write_only=True)
        sheet = workbook.create_sheet("参保缴费证明")
        sheet.append(CERTIFICATE_HEADER)
        for row in rows:
            cells = dict(row)
            months = str(cells["累计缴费月数"])
            if months.isascii() and months.isdigit():
                cells["累计缴费月数"] = int(months)
            if excel_dates:
                for field in ("开具日期", "有效期至"):
                    cells[field] = _as_date(cells[field])
            sheet.append([cells[field] for field in CERTIFICATE_HEADER])
        temp = self.folder / f".{name}.part"
        workbook.save(temp)
        return self._publish(temp, name)

    def _registration(self, key: str, now: datetime) -> Row:
        rng, parties = self._rng, self._parties
        person = parties.person(now, min_age=18, max_age=60)
        employer = parties.company()
        status = rng.choices(REGISTRATION_STATUSES, weights=(30, 60, 10))[0]
        accepted = now - timedelta(seconds=rng.randint(300, 36_000))
        finished = accepted + timedelta(
            seconds=rng.randint(60, int((now - accepted).total_seconds()))
        )
        row: Row = {
            "业务流水号": key,
            "个人编号": f"{self.region[:4]}{rng.randrange(10**10):010d}",
            "姓名": person.name,
            "公民身份号码": person.id_number,
            "参保单位名称": employer.name,
            "单位统一社会信用代码": employer.uscc,
            "险种": rng.choices(INSURANCES, weights=_INSURANCE_WEIGHTS)[0],
            "参保日期": f"{now.date() - timedelta(days=rng.randint(0, 30)):%Y/%m/%d}",
            "办理状态": status,
            "经办机构": self.office.name,
            "经办人": rng.choice(self._handlers),
            "行政区划": self.region,
            "受理时间": dashed(accepted),
            "办结时间": "" if status == "受理" else dashed(finished),
        }
        return row

    def _finish(self, key: str, now: datetime) -> Row:
        """An earlier 受理 registration, exported again now that it is done."""
        row = self._open.pop(key)
        updates: Row = {
            "办理状态": "已办结" if self._rng.random() < 0.85 else "退回",
            "办结时间": dashed(now),
        }
        self._book.keep(key, updates)
        return row | updates

    def _certificates(self, n: int, now: datetime, name: str) -> list[Row]:
        rng = self._rng
        seq = name.split("_")[2].split(".")[0]
        bad = self._book.plan(n)
        rows = []
        for index in range(n):
            key = f"JF{self.region}{now:%Y%m%d}{seq}{index + 1:04d}"
            person = self._parties.person(now, min_age=20, max_age=65)
            last = (now.replace(day=1) - timedelta(days=1)).date()
            first_year = rng.randint(max(person.birth.year + 18, 1995), last.year)
            first = date(
                first_year, rng.randint(1, 12 if first_year < last.year else last.month), 1
            )
            months = (last.year - first.year) * 12 + last.month - first.month + 1
            paid = months - rng.randint(0, min(24, months // 10))
            row: Row = {
                "证明编号": key,
                "姓名": person.name,
                "公民身份号码": person.id_number,
                "险种": rng.choices(INSURANCES, weights=_INSURANCE_WEIGHTS)[0],
                "缴费起始年月": f"{first:%Y%m}",
                "缴费截止年月": f"{last:%Y%m}",
                "累计缴费月数": str(paid),
                "开具日期": f"{now:%Y%m%d}",
                "经办机构": self.office.name,
                "行政区划": self.region,
                "有效期至": f"{now.date() + timedelta(days=_VALID_DAYS):%Y%m%d}",
            }
            if index in bad:
                self._book.spoil(key, _CERT_SPOIL, row, now)
            rows.append(self._maybe_fullwidth(row, ("公民身份号码", "累计缴费月数", "开具日期")))
        return rows

    def _maybe_fullwidth(self, row: Row, fields: tuple[str, ...]) -> Row:
        if self._rng.random() < self._fullwidth_share:
            for field in fields:
                row[field] = fullwidth(str(row[field]))
        return row

    def _next_name(self, prefix: str, now: datetime, extension: str) -> str:
        """`<prefix>_<yyyymmdd>_<seq>.<ext>`, the sequence continuing after any file of that
        day already in the folder or moved below it (done/, failed/)."""
        day = f"{now:%Y%m%d}"
        pattern = re.compile(rf"{prefix}_{day}_(\d+)\.")
        last = self._last_seq.get(f"{prefix}{day}", 0)
        self.folder.mkdir(parents=True, exist_ok=True)
        for path in self.folder.rglob(f"*{prefix}_{day}_*"):
            found = pattern.search(path.name)
            if found:
                last = max(last, int(found.group(1)))
        self._last_seq[f"{prefix}{day}"] = last + 1
        return f"{prefix}_{day}_{last + 1:03d}.{extension}"

    def _write_csv(self, name: str, header: list[str], rows: list[Row], encoding: str) -> Path:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows([row[field] for field in header] for row in rows)
        temp = self.folder / f".{name}.part"
        temp.write_bytes(buffer.getvalue().encode(encoding))
        return self._publish(temp, name)

    def _publish(self, temp: Path, name: str) -> Path:
        final = self.folder / name
        os.replace(temp, final)
        return final


def _as_date(value: object) -> object:
    """An 8-digit yyyyMMdd text as a date cell; anything else (an impossible date) as is."""
    text = str(value)
    if len(text) == 8 and text.isascii() and text.isdigit():
        try:
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            return value
    return value
