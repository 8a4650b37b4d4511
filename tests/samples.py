"""Sample canonical records for tests: valid by construction, varied by argument."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from schemas.ids import event_id
from schemas.validators import make_resident_id, make_uscc

FETCHED = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def provenance(system: str, table: str, key: str, version: str = "1") -> dict[str, Any]:
    return {
        "source_system": system,
        "source_table": table,
        "source_key": key,
        "source_version": version,
        "fetched_at": FETCHED,
        "connector": "test",
    }


def person(seq: int = 1) -> dict[str, Any]:
    return {
        "type": "PERSON",
        "name": "张伟",
        "id_type": "RESIDENT_ID",
        "id_number": make_resident_id("330802", date(1985, 6, 15), seq),
    }


def company(body: str = "91330802MA2D4K7X0") -> dict[str, Any]:
    return {
        "type": "ORGANIZATION",
        "name": "衢州市柯城区示例科技有限公司",
        "id_type": "USCC",
        "id_number": make_uscc(body),
    }


def case_event(
    case_no: str = "SL330802202611230001",
    stage: str = "ACCEPTED",
    version: str = "1",
    at: datetime | None = None,
) -> dict[str, Any]:
    prov = provenance("fgw-tzxm", "T_SPJ_BJ", case_no, version)
    return {
        "event_id": event_id("fgw-tzxm", "T_SPJ_BJ", case_no, version),
        "case_no": case_no,
        "item_code": "11330802002493025K3330111703000",
        "item_name": "企业投资项目备案",
        "department_code": "11330802002493025K",
        "department_name": "衢州市柯城区发展和改革局",
        "region_code": "330802",
        "applicant": company(),
        "stage": stage,
        "outcome": "APPROVED" if stage == "COMPLETED" else None,
        "occurred_at": at or FETCHED - timedelta(hours=1),
        "promised_limit": 3,
        "statutory_limit": 20,
        "limit_unit": "WORKING_DAYS",
        "handler": "李娜",
        "opinion": None,
        "provenance": prov,
        "channel": "WINDOW",
        "visits": 1,
    }


def certificate(cert_id: str = "330802-YYZZ-0001", sharing: str = "CONDITIONAL") -> dict[str, Any]:
    return {
        "event_id": event_id("scjg-djxt", "T_YYZZ", cert_id, "1"),
        "cert_id": cert_id,
        "type_code": "YYZZ",
        "type_name": "营业执照",
        "cert_no": "91330802MA2D4K7X0X",
        "holder": company(),
        "issuer_code": "11330802MB1234567K",
        "issuer_name": "衢州市柯城区市场监督管理局",
        "region_code": "330802",
        "issue_date": date(2026, 3, 1),
        "valid_from": date(2026, 3, 1),
        "valid_until": None,
        "status": "VALID",
        "sharing_class": sharing,
        "surface_fields": {
            "法定代表人": "王芳",
            "注册资本": "100万元人民币",
            "住所": "衢州市柯城区荷花街道",
        },
        "file_uri": "s3://certs/330802/YYZZ-0001.pdf",
        "file_sha256": "ab" * 32,
        "provenance": provenance("scjg-djxt", "T_YYZZ", cert_id),
    }


def material(material_id: str = "M-0001") -> dict[str, Any]:
    return {
        "event_id": event_id("fgw-tzxm", "T_CL", material_id, "1"),
        "material_id": material_id,
        "case_no": "SL330802202611230001",
        "name": "项目建议书",
        "catalog_code": "CL-0001",
        "holder": person(),
        "content_type": "application/pdf",
        "size_bytes": 1_234_567,
        "sha256": "cd" * 32,
        "sm3": None,
        "storage_uri": "s3://materials/M-0001.pdf",
        "submitted_at": FETCHED,
        "reusable": True,
        "valid_until": date(2027, 12, 31),
        "provenance": provenance("fgw-tzxm", "T_CL", material_id),
    }


def dead_letter() -> dict[str, Any]:
    return {
        "event_id": event_id("rs-sb", "cbdj.csv", "row-17", "1"),
        "connector": "rs-sb-drop",
        "target_stream": "case-events",
        "raw": '{"SLBH": "X", "SQRZJHM": "330802198506150011"}',
        "error_code": "ID_NUMBER_CHECK",
        "field": "SQRZJHM",
        "reason": "SQRZJHM: wrong check digit (value '330802********0011')",
        "failed_at": FETCHED,
        "provenance": provenance("rs-sb", "cbdj.csv", "row-17"),
    }


SAMPLES = {
    "CaseEvent": case_event,
    "Certificate": certificate,
    "Material": material,
    "DeadLetter": dead_letter,
}
