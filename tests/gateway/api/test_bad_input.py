"""Bad input is a 400 with a code, never a 500 (issue #12, finding 11).

Each case here answered 500 with a traceback in the log before: a feed cursor offset beyond a
64-bit integer (and, over SSE, a 200 head and an empty stream), JSON nested ~1,000 deep on
POST /v1/events, an access-log cursor beyond a BIGINT, and digits that `str.isdigit` takes
and `int` does not. Hypothesis then throws arbitrary text at every cursor decoder.
"""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.api.inputs import MAX_JSON_DEPTH, decode_seq_cursor, json_object
from gateway.api.problems import InvalidInput
from gateway.feeds import InvalidCursor, decode_cursor, encode_cursor
from gateway.lookup.store import decode_cursor as decode_store_cursor
from gateway.lookup.store import encode_cursor as encode_store_cursor
from gateway.members.store import Grant as _Grant
from schemas.codec import to_jsonable
from schemas.errors import GovgateError
from tests.gateway.api.conftest import Gateway
from tests.gateway.api.test_auth import assert_problem
from tests.samples import certificate, person

EVERY_CASE = _Grant("case", "*")  # the e-supervision feed: every item's case events

FEED = "/v1/feeds/case-events"
SSE = {"Accept": "text/event-stream"}


@pytest.fixture
async def members(gw: Gateway) -> Gateway:
    await gw.add_member("sup", "subscriber", grants=(EVERY_CASE,))
    await gw.add_member("dept", "publisher")
    await gw.add_member("auditor", "auditor")
    return gw


@pytest.mark.parametrize("position", [{0: 2**63}, {0: 10**30}, {2**31: 0}, {2**63: 1}], ids=str)
async def test_a_feed_cursor_beyond_the_log_is_a_400(
    members: Gateway, position: dict[int, int]
) -> None:
    after = encode_cursor("case-events", position)
    page = await members.call("GET", f"{FEED}?after={after}", "sup")
    assert_problem(page, 400, "INVALID_INPUT")
    stream = await members.call("GET", f"{FEED}?after={after}", "sup", headers=SSE)
    assert_problem(stream, 400, "INVALID_INPUT")  # before: a 200 head, then nothing
    resumed = await members.call("GET", FEED, "sup", headers={**SSE, "Last-Event-ID": after})
    assert_problem(resumed, 400, "INVALID_INPUT")


async def test_json_nested_deep_is_a_400(members: Gateway) -> None:
    for body in (
        b"[" * 1000 + b"]" * 1000,
        b'{"a":' * 1000 + b"1" + b"}" * 1000,
        b'{"holder":' * (MAX_JSON_DEPTH + 1) + b"{}" + b"}" * (MAX_JSON_DEPTH + 1),
        b'{"a": [' * 20_000,  # unbalanced, and deeper than the recursion limit
    ):
        answer = await members.call(
            "POST", "/v1/events/certificates", "dept", purpose=None, body=body
        )
        assert_problem(answer, 400, "INVALID_INPUT")


def test_json_object_takes_what_is_within_the_depth() -> None:
    shallow = {"a": [{"b": [1, {"c": {}}]}]}
    assert json_object(json.dumps(shallow).encode()) == shallow
    nested: object = {}
    for _ in range(MAX_JSON_DEPTH - 1):
        nested = {"x": nested}
    assert json_object(json.dumps(nested).encode()) == nested
    with pytest.raises(InvalidInput):
        json_object(json.dumps({"x": nested}).encode())
    with pytest.raises(InvalidInput):
        json_object(b"[1, 2]")


async def test_an_access_log_cursor_beyond_a_bigint_is_a_400(members: Gateway) -> None:
    holder = person()["id_number"]
    for seq in ("9" * 30, "1" * 5000, "²"):
        cursor = base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")
        answer = await members.call(
            "GET", f"/v1/access-log?holder_id={holder}&after={cursor}", "auditor"
        )
        assert_problem(answer, 400, "INVALID_INPUT")
    for limit in ("²", "9" * 5000):
        answer = await members.call(
            "GET", f"/v1/access-log?holder_id={holder}&limit={limit}", "auditor"
        )
        assert_problem(answer, 400, "INVALID_INPUT")


async def test_a_content_length_that_is_no_number_is_refused(members: Gateway) -> None:
    for declared in ("²", "9" * 5000, "-1", "1e3"):
        request = members.signed("POST", "/v1/events/certificates", members.members["dept"])
        request.headers["Content-Length"] = declared
        answer = await members.client.send(request)
        assert_problem(answer, 413, "BODY_TOO_LARGE")


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(max_size=200) | st.from_regex(r"[A-Za-z0-9_-]{0,120}", fullmatch=True))
def test_cursor_decoders_refuse_garbage_with_their_own_error(text: str) -> None:
    for decode in (
        lambda: decode_cursor("case-events", text),
        lambda: decode_seq_cursor(text),
        lambda: decode_store_cursor(text, 2),
    ):
        try:
            decode()
        except (InvalidCursor, InvalidInput, GovgateError):
            pass


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.dictionaries(st.integers(-(2**70), 2**70), st.integers(-(2**70), 2**70), max_size=4),
    st.lists(st.text(max_size=20), min_size=2, max_size=2),
)
def test_decoded_cursors_are_within_what_the_log_and_store_hold(
    position: dict[int, int], parts: list[str]
) -> None:
    try:
        decoded = decode_cursor("case-events", encode_cursor("case-events", position))
    except InvalidCursor:
        assert any(not 0 <= p < 2**31 or not 0 <= o < 2**63 for p, o in position.items())
    else:
        assert decoded == position
    assert decode_store_cursor(encode_store_cursor(*parts), 2) == tuple(parts)


_NASTY = st.sampled_from(["\ud800", "a\udfffb", "\x00", "９" * 18, "", "x" * 5000])
_TEXT = st.text(max_size=30) | _NASTY
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=12,
)
_RECORD = to_jsonable(certificate("C-FUZZ"))
_FIELDS = [
    *((name,) for name in sorted(_RECORD)),
    *(("holder", name) for name in sorted(_RECORD["holder"])),
    *(("provenance", name) for name in sorted(_RECORD["provenance"])),
    ("surface_fields", "法定代表人"),
]


@settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.sampled_from(_FIELDS),
    st.one_of(_NASTY, _TEXT, _JSON),
    st.sampled_from(["certificates", "materials", "case-events"]),
)
@pytest.mark.parametrize("gw", ["sqlite"], indirect=True)
async def test_no_pushed_body_makes_a_500(
    members: Gateway, field: tuple[str, ...], value: object, kind: str
) -> None:
    """Any JSON value in any field of a record, nested ones included (lone surrogates, NUL,
    full-width ids, odd shapes): 202, 400 or 422 with a code, never a 5xx."""
    record = json.loads(json.dumps(_RECORD))
    *parents, name = field
    target = record
    for parent in parents:
        target = target[parent]
    target[name] = value
    body = json.dumps(record, ensure_ascii=True).encode()
    answer = await members.call("POST", f"/v1/events/{kind}", "dept", purpose=None, body=body)
    assert answer.status_code in (202, 400, 403, 409, 422), answer.text
    # a fuzzed code or source system is outside the publisher's scopes; a fuzzed time may be
    # in the future; a fuzzed field changes the content behind the sample's event id
    refusals = (
        "INVALID_INPUT",
        "INVALID_EVENT",
        "EVENT_ID_CONFLICT",
        "PUBLISH_NOT_REGISTERED",
        "FUTURE_TIME",
        "SOURCE_MISMATCH",
    )
    assert answer.status_code == 202 or answer.json()["code"] in refusals
