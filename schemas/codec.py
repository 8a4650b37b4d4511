"""The event codec: Avro single-object encoding for values, CloudEvents headers for metadata.

Value: `C3 01` + the writer schema's 8-byte CRC-64-AVRO fingerprint (little-endian) + the
Avro binary body, as the Avro specification's single-object encoding defines it. Any Avro
library can decode a value from the `.avsc` files alone; no schema registry is needed.

Headers: CloudEvents 1.0, Kafka protocol binding, binary content mode (`ce_specversion`,
`ce_id`, `ce_source`, `ce_type`, `ce_time`, `ce_subject`, `ce_dataschema`, `content-type`).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

import fastavro
from fastavro.schema import expand_schema, parse_schema
from fastavro.validation import ValidationError as _FastavroValidationError
from fastavro.validation import validate as _fastavro_validate

from schemas.encoder import compile_encoder
from schemas.errors import DecodeError, EncodeError, FieldError
from schemas.registry import LoadedSchema, Registry, default_registry

MAGIC = b"\xc3\x01"
HEADER_LEN = len(MAGIC) + 8
CONTENT_TYPE = "application/avro"
CE_TYPE_PREFIX = "cn.govgate."

Headers = list[tuple[str, bytes]]
_SPECVERSION = ("ce_specversion", b"1.0")
_CONTENT_TYPE = ("content-type", CONTENT_TYPE.encode())


@dataclass(frozen=True, slots=True)
class EncodedEvent:
    """An event ready for the log: partition key, Avro single-object value, CloudEvents headers."""

    key: bytes
    value: bytes
    headers: Headers


@dataclass(frozen=True, slots=True)
class DecodedEvent:
    """A value read back: which record type, which version wrote it, and the record itself."""

    name: str
    writer_version: int | None  # None when written with the current schema
    record: dict[str, Any]


class _RecordCodec:
    """Encoder and decoder for one record type, built once (schemas parsed up front)."""

    def __init__(self, schema: LoadedSchema) -> None:
        self.schema = schema
        self.prefix = MAGIC + schema.fingerprint
        self.key_path = schema.attribute("key").split(".")
        self.time_path = schema.attribute("time").split(".")
        self.subject_path = schema.attribute("subject").split(".")
        self.ce_type = f"{CE_TYPE_PREFIX}{schema.name}.v1"
        self.dataschema = f"urn:govgate:schema:{schema.name}:{schema.fingerprint.hex()}"
        self.type_header = ("ce_type", self.ce_type.encode())
        self.dataschema_header = ("ce_dataschema", self.dataschema.encode())
        expanded = cast(dict[str, Any], expand_schema(schema.raw))  # named types inlined
        self.fields = [
            (f["name"], "default" in f, parse_schema(f["type"])) for f in expanded["fields"]
        ]
        self.field_names = {name for name, _, _ in self.fields}
        self._fast = compile_encoder(expanded, self.prefix)

    def encode(self, record: Mapping[str, Any]) -> bytes:
        if self._fast is not None:
            try:
                return self._fast(record)
            except Exception:  # not a plain record: fastavro decides, and explains
                pass
        buf = io.BytesIO()
        buf.write(self.prefix)
        try:
            fastavro.schemaless_writer(buf, self.schema.parsed, record)
        except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as exc:
            errors = self.check(record)
            detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or str(exc)
            raise EncodeError("SCHEMA_MISMATCH", f"{self.schema.name}: {detail}", errors) from exc
        return buf.getvalue()

    def check(self, record: Mapping[str, Any]) -> list[FieldError]:
        """Every field of `record` that does not fit the schema (not just the first)."""
        errors = [
            FieldError(name, "unknown field") for name in sorted(set(record) - self.field_names)
        ]
        for name, has_default, field_schema in self.fields:
            if name not in record:
                if not has_default:
                    errors.append(FieldError(name, "required field is missing"))
                continue
            try:
                _fastavro_validate(record[name], field_schema, field=name, raise_errors=True)
            except (_FastavroValidationError, ValueError, TypeError) as exc:
                if not isinstance(exc, _FastavroValidationError):  # a logical type: no datum
                    errors.append(FieldError(name, f"{type(exc).__name__}: {exc}"))
                    continue
                for data in exc.errors:
                    where = str(getattr(data, "field", "") or name)
                    path = name if where == name else f"{name}.{where.rsplit('.', 1)[-1]}"
                    expected = getattr(data, "schema", "?")
                    got = getattr(data, "datum", None)
                    errors.append(FieldError(path, f"expected {expected}, got {got!r}"))
        return errors


def _lookup(record: Mapping[str, Any], path: list[str]) -> Any:
    value: Any = record
    for part in path:
        value = value[part]
    return value


class EventCodec:
    """Encode canonical records to single-object Avro with CloudEvents headers, and back."""

    def __init__(self, registry: Registry | None = None) -> None:
        self.registry = registry or default_registry()
        self._codecs = {name: _RecordCodec(s) for name, s in self.registry.current.items()}
        self._by_fingerprint = self.registry.by_fingerprint()
        self._sources: dict[str, bytes] = {}  # source system → its ce_source header

    @property
    def names(self) -> list[str]:
        return sorted(self._codecs)

    def _codec(self, name: str) -> _RecordCodec:
        try:
            return self._codecs[name]
        except KeyError:
            raise EncodeError("UNKNOWN_RECORD_TYPE", f"no schema named {name!r}") from None

    def encode_value(self, name: str, record: Mapping[str, Any]) -> bytes:
        """The Avro single-object encoding of `record` under the current schema `name`."""
        return self._codec(name).encode(record)

    def check(self, name: str, record: Mapping[str, Any]) -> list[FieldError]:
        """Field errors of `record` against schema `name`; empty when it fits."""
        return self._codec(name).check(record)

    def encode(self, name: str, record: Mapping[str, Any]) -> EncodedEvent:
        """The full log record: key from the schema's `govgate.key`, value, CloudEvents headers."""
        codec = self._codec(name)
        value = codec.encode(record)
        try:
            key = str(_lookup(record, codec.key_path)).encode()
            event_time = _rfc3339(_lookup(record, codec.time_path)).encode()
            if codec.subject_path == codec.key_path:
                subject = key
            else:
                subject = str(_lookup(record, codec.subject_path)).encode()
            system = record["provenance"]["source_system"]
            source = self._sources.get(system) if system.__class__ is str else None
            if source is None:
                source = b"/sources/" + str(system).encode()
                if system.__class__ is str and len(self._sources) < 1000:
                    self._sources[system] = source
        except (KeyError, TypeError) as exc:  # pragma: no cover - encode() already checked shape
            raise EncodeError("SCHEMA_MISMATCH", f"{name}: {exc}") from exc
        headers: Headers = [
            _SPECVERSION,
            ("ce_id", str(record["event_id"]).encode()),
            ("ce_source", source),
            codec.type_header,
            ("ce_time", event_time),
            ("ce_subject", subject),
            codec.dataschema_header,
            _CONTENT_TYPE,
        ]
        return EncodedEvent(key=key, value=value, headers=headers)

    def decode(self, data: bytes) -> DecodedEvent:
        """Decode a single-object value into the current shape of its record type.

        Refuses, with a `DecodeError`, anything that is not exactly one govgate event.
        """
        if len(data) < HEADER_LEN:
            raise DecodeError("TRUNCATED", f"{len(data)} bytes is shorter than the 10-byte header")
        if data[:2] != MAGIC:
            raise DecodeError("BAD_MAGIC", f"starts with {data[:2].hex()}, not c301")
        writer = self._by_fingerprint.get(data[2:HEADER_LEN])
        if writer is None:
            raise DecodeError(
                "UNKNOWN_FINGERPRINT", f"no schema has fingerprint {data[2:10].hex()}"
            )
        reader = None if writer.version is None else self.registry.current[writer.name].parsed
        buf = io.BytesIO(data)
        buf.seek(HEADER_LEN)
        try:
            record = fastavro.schemaless_reader(buf, writer.parsed, reader)
        except Exception as exc:  # fastavro raises many types on garbage; all mean "malformed"
            raise DecodeError(
                "MALFORMED_BODY", f"{writer.name}: {type(exc).__name__}: {exc}"
            ) from exc
        if buf.tell() != len(data):
            raise DecodeError(
                "TRAILING_BYTES", f"{writer.name}: {len(data) - buf.tell()} bytes after the record"
            )
        if not isinstance(record, dict):  # pragma: no cover - record schemas decode to dicts
            raise DecodeError("MALFORMED_BODY", f"{writer.name}: decoded to {type(record)}")
        if isinstance(event_id := record.get("event_id"), uuid.UUID):
            record["event_id"] = str(event_id)  # as written: ids are text everywhere else
        return DecodedEvent(name=writer.name, writer_version=writer.version, record=record)


def _rfc3339(value: Any) -> str:
    if value.__class__ is datetime and value.tzinfo is UTC:  # what mappings give
        return _utc_text(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise EncodeError("SCHEMA_MISMATCH", f"naive datetime {value!r}: times must be aware")
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    raise EncodeError("SCHEMA_MISMATCH", f"event time {value!r} is not a datetime")


_TWO_DIGITS = [f"{n:02d}" for n in range(60)]
_DAYS: dict[int, str] = {}  # proleptic ordinal → "2026-11-23T"


def _utc_text(value: datetime) -> str:
    """`value.isoformat()` with "Z" for "+00:00", assembled from cached parts: isoformat
    costs more than the rest of the CloudEvents headers together."""
    day = value.toordinal()
    prefix = _DAYS.get(day)
    if prefix is None:
        if len(_DAYS) >= 10_000:
            _DAYS.clear()
        prefix = _DAYS[day] = value.date().isoformat() + "T"
    two = _TWO_DIGITS
    text = prefix + two[value.hour] + ":" + two[value.minute] + ":" + two[value.second]
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


def headers_dict(headers: Headers | tuple[tuple[str, bytes], ...]) -> dict[str, str]:
    """Headers as text, for display (CloudEvents attributes are UTF-8 strings)."""
    return {k: v.decode("utf-8", "replace") for k, v in headers}


def to_jsonable(value: Any) -> Any:
    """A decoded record made JSON-serializable: times as RFC 3339, dates ISO, UUIDs as text."""
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return _rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value
