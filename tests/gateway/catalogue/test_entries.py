"""Catalogue entries: what a department must say, and the field named when it does not."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.catalogue.entries import parse_entry, stricter
from gateway.catalogue.errors import InvalidEntry

GOOD: dict[str, Any] = {
    "code": "SCJG-YYZZ",
    "name": "营业执照",
    "department_code": "SCJG",
    "department_name": "市场监督管理局",
    "kind": "certificate",
    "record_codes": ["YYZZ"],
    "sharing_class": "CONDITIONAL",
    "legal_basis": "国发〔2016〕51号",
    "fields": [{"name": "住所"}, {"name": "法定代表人", "personal": True}],
}


def test_a_good_entry_parses_with_its_defaults() -> None:
    entry = parse_entry(GOOD)
    assert entry.field_names == ("住所", "法定代表人")
    assert entry.fields[1].personal and entry.modes == ("lookup",) and entry.version == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": "有 空格"}, "code"),
        ({"kind": "weather"}, "kind"),
        ({"record_codes": []}, "record_codes"),
        ({"sharing_class": "OPEN"}, "sharing_class"),
        ({"legal_basis": None}, "legal_basis"),
        ({"sharing_class": "NOT_SHARED", "legal_basis": " "}, "legal_basis"),
        ({"fields": [{"name": "a b"}]}, "fields[0].name"),
        ({"fields": [{"name": "住所"}, {"name": "住所"}]}, "fields"),
        ({"fields": [{"name": "住所", "personal": "yes"}]}, "fields[0].personal"),
        ({"modes": ["email"]}, "modes[0]"),
        ({"update_cycle": "SOMETIMES"}, "update_cycle"),
        ({"department_code": ""}, "department_code"),
    ],
)
def test_a_bad_entry_names_its_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidEntry) as caught:
        parse_entry(GOOD | change)
    assert caught.value.detail.startswith(field)


def test_an_unconditional_entry_needs_no_legal_basis() -> None:
    assert parse_entry(GOOD | {"sharing_class": "UNCONDITIONAL", "legal_basis": None})


def test_the_stricter_class_wins() -> None:
    assert stricter("UNCONDITIONAL", "CONDITIONAL") == "CONDITIONAL"
    assert stricter("NOT_SHARED", "CONDITIONAL") == "NOT_SHARED"
    assert stricter("CONDITIONAL", None) == "CONDITIONAL"
    assert stricter("CONDITIONAL", "SOMETHING") == "SOMETHING"  # unknown: never served
