"""Joint-punishment lists (失信联合惩戒名单) as the credit platform exports them: GBK CSV or XLSX.

A city's 信用平台 publishes, every day, the entries added to and removed from the lists it
gathers: 失信被执行人 (from the courts), 重大税收违法失信主体 (from the tax bureau), 严重违法
失信名单 (from 市场监管). One export `sxmd_<yyyymmdd>_<seq>.csv` holds the new entries and the
removals (信用修复: the same 名单编号 again, with 移出日期 and 移出原因 filled in). Headers are
Chinese and a contract with the shipped connector (`profiles/xy-sxmd.yaml`).

Subjects are companies (统一社会信用代码) and persons (居民身份证号码). Bad rows (`bad_share`)
carry a 证件号码 with a wrong check digit; their 名单编号 are in `bad_keys`.
"""

from __future__ import annotations

import csv
import io
import os
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl

from connectors.simulators.clock import SimClock
from connectors.simulators.people import (
    REGIONS,
    Company,
    PartyFactory,
    department,
    wrong_check_digit,
)

__all__ = ["HEADER", "LISTS", "CreditListSimulator", "ListType"]

HEADER = (
    "名单编号 名单类型 主体名称 主体类型 证件类型 证件号码 认定部门 认定部门代码 认定依据 "
    "认定日期 列入日期 有效期至 移出日期 移出原因"
).split()
Row = dict[str, str]


@dataclass(frozen=True, slots=True)
class ListType:
    code: str  # the 名单编号 prefix; the profile maps 名单类型 to it
    name: str  # 名单类型, as exported
    authority: str  # department kind that decides it
    years: int | None  # how long a listing lasts; None: until removed


LISTS = {
    "SXBZXR": ListType("SXBZXR", "失信被执行人", "fy", None),
    "ZDSSWF": ListType("ZDSSWF", "重大税收违法失信主体", "sw", 3),
    "YZWFSX": ListType("YZWFSX", "严重违法失信名单", "scjg", 3),
}
_REASONS = ("已履行生效法律文书确定的义务", "信用修复", "有效期届满前申请提前移出")


class CreditListSimulator:
    """Writes list exports into `folder` (created if missing)."""

    def __init__(
        self, folder: Path, *, seed: int = 0, bad_share: float = 0.0, region: str = "330802"
    ) -> None:
        if region not in REGIONS:
            raise ValueError(f"unknown region {region!r}; known: {', '.join(REGIONS)}")
        self.folder = folder
        self.region = region
        self.bad_keys: set[str] = set()
        self.entries: dict[str, Row] = {}  # every entry listed, by 名单编号, as last exported
        self._rng = random.Random(seed)
        self._parties = PartyFactory(self._rng, region)
        self._bad_share = bad_share
        self._clock = SimClock()
        self._pending: list[Row] = []
        self._seq = 0

    def list_company(
        self,
        list_code: str = "SXBZXR",
        company: Company | None = None,
        at: datetime | None = None,
        *,
        spoil: bool | None = None,
    ) -> str:
        """Put a company on a list (in the next export); returns the 名单编号. `spoil` forces
        (or prevents) a bad 证件号码; by default `bad_share` decides."""
        company = company or self._parties.company()
        return self._add(
            list_code, company.name, "法人", "统一社会信用代码", company.uscc, at, spoil
        )

    def list_person(self, list_code: str = "SXBZXR", at: datetime | None = None) -> str:
        """Put a person on a list (失信被执行人 are often persons); returns the 名单编号."""
        now = self._clock.now(at)
        person = self._parties.person(now)
        return self._add(
            list_code, person.name, "自然人", "居民身份证", person.id_number, now, None
        )

    def add_entries(self, n: int, at: datetime | None = None) -> list[str]:
        """n entries across the lists, about a third of them persons."""
        keys = []
        for _ in range(n):
            code = self._rng.choice(sorted(LISTS))
            if code == "SXBZXR" and self._rng.random() < 0.5:
                keys.append(self.list_person(code, at))
            else:
                keys.append(self.list_company(code, at=at))
        return keys

    def remove(self, key: str, reason: str | None = None, at: datetime | None = None) -> None:
        """Take an entry off its list (信用修复) in the next export."""
        now = self._clock.now(at)
        row = dict(self.entries[key])
        row["移出日期"] = f"{now:%Y-%m-%d}"
        row["移出原因"] = reason or self._rng.choice(_REASONS)
        self.entries[key] = row
        self._pending.append(row)

    def write_export(
        self, encoding: str = "gbk", at: datetime | None = None, *, xlsx: bool = False
    ) -> Path:
        """Write what was added and removed since the last export; returns the file."""
        now = self._clock.now(at)
        self._seq += 1
        name = f"sxmd_{now:%Y%m%d}_{self._seq:03d}.{'xlsx' if xlsx else 'csv'}"
        self.folder.mkdir(parents=True, exist_ok=True)
        rows, self._pending = self._pending, []
        temp = self.folder / f".{name}.part"
        if xlsx:
            book = openpyxl.Workbook(write_only=True)
            sheet = book.create_sheet("失信联合惩戒名单")
            sheet.append(HEADER)
            for row in rows:
                sheet.append([row[h] for h in HEADER])
            book.save(temp)
        else:
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\r\n")
            writer.writerow(HEADER)
            writer.writerows([row[h] for h in HEADER] for row in rows)
            temp.write_bytes(buffer.getvalue().encode(encoding))
        final = self.folder / name
        os.replace(temp, final)
        return final

    def _add(
        self,
        list_code: str,
        name: str,
        kind: str,
        id_type: str,
        id_number: str,
        at: datetime | None,
        spoil: bool | None,
    ) -> str:
        listing = LISTS[list_code]
        now = self._clock.now(at)
        authority = department(self.region, listing.authority)
        decided = now.date() - timedelta(days=self._rng.randint(1, 20))
        key = f"{list_code}{self.region}{now:%Y%m%d}{len(self.entries) + 1:05d}"
        if spoil if spoil is not None else self._rng.random() < self._bad_share:
            id_number = wrong_check_digit(self._rng, id_number)
            self.bad_keys.add(key)
        row: Row = {
            "名单编号": key,
            "名单类型": listing.name,
            "主体名称": name,
            "主体类型": kind,
            "证件类型": id_type,
            "证件号码": id_number,
            "认定部门": authority.name,
            "认定部门代码": authority.code,
            "认定依据": self._basis(listing, decided),
            "认定日期": f"{decided:%Y-%m-%d}",
            "列入日期": f"{now:%Y-%m-%d}",
            "有效期至": _until(now.date(), listing.years),
            "移出日期": "",
            "移出原因": "",
        }
        self.entries[key] = row
        self._pending.append(row)
        return key

    def _basis(self, listing: ListType, decided: date) -> str:
        number = self._rng.randint(100, 9999)
        if listing.code == "SXBZXR":
            return f"（{decided.year}）浙{self.region[:4]}执{number}号"
        if listing.code == "ZDSSWF":
            return f"税稽罚〔{decided.year}〕{number}号；《重大税收违法失信主体信息公布管理办法》"
        return "《市场监督管理严重违法失信名单管理办法》第十二条"


def _until(start: date, years: int | None) -> str:
    if years is None:
        return ""
    try:
        return f"{start.replace(year=start.year + years) - timedelta(days=1):%Y-%m-%d}"
    except ValueError:  # 29 February
        return f"{start.replace(year=start.year + years, day=28):%Y-%m-%d}"
