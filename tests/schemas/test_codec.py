"""The event codec: single-object Avro values, CloudEvents headers, typed errors on bad bytes."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import avro.io
import avro.schema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.codec import HEADER_LEN, MAGIC, EventCodec, _rfc3339, to_jsonable
from schemas.errors import DecodeError, EncodeError
from schemas.registry import AVSC_DIR, load_registry
from tests.samples import SAMPLES, case_event

codec = EventCodec()


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_schema_round_trips_a_sample(name: str) -> None:
    record = SAMPLES[name]()
    decoded = codec.decode(codec.encode_value(name, record))
    assert decoded.name == name
    assert decoded.writer_version is None
    assert decoded.record == record


def strip_logical_types(node: Any) -> Any:
    """The schema without `logicalType` annotations, which parsing canonical form drops.

    The Avro spec's [STRIP] rule keeps only type, name, fields, symbols, items, values and
    size, so `{"type": "long", "logicalType": "timestamp-millis"}` canonicalizes to `"long"`
    (as Java and fastavro do). The Python `avro` package keeps `{"type":"long"}` there, so its
    fingerprint of an annotated schema differs from Java's; stripping first sidesteps that bug.
    """
    if isinstance(node, dict):
        if node.get("logicalType") and isinstance(node.get("type"), str):
            return node["type"]
        return {k: strip_logical_types(v) for k, v in node.items()}
    if isinstance(node, list):
        return [strip_logical_types(v) for v in node]
    return node


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_apache_avro_decodes_our_values_from_the_avsc_alone(name: str) -> None:
    value = codec.encode_value(name, SAMPLES[name]())
    raw = json.loads((AVSC_DIR / f"{name}.avsc").read_text(encoding="utf-8"))
    schema = avro.schema.parse(json.dumps(raw))
    reference = avro.schema.parse(json.dumps(strip_logical_types(raw))).fingerprint("CRC-64-AVRO")

    assert value[:2] == MAGIC
    assert value[2:HEADER_LEN] == reference  # Apache avro's Rabin fingerprint, little-endian
    reader = avro.io.DatumReader(schema)
    decoded = reader.read(avro.io.BinaryDecoder(io.BytesIO(value[HEADER_LEN:])))
    assert to_jsonable(decoded) == to_jsonable(SAMPLES[name]())


def test_cloudevents_headers_in_kafka_binary_mode() -> None:
    record = case_event()
    event = codec.encode("CaseEvent", record)
    headers = {k: v.decode() for k, v in event.headers}

    assert event.key == record["case_no"].encode()
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_id"] == record["event_id"]
    assert headers["ce_source"] == "/sources/fgw-tzxm"
    assert headers["ce_type"] == "cn.govgate.CaseEvent.v1"
    assert headers["ce_time"] == "2026-11-23T01:00:00Z"
    assert headers["ce_subject"] == record["case_no"]
    assert headers["content-type"] == "application/avro"
    assert headers["ce_dataschema"].endswith(value_fingerprint(event.value))


def value_fingerprint(value: bytes) -> str:
    return value[2:HEADER_LEN].hex()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "TRUNCATED"),
        (b"\xc3\x01\x00", "TRUNCATED"),
        (b"\x00\x01" + b"\x00" * 20, "BAD_MAGIC"),
        (b"\xc3\x01" + b"\xff" * 8 + b"\x00", "UNKNOWN_FINGERPRINT"),
    ],
)
def test_bytes_that_are_not_an_event_get_typed_errors(data: bytes, code: str) -> None:
    with pytest.raises(DecodeError) as caught:
        codec.decode(data)
    assert caught.value.code == code
    assert not caught.value.retriable


def test_truncated_body_and_trailing_garbage_are_refused() -> None:
    value = codec.encode_value("Certificate", SAMPLES["Certificate"]())
    for cut in (HEADER_LEN, HEADER_LEN + 1, len(value) // 2, len(value) - 1):
        with pytest.raises(DecodeError) as caught:
            codec.decode(value[:cut])
        assert caught.value.code == "MALFORMED_BODY", cut
    with pytest.raises(DecodeError) as caught:
        codec.decode(value + b"\x00")
    assert caught.value.code == "TRAILING_BYTES"


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=400), name=st.sampled_from(sorted(SAMPLES)))
def test_garbage_after_a_valid_header_never_escapes_as_another_error(
    body: bytes, name: str
) -> None:
    header = MAGIC + codec.registry.get(name).fingerprint
    try:
        decoded = codec.decode(header + body)
    except DecodeError:
        return
    assert decoded.name == name  # some garbage is a valid record; then it decodes as one


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=64))
def test_arbitrary_bytes_decode_or_raise_decode_error(data: bytes) -> None:
    try:
        codec.decode(data)
    except DecodeError:
        pass


texts = st.text(min_size=0, max_size=40)
stamps = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))


@settings(max_examples=200, deadline=None)
@given(
    case_no=texts,
    item=texts,
    opinion=st.none() | texts,
    at=stamps,
    stage=st.sampled_from(["ACCEPTED", "IN_REVIEW", "SUPPLEMENT", "COMPLETED"]),
    limit=st.none() | st.integers(-(2**31), 2**31 - 1),
)
def test_case_events_round_trip(
    case_no: str, item: str, opinion: str | None, at: datetime, stage: str, limit: int | None
) -> None:
    record = case_event(case_no=case_no, stage=stage, at=at)
    record.update(item_name=item, opinion=opinion, promised_limit=limit)
    assert codec.decode(codec.encode_value("CaseEvent", record)).record == record


def test_a_record_that_does_not_fit_lists_every_bad_field() -> None:
    record: dict[str, Any] = case_event()
    record["promised_limit"] = "three"
    record["stage"] = "LOST"
    del record["case_no"]
    record["colour"] = "blue"
    with pytest.raises(EncodeError) as caught:
        codec.encode("CaseEvent", record)
    fields = {e.field for e in caught.value.errors}
    assert fields == {"promised_limit", "stage", "case_no", "colour"}
    assert caught.value.code == "SCHEMA_MISMATCH"


def test_unknown_record_type_is_refused() -> None:
    with pytest.raises(EncodeError) as caught:
        codec.encode("Passport", {})
    assert caught.value.code == "UNKNOWN_RECORD_TYPE"


def test_events_written_with_a_released_version_decode_into_the_current_shape(
    tmp_path: Path,
) -> None:
    """A new optional field: old events read with its default; both versions are known."""
    (tmp_path / "released").mkdir()
    released = json.loads((AVSC_DIR / "Material.avsc").read_text(encoding="utf-8"))
    (tmp_path / "released" / "Material.v1.avsc").write_text(json.dumps(released))
    current = json.loads(json.dumps(released))
    current["fields"].insert(
        -1,
        {
            "name": "pages",
            "type": ["null", "int"],
            "default": None,
            "doc": "页数 / Number of pages.",
        },
    )
    (tmp_path / "Material.avsc").write_text(json.dumps(current))

    old_writer = EventCodec(load_registry(tmp_path.parent / "nowhere"))  # empty registry
    assert old_writer.names == []
    registry = load_registry(tmp_path)
    new_codec = EventCodec(registry)
    old_value = MAGIC + registry.released["Material"][0].fingerprint + avro_body(released)

    decoded = new_codec.decode(old_value)
    assert decoded.writer_version == 1
    assert decoded.record["pages"] is None
    assert decoded.record["material_id"] == SAMPLES["Material"]()["material_id"]


def test_case_events_of_the_released_v1_decode_without_channel_and_visits() -> None:
    """The shipped CaseEvent v1 → current change (channel, visits) is one old events survive:
    a v1 event, written by Apache avro from the released file alone, decodes with both null."""
    registry = load_registry()
    v1 = registry.released["CaseEvent"][0]
    old = {k: v for k, v in case_event().items() if k not in ("channel", "visits")}
    parsed = avro.schema.parse(json.dumps(v1.raw))
    buf = io.BytesIO()
    avro.io.DatumWriter(parsed).write(old, avro.io.BinaryEncoder(buf))

    decoded = EventCodec(registry).decode(MAGIC + v1.fingerprint + buf.getvalue())
    assert decoded.writer_version == 1
    assert (decoded.record["channel"], decoded.record["visits"]) == (None, None)
    assert decoded.record["case_no"] == old["case_no"]
    assert decoded.record["occurred_at"] == old["occurred_at"]


def avro_body(schema: dict[str, Any]) -> bytes:
    """The Avro binary body of the sample material under `schema`, written by Apache avro."""
    parsed = avro.schema.parse(json.dumps(schema))
    buf = io.BytesIO()
    avro.io.DatumWriter(parsed).write(SAMPLES["Material"](), avro.io.BinaryEncoder(buf))
    return buf.getvalue()


def test_a_time_field_with_text_is_a_field_error_not_a_crash() -> None:
    record: dict[str, Any] = case_event()
    record["occurred_at"] = "not a date"
    errors = codec.check("CaseEvent", record)
    assert [e.field for e in errors] == ["occurred_at"]


@given(st.datetimes(timezones=st.just(UTC)))
def test_utc_event_times_are_rfc3339_as_isoformat_writes_them(at: datetime) -> None:
    assert _rfc3339(at) == at.isoformat().replace("+00:00", "Z")
