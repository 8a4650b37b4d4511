"""发改 attachments (附件): the materials filed with each investment-project case.

Table `TZXM_FJ` of the simulated 发改 database, one row per file: 附件编号 `FJBH`, the case
`SLBH`, 材料名称 `CLMC`, 材料目录编码 `CLBM`, the file's path on the department's file share
`WJLJ` (Windows style, `2026\\11\\FG…\\01_营业执照（副本）扫描件.jpg`), its size `WJDX` and the
SHA-256 the system recorded at upload `WJZY`, the applicant (`SQRMC`, `SQRZJLX`, `SQRZJHM`),
whether it may be reused `SFKFY` ('1'/'0'), 有效期至 `YXQZ` (yyyyMMdd, NULL: 长期), 上传时间
`SCSJ` and the watermark `GXSJ`. The files are written under the share folder.

Every application gets three attachments: the applicant's reusable documents (营业执照 scan
and 法定代表人身份证明 for an organisation; a person's 居民身份证 scan) and its own 项目申请报告
(and a person's 项目投资承诺书).
With `bad_share`, a file now and then is gone from the share, or does not match its recorded
hash, as happens on real shares; their `FJBH` are in `bad_keys` with the defect.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime
from pathlib import Path

from sqlalchemy import Column, Index, Integer, MetaData, String, Table

from connectors.simulators.clock import dashed
from connectors.simulators.materials import Document, case_document, holder_documents

__all__ = ["AttachmentWriter", "attachments_table"]


def attachments_table(metadata: MetaData) -> Table:
    return Table(
        "TZXM_FJ",
        metadata,
        Column("FJBH", String(40), primary_key=True, comment="附件编号"),
        Column("SLBH", String(32), comment="受理编号"),
        Column("CLMC", String(200), comment="材料名称"),
        Column("CLBM", String(32), comment="材料目录编码"),
        Column("WJLJ", String(500), comment="文件路径（文件共享，相对路径）"),
        Column("WJDX", Integer, comment="文件大小（字节）"),
        Column("WJZY", String(64), nullable=True, comment="文件摘要 SHA-256"),
        Column("SQRMC", String(200), comment="申请人名称"),
        Column("SQRZJLX", String(4), comment="申请人证件类型"),
        Column("SQRZJHM", String(32), comment="申请人证件号码"),
        Column("SFKFY", String(1), comment="是否可复用 1 是 0 否"),
        Column("YXQZ", String(8), nullable=True, comment="有效期至 yyyyMMdd"),
        Column("SCSJ", String(19), comment="上传时间 yyyy-MM-dd HH:mm:ss"),
        Column("GXSJ", String(19), comment="更新时间 yyyy-MM-dd HH:mm:ss"),
        Index("IX_TZXM_FJ_GXSJ", "GXSJ", "FJBH"),
    )


class AttachmentWriter:
    """Writes a case's files to the share and returns their `TZXM_FJ` rows."""

    def __init__(self, share: Path, rng: random.Random, bad_share: float = 0.0) -> None:
        self.share = share
        self._rng = rng
        self.bad_share = bad_share
        self.bad_keys: dict[str, str] = {}  # FJBH → FILE_MISSING / FILE_HASH_MISMATCH

    def rows(self, case: dict[str, object], at: datetime) -> list[dict[str, object]]:
        """Three attachments for the case row `case` (a `TZXM_SPBJ` row), uploaded at `at`."""
        slbh, holder = str(case["SLBH"]), str(case["SQRZJHM"])
        organization = case["SQRZJLX"] == "20"
        project = str(case.get("XMMC", ""))
        documents = [
            *holder_documents(holder, str(case["SQRMC"]), organization),
            case_document("CL0201", slbh, project, holder),
        ]
        if not organization:
            documents.append(case_document("CL0204", slbh, project, holder))
        return [self._row(case, n, doc, at) for n, doc in enumerate(documents, start=1)]

    def _row(
        self, case: dict[str, object], n: int, doc: Document, at: datetime
    ) -> dict[str, object]:
        slbh = str(case["SLBH"])
        fjbh = f"{slbh}-{n:02d}"
        relative = f"{at:%Y}\\{at:%m}\\{slbh}\\{n:02d}_{doc.name}.{doc.extension}"
        recorded = doc.sha256
        defect = None
        if self.bad_share and self._rng.random() < self.bad_share:
            defect = self._rng.choice(("FILE_MISSING", "FILE_HASH_MISMATCH"))
            self.bad_keys[fjbh] = defect
        if defect != "FILE_MISSING":
            self._write(relative, doc.data)
        if defect == "FILE_HASH_MISMATCH":  # the system recorded the hash of another upload
            recorded = hashlib.sha256(doc.data + b"\n").hexdigest()
        return {
            "FJBH": fjbh,
            "SLBH": slbh,
            "CLMC": doc.name,
            "CLBM": doc.catalog_code,
            "WJLJ": relative,
            "WJDX": len(doc.data),
            "WJZY": recorded,
            "SQRMC": case["SQRMC"],
            "SQRZJLX": case["SQRZJLX"],
            "SQRZJHM": case["SQRZJHM"],
            "SFKFY": "1" if doc.reusable else "0",
            "YXQZ": None if doc.valid_until is None else f"{doc.valid_until:%Y%m%d}",
            "SCSJ": dashed(at),
            "GXSJ": dashed(at),
        }

    def _write(self, relative: str, data: bytes) -> None:
        path = self.share.joinpath(*relative.split("\\"))
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.part")
        temp.write_bytes(data)
        temp.replace(path)
