"""Application materials (申请材料) the simulated applicants hand in, as real files.

A shared material catalog (材料目录) — codes the departments agree on, so a window can ask for a
holder's materials of one code whichever department took them — and the documents themselves:
an organisation's 营业执照 scan and 法定代表人身份证明, a person's 居民身份证 scan, and per case its
own application report. An applicant's documents are the same bytes every time (seeded by the
holder's id), so the same 营业执照 scan handed in with two cases, or to two departments, is
stored once by govgate's file store.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import lru_cache

from connectors.simulators.scans import jpeg, pdf

__all__ = ["CATALOG", "Document", "case_document", "holder_documents"]

# 材料目录: code → name. Reusable ones (可复用) are a holder's; the others belong to one case.
CATALOG: dict[str, str] = {
    "CL0101": "营业执照（副本）扫描件",
    "CL0102": "法定代表人身份证明",
    "CL0103": "居民身份证扫描件",
    "CL0201": "项目申请报告",
    "CL0202": "建设工程规划许可证扫描件",
    "CL0203": "施工图设计文件审查合格书",
    "CL0204": "项目投资承诺书",
}


@dataclass(frozen=True, slots=True)
class Document:
    """One file an applicant hands in."""

    catalog_code: str
    name: str
    extension: str  # pdf, jpg
    data: bytes
    reusable: bool
    valid_until: dt.date | None  # None: indefinite (长期)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _days(seed: str, modulo: int) -> int:
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:4], "big") % modulo


@lru_cache(maxsize=4096)
def holder_documents(id_number: str, name: str, organization: bool) -> tuple[Document, ...]:
    """The reusable documents of one holder: the same bytes on every call.

    An organisation's 法定代表人身份证明 is valid for a year from a date fixed by its code, so
    about a third of them have expired by now: the gateway must list those as expired.
    """
    if not organization:
        expiry = dt.date(2027, 1, 1) + dt.timedelta(days=_days(id_number, 3650))
        scan = jpeg(f"{id_number}/CL0103", note=f"ID card scan {id_number[:6]}")
        return (Document("CL0103", CATALOG["CL0103"], "jpg", scan, True, expiry),)
    licence = jpeg(f"{id_number}/CL0101", note=f"business licence scan {id_number}")
    issued = dt.date(2025, 6, 1) + dt.timedelta(days=_days(id_number, 540))
    proof = pdf(
        CATALOG["CL0102"],
        [
            "Certificate of legal representative",
            f"Unified social credit code: {id_number}",
            f"Issued: {issued:%Y-%m-%d}, valid for one year",
        ],
    )
    return (
        Document("CL0101", CATALOG["CL0101"], "jpg", licence, True, None),
        Document("CL0102", CATALOG["CL0102"], "pdf", proof, True, issued + dt.timedelta(days=365)),
    )


def case_document(catalog_code: str, case_no: str, project: str, holder_id: str) -> Document:
    """A document of one case only (an application report, a plan): not reusable."""
    title = CATALOG[catalog_code]
    lines = [
        f"{catalog_code} {case_no}",
        f"Applicant: {holder_id}",
        f"Project: {hashlib.sha256(project.encode()).hexdigest()[:16]}",
        *(f"Section {n}: " + "lorem ipsum " * (3 + _days(case_no + str(n), 6)) for n in range(8)),
    ]
    return Document(catalog_code, title, "pdf", pdf(title, lines), False, None)
