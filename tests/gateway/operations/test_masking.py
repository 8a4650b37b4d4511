"""Property: whatever surrounds it, a resident id (valid, or a digit short or long) never leaves
the dead-letter masking in clear: in free text, in a raw record's values, or nested."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given
from hypothesis import strategies as st

from gateway.operations.deadletters import _masked_raw, mask_text
from schemas.validators import make_resident_id

ids = st.builds(
    lambda region, born, seq: make_resident_id(region, born, seq),
    st.sampled_from(["330802", "130105", "520500", "110101"]),
    st.dates(dt.date(1930, 1, 1), dt.date(2020, 12, 31)),
    st.integers(0, 999),
)
shaky = st.one_of(
    ids,
    ids.map(lambda i: i[:-1]),  # one digit short
    ids.map(lambda i: i + "7"),  # one digit long
    ids.map(lambda i: i[:-1] + "1"),  # a wrong check digit
)
around = st.text(alphabet=st.sampled_from(list(" ,;:'\"()[]/=是号码：，张伟-_")), max_size=4)


@given(shaky, around, around)
def test_an_id_in_text_is_masked(number: str, before: str, after: str) -> None:
    masked = mask_text(f"{before}{number}{after}")
    assert number not in masked
    assert masked.startswith(before) and masked.endswith(after)


@given(shaky, st.sampled_from(["SQRZJHM", "id_number", "备注", "raw"]))
def test_an_id_in_a_raw_record_is_masked(number: str, field: str) -> None:
    raw = json.dumps({field: number, "nested": [{"note": f"证件 {number}"}]}, ensure_ascii=False)
    assert number not in _masked_raw(raw)


def test_compact_times_and_credit_codes_stay() -> None:
    text = "SLSJ 20261202223803, USCC 91330802MA4562074K, phone 13800138000"
    assert mask_text(text) == text
