"""map_record: tables of source rows and the canonical values (or errors) they give."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import MappingError
from connectors.mapping import Mapper, load_connector_spec
from connectors.mapping.spec import ConnectorSpec
from connectors.sources.base import SourceRecord
from schemas.codec import EventCodec
from schemas.ids import event_id
from schemas.validators import make_uscc

PROFILES = Path(__file__).resolve().parents[3] / "connectors" / "profiles"
FETCHED = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def fgw_row(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "SLBH": "FG33080220261123000001",
        "SXBM": "11330802002493025K3330111703000",
        "SXMC": "企业投资项目备案",
        "BLBMBM": "11330802002493025K",
        "BLBMMC": "衢州市柯城区发展和改革局",
        "XZQHDM": "330802",
        "SQRZJLX": "20",
        "SQRMC": "衢州市柯城区示例科技有限公司",
        "SQRZJHM": make_uscc("91330802MA2D4K7X0"),
        "BLZT": "01",
        "SLSJ": "20261123100000",
        "BJSJ": None,
        "GXSJ": "2026-11-23 10:00:00",
        "CNSX": 3,
        "FDSX": "20",
        "JBR": "李娜",
        "BLYJ": "",
    }
    row.update(changes)
    return row


def raw(row: dict[str, Any]) -> SourceRecord:
    return SourceRecord("TZXM_SPBJ", {}, "TZXM_SPBJ", row["SLBH"] or "?", str(row["GXSJ"]), row)


@pytest.fixture(scope="module")
def fgw() -> Mapper:
    return Mapper(load_connector_spec(PROFILES / "fgw-tzxm.yaml"), connector="fgw-tzxm")


def test_a_department_row_becomes_a_canonical_case_event(fgw: Mapper) -> None:
    row = fgw_row()
    record = fgw.map(raw(row), FETCHED)
    assert record["case_no"] == row["SLBH"]
    assert record["stage"] == "ACCEPTED"
    assert record["outcome"] is None
    assert record["occurred_at"] == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    assert record["applicant"] == {
        "type": "ORGANIZATION",
        "name": row["SQRMC"],
        "id_type": "USCC",
        "id_number": row["SQRZJHM"],
    }
    assert (record["promised_limit"], record["statutory_limit"]) == (3, 20)
    assert record["limit_unit"] == "WORKING_DAYS"
    assert record["opinion"] is None  # "" in the source means none
    assert record["event_id"] == event_id("fgw-tzxm", "TZXM_SPBJ", row["SLBH"], row["GXSJ"])
    assert record["provenance"]["connector"] == "fgw-tzxm"
    assert EventCodec().check("CaseEvent", record) == []


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        ({"BLZT": "03"}, "outcome", "APPROVED"),
        ({"BLZT": "04"}, "stage", "COMPLETED"),
        ({"BLZT": "05"}, "stage", "SUPPLEMENT"),
        ({"BLZT": "06"}, "stage", "SPECIAL_PROCEDURE"),
        ({"SQRZJLX": "10"}, "applicant.id_type", "RESIDENT_ID"),
        ({"CNSX": "5.0"}, "promised_limit", 5),
        ({"GXSJ": "2026-01-01 00:00:00"}, "occurred_at", datetime(2025, 12, 31, 16, tzinfo=UTC)),
    ],
)
def test_codes_numbers_and_times(
    fgw: Mapper, changes: dict[str, Any], field: str, expected: Any
) -> None:
    record: Any = fgw.map(raw(fgw_row(**changes)), FETCHED)
    for part in field.split("."):
        record = record[part]
    assert record == expected


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"BLZT": "09"}, "UNKNOWN_CODE", "BLZT"),
        ({"SXMC": "  "}, "MISSING_FIELD", "SXMC"),
        ({"SLBH": None}, "MISSING_FIELD", "SLBH"),
        ({"GXSJ": "2026-02-30 10:00:00"}, "DATE_UNPARSEABLE", "GXSJ"),
        ({"CNSX": "三天"}, "BAD_NUMBER", "CNSX"),
    ],
)
def test_bad_rows_raise_typed_errors_naming_field_and_value(
    fgw: Mapper, changes: dict[str, Any], code: str, field: str
) -> None:
    with pytest.raises(MappingError) as caught:
        fgw.map(raw(fgw_row(**changes)), FETCHED)
    assert (caught.value.code, caught.value.field) == (code, field)
    assert field in str(caught.value)
    assert not caught.value.retriable


def test_mapping_never_mutates_its_input(fgw: Mapper) -> None:
    row = fgw_row()
    before = dict(row)
    fgw.map(raw(row), FETCHED)
    assert row == before


def certificate_spec(**extra: Any) -> ConnectorSpec:
    spec: dict[str, Any] = {
        "name": "scjg-test",
        "source_system": "scjg",
        "source": {"kind": "sql"},
        "target": {"record": "Certificate", "stream": "certificates"},
        "fields": {
            "cert_id": {"template": "{XZQHDM}-YYZZ-{TYSHXYDM}"},
            "type_code": {"const": "YYZZ"},
            "type_name": {"const": "营业执照"},
            "cert_no": {"from": "TYSHXYDM"},
            "holder.type": {"const": "ORGANIZATION"},
            "holder.name": {"from": "QYMC"},
            "holder.id_type": {"const": "USCC"},
            "holder.id_number": {"from": "TYSHXYDM"},
            "issuer_code": {"from": "DJJGDM"},
            "issuer_name": {"from": "DJJG"},
            "region_code": {"from": "XZQHDM"},
            "issue_date": {"from": "FZRQ", "format": "%Y%m%d"},
            "valid_until": {"from": "YYQXZ", "nulls": ["长期"]},
            "status": {"from": "ZT", "codes": {"1": "VALID", "2": "REVOKED", "3": "CANCELLED"}},
            "sharing_class": {"const": "CONDITIONAL"},
        },
        "surface_fields": {"法定代表人": "FDDBR", "住所": "ZS"},
    }
    spec.update(extra)
    return ConnectorSpec.model_validate(spec)


def test_templates_dates_nulls_and_surface_fields() -> None:
    row = {
        "XZQHDM": "330802",
        "TYSHXYDM": make_uscc("91330802MA2D4K7X0"),
        "QYMC": "示例公司",
        "DJJGDM": "X",
        "DJJG": "柯城区市场监督管理局",
        "FZRQ": "20260301",
        "YYQXZ": "长期",
        "ZT": "1",
        "FDDBR": "王芳",
        "ZS": "",
    }
    record = Mapper(certificate_spec()).map(SourceRecord("t", {}, "t", "1", "1", row), FETCHED)
    assert record["cert_id"] == f"330802-YYZZ-{row['TYSHXYDM']}"
    assert record["issue_date"] == date(2026, 3, 1)
    assert record["valid_until"] is None
    assert record["surface_fields"] == {"法定代表人": "王芳"}  # empty values are left out
    assert EventCodec().check("Certificate", record) == []


def test_a_template_with_a_missing_part_names_it() -> None:
    row = {"XZQHDM": "330802", "TYSHXYDM": ""}
    with pytest.raises(MappingError) as caught:
        Mapper(certificate_spec()).map(SourceRecord("t", {}, "t", "1", "1", row), FETCHED)
    assert (caught.value.code, caught.value.field) == ("MISSING_FIELD", "TYSHXYDM")
