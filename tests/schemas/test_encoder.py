"""The generated encoder writes exactly fastavro's bytes, and leaves anything unusual to it."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, cast

import fastavro
import pytest
from fastavro.schema import expand_schema
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.encoder import Fallback, compile_encoder, zigzag
from schemas.registry import default_registry
from tests.samples import SAMPLES, case_event, certificate

REGISTRY = default_registry()


def both(name: str, record: dict[str, Any]) -> tuple[bytes, bytes]:
    schema = REGISTRY.get(name)
    encode = compile_encoder(cast(dict[str, Any], expand_schema(schema.raw)))
    assert encode is not None
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schema.parsed, record)
    return encode(record), buf.getvalue()


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_schema_gets_an_encoder_writing_fastavros_bytes(name: str) -> None:
    ours, theirs = both(name, SAMPLES[name]())
    assert ours == theirs


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(max_size=300),
    opinion=st.none() | st.text(max_size=80),
    at=st.datetimes(
        min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
    offset_h=st.integers(-12, 14),
    limit=st.none() | st.integers(-(2**31), 2**31 - 1),
    missing=st.sampled_from(["", "outcome", "handler", "limit_unit"]),
)
def test_case_events_are_byte_identical(
    text: str, opinion: str | None, at: datetime, offset_h: int, limit: int | None, missing: str
) -> None:
    record = case_event(case_no=text or "x", at=at.astimezone(timezone(timedelta(hours=offset_h))))
    record.update(item_name=text, opinion=opinion, promised_limit=limit, statutory_limit=-1)
    record.pop(missing, None)
    ours, theirs = both("CaseEvent", record)
    assert ours == theirs


@given(labels=st.dictionaries(st.text(max_size=70), st.text(max_size=70), max_size=70))
def test_maps_are_byte_identical(labels: dict[str, str]) -> None:
    record = certificate()
    record["surface_fields"] = labels
    record["issue_date"] = date(1960, 2, 29)
    ours, theirs = both("Certificate", record)
    assert ours == theirs


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("promised_limit", 2**31),  # wider than an Avro int
        ("promised_limit", True),
        ("occurred_at", datetime(2026, 11, 23, 10, 0)),  # naive: fastavro reads it as local
        ("occurred_at", "2026-11-23"),
        ("case_no", b"bytes"),
        ("stage", "LOST"),
        ("stage", ["unhashable"]),
        ("applicant", None),
    ],
)
def test_values_it_does_not_handle_fall_back(field: str, value: Any) -> None:
    schema = REGISTRY.get("CaseEvent")
    encode = compile_encoder(cast(dict[str, Any], expand_schema(schema.raw)))
    assert encode is not None
    record = case_event()
    record[field] = value
    with pytest.raises((Fallback, KeyError, TypeError)):
        encode(record)


def test_a_missing_required_field_falls_back() -> None:
    encode = compile_encoder(cast(dict[str, Any], expand_schema(REGISTRY.get("CaseEvent").raw)))
    assert encode is not None
    record = case_event()
    del record["case_no"]
    with pytest.raises(KeyError):
        encode(record)


@given(st.integers(-(2**63), 2**63 - 1))
def test_zigzag_is_avros(n: int) -> None:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, "long", n)
    assert zigzag(n) == buf.getvalue()


def test_schemas_with_other_types_get_no_encoder() -> None:
    schema = {"type": "record", "name": "R", "fields": [{"name": "x", "type": "double"}]}
    assert compile_encoder(schema) is None
