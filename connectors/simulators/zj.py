"""住建 building-permit materials (建筑工程施工许可 申请材料) dropped as scans with a GBK index.

The county's 住建 system cannot be queried; it exports what applicants handed in: the scans
and PDFs under `files/<yyyymmdd>/<业务编号>/`, and an index `cl_<yyyymmdd>_<seq>.csv` in GBK
naming each file (Windows-style relative path), its SHA-256 (文件摘要), the applicant
(申请单位, 统一社会信用代码), when it was handed in, whether it may be reused (是/否) and until
when (yyyyMMdd, or 长期). Files are written before their index, each under a hidden name
renamed into place, so a watcher never sees an index naming a file not yet there. The index
header is a contract with the shipped profile `zj-sgxk-cl`.

Every application hands in three: the company's 营业执照 scan (the same bytes it gives every
department: `materials.holder_documents`), the project's 建设工程规划许可证 scan and its
施工图设计文件审查合格书.
"""

from __future__ import annotations

import csv
import io
import os
import random
import re
from datetime import datetime
from pathlib import Path

from connectors.simulators.clock import SimClock
from connectors.simulators.materials import CATALOG, Document, holder_documents
from connectors.simulators.people import Company, PartyFactory
from connectors.simulators.scans import jpeg, pdf

__all__ = ["INDEX_HEADER", "ZjSimulator"]

INDEX_HEADER = (
    "材料编号 业务编号 材料名称 材料目录编码 文件路径 文件摘要 申请单位 统一社会信用代码 提交时间 "
    "是否可复用 有效期至"
).split()


class ZjSimulator:
    """Writes 住建 material drops into `folder` (created if missing)."""

    def __init__(self, folder: Path, *, seed: int = 0, region: str = "330802") -> None:
        self.folder = folder
        self.region = region
        self._rng = random.Random(seed)
        self._parties = PartyFactory(self._rng, region)
        self._clock = SimClock()
        self._companies: list[Company] = []
        self._last_seq: dict[str, int] = {}
        self._case_seq = 0

    def write_applications(
        self, n: int, at: datetime | None = None, *, applicant: Company | None = None
    ) -> Path:
        """n applications of three materials each, and their index; returns the index."""
        now = self._clock.now(at)
        rows: list[dict[str, object]] = []
        for _ in range(n):
            company = applicant or self._applicant()
            self._case_seq += 1
            case_no = (
                f"JS{self.region}{now:%Y%m%d}{self._rng.randrange(10**4):04d}{self._case_seq:04d}"
            )
            for number, document in enumerate(self._documents(company, case_no), start=1):
                relative = self._write_file(now, case_no, number, document)
                rows.append(self._row(company, case_no, number, document, relative, now))
        return self._write_index(now, rows)

    def _applicant(self) -> Company:
        if self._companies and self._rng.random() < 0.4:  # builders come back
            return self._rng.choice(self._companies)
        company = self._parties.company(industry="建材")
        self._companies.append(company)
        return company

    def _documents(self, company: Company, case_no: str) -> list[Document]:
        licence = holder_documents(company.uscc, company.name, True)[0]
        plan = jpeg(f"{case_no}/CL0202", note=f"planning permit {case_no}")
        review = pdf(
            CATALOG["CL0203"],
            ["Construction drawing review certificate", f"Case {case_no}", company.uscc],
        )
        return [
            licence,
            Document("CL0202", CATALOG["CL0202"], "jpg", plan, False, None),
            Document("CL0203", CATALOG["CL0203"], "pdf", review, False, None),
        ]

    def _write_file(self, now: datetime, case_no: str, number: int, doc: Document) -> str:
        parts = ["files", f"{now:%Y%m%d}", case_no, f"{number:02d}_{doc.name}.{doc.extension}"]
        path = self.folder.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.part")
        temp.write_bytes(doc.data)
        os.replace(temp, path)
        return "\\".join(parts)

    def _row(
        self,
        company: Company,
        case_no: str,
        number: int,
        doc: Document,
        relative: str,
        now: datetime,
    ) -> dict[str, object]:
        return {
            "材料编号": f"{case_no}{number:02d}",
            "业务编号": case_no,
            "材料名称": doc.name,
            "材料目录编码": doc.catalog_code,
            "文件路径": relative,
            "文件摘要": doc.sha256.upper(),  # the system writes hex in upper case
            "申请单位": company.name,
            "统一社会信用代码": company.uscc,
            "提交时间": f"{now:%Y/%m/%d %H:%M:%S}",
            "是否可复用": "是" if doc.reusable else "否",
            "有效期至": "长期" if doc.valid_until is None else f"{doc.valid_until:%Y%m%d}",
        }

    def _write_index(self, now: datetime, rows: list[dict[str, object]]) -> Path:
        day = f"{now:%Y%m%d}"
        pattern = re.compile(rf"cl_{day}_(\d+)\.")
        last = self._last_seq.get(day, 0)
        self.folder.mkdir(parents=True, exist_ok=True)
        for path in self.folder.rglob(f"*cl_{day}_*"):
            if found := pattern.search(path.name):
                last = max(last, int(found.group(1)))
        self._last_seq[day] = last + 1
        name = f"cl_{day}_{last + 1:03d}.csv"
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(INDEX_HEADER)
        writer.writerows([row[field] for field in INDEX_HEADER] for row in rows)
        temp = self.folder / f".{name}.part"
        temp.write_bytes(buffer.getvalue().encode("gbk"))
        final = self.folder / name
        os.replace(temp, final)
        return final
