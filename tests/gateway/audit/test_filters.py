"""Audit search filters: each field validated on its own, the holder hashed and never kept."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from gateway.audit.errors import AuditFilterInvalid
from gateway.audit.filters import (
    LOCAL,
    AuditQuery,
    Cursor,
    local_text,
    parse_cursor,
    parse_limit,
    parse_query,
)
from gateway.audit.pseudonyms import holder_hash
from schemas.validators import make_resident_id
from tests.gateway.audit import SECRET

HOLDER = make_resident_id("330802", date(1990, 3, 7), 42)


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=LOCAL).timestamp() * 1000)


def test_blank_fields_are_any() -> None:
    assert parse_query({"member": " ", "holder": "", "decision": None}, SECRET) == AuditQuery()


def test_the_holder_is_kept_as_the_writers_hash_of_its_normal_form() -> None:
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in HOLDER.lower())  # ３３０８…ｘ
    query = parse_query({"holder": f"  {fullwidth} "}, SECRET)
    assert query.holder == holder_hash(SECRET, HOLDER)
    assert HOLDER not in repr(query) and HOLDER not in str(query.as_params())
    assert query.as_params() == {"holder_key": holder_hash(SECRET, HOLDER)}


def test_a_holder_key_takes_a_hash_or_a_pseudonym() -> None:
    full = holder_hash(SECRET, HOLDER)
    assert parse_query({"holder_key": full}, SECRET).holder == full
    shown = "{id:" + full[:16] + "}"
    assert parse_query({"holder_key": shown}, SECRET).holder == full[:16]
    both = parse_query({"holder": HOLDER, "holder_key": full[:16]}, SECRET)
    assert both.holder == full


def test_decisions_in_either_language() -> None:
    for given, expected in [("allowed", "allow"), ("拒绝", "deny"), ("REFUSED", "deny")]:
        assert parse_query({"decision": given}, SECRET).decision == expected


def test_times_are_local_and_a_date_alone_as_until_includes_the_day() -> None:
    query = parse_query({"since": "2026-12-01", "until": "2026-12-05"}, SECRET)
    assert query.since_ms == ms(2026, 12, 1)
    assert query.until_ms == ms(2026, 12, 6)
    query = parse_query({"since": "2026-12-05T08:30", "until": "2026-12-05 09:00:00Z"}, SECRET)
    assert query.since_ms == ms(2026, 12, 5, 8, 30)
    assert query.until_ms == ms(2026, 12, 5, 17, 0)
    assert local_text(ms(2026, 12, 5, 8, 30)) == "2026-12-05T08:30:00"


@pytest.mark.parametrize(
    ("raw", "field", "value"),
    [
        ({"member": "kecheng window"}, "member", "kecheng window"),
        ({"item": "330802/XK"}, "item", "330802/XK"),
        ({"decision": "maybe"}, "decision", "maybe"),
        ({"since": "yesterday"}, "since", "yesterday"),
        ({"until": "2026-13-01"}, "until", "2026-13-01"),
        ({"since": "1970-01-01"}, "since", "1970-01-01"),
        ({"since": "2026-12-05", "until": "2026-12-04"}, "until", "2026-12-04"),
        ({"holder_key": "xyz"}, "holder_key", "xyz"),
        ({"holder": "3"}, "holder", "*"),
    ],
)
def test_a_wrong_field_is_named_with_its_value(raw: dict[str, str], field: str, value: str) -> None:
    with pytest.raises(AuditFilterInvalid) as caught:
        parse_query(raw, SECRET)
    assert (caught.value.code, caught.value.field, caught.value.value) == (
        "AUDIT_FILTER_INVALID",
        field,
        value,
    )
    assert field in str(caught.value)


def test_a_wrong_holder_is_named_masked_never_in_clear() -> None:
    bad = HOLDER + "\u0007"  # not printable: refused
    with pytest.raises(AuditFilterInvalid) as caught:
        parse_query({"holder": bad * 2}, SECRET)
    assert caught.value.field == "holder"
    assert HOLDER not in str(caught.value) and HOLDER[:6] in caught.value.value


def test_a_holder_key_of_another_holder_than_the_holder_is_refused() -> None:
    other = holder_hash(SECRET, "91330802MA2D4K7X0X")
    with pytest.raises(AuditFilterInvalid, match="holder_key"):
        parse_query({"holder": HOLDER, "holder_key": other}, SECRET)


def test_cursors_and_limits() -> None:
    assert parse_cursor(None) is None and parse_cursor("") is None
    assert parse_cursor("1764921600000.42") == Cursor(1764921600000, 42)
    assert str(Cursor(5, 6)) == "5.6"
    assert parse_limit(None) == 50 and parse_limit("200") == 200
    for bad in ["0", "201", "-1", "ten", "1e3"]:
        with pytest.raises(AuditFilterInvalid, match="limit"):
            parse_limit(bad)
    for bad in ["42", "a.b", "1.2.3", "1." + "9" * 30]:
        with pytest.raises(AuditFilterInvalid, match="after"):
            parse_cursor(bad)
