"""A straight-line Avro encoder generated once per record schema: the codec's fast path.

fastavro interprets the schema for every record (a type dispatch and, for each union, a
validation of every branch). `compile_encoder` instead writes one Python function per
schema that encodes the fields in order. It accepts only plain values whose encoding is
beyond doubt (exactly `str`, `int` in range, `bool`, aware `datetime`, `date`, `dict`); for
anything else it raises `Fallback`, and the codec encodes the record with fastavro, which
gives the same bytes or the error it always gave. Schemas with types it does not know
(float, bytes, arrays, wider unions) get no fast path at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from schemas.errors import GovgateError

Encoder = Callable[[Mapping[str, Any]], bytes]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAYS_SHIFT = date(1970, 1, 1).toordinal()
_INT = (-(1 << 31), 1 << 31)
_LONG = (-(1 << 63), 1 << 63)
_SHORT = [bytes([n << 1]) for n in range(64)]  # zig-zag varint of a length below 64


class Fallback(GovgateError):
    """The value is not one the generated encoder handles; use fastavro."""

    code = "ENCODER_FALLBACK"


def zigzag(n: int) -> bytes:
    """Avro's zig-zag varint of a long."""
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _fallback() -> None:
    raise Fallback


class _Writer:
    """Emits the body of the encoder function, one line at a time."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.consts: dict[str, Any] = {}
        self._n = 0

    def var(self, prefix: str = "v") -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def const(self, value: Any) -> str:
        name = self.var("K")
        self.consts[name] = value
        return name

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def value(self, depth: int, v: str, schema: Any) -> None:
        """Lines that append the encoding of the local `v` under `schema` to `out`."""
        if isinstance(schema, list):
            self.union(depth, v, schema)
            return
        kind = schema if isinstance(schema, str) else schema.get("type")
        logical = schema.get("logicalType") if isinstance(schema, dict) else None
        if logical == "timestamp-millis" and kind == "long":
            self.timestamp(depth, v)
        elif logical == "date" and kind == "int":
            self.emit(depth, f"if {v}.__class__ is not date: fallback()")
            self.emit(depth, f"out += zigzag({v}.toordinal() - {_DAYS_SHIFT})")
        elif logical not in (None, "uuid") or (logical == "uuid" and kind != "string"):
            raise NotImplementedError(f"logical type {logical}")
        elif kind == "string":
            self.string(depth, v)
        elif kind in ("int", "long"):
            low, high = _INT if kind == "int" else _LONG
            self.emit(depth, f"if {v}.__class__ is not int or not {low} <= {v} < {high}:")
            self.emit(depth + 1, "fallback()")
            self.emit(depth, f"out += SHORT[{v}] if 0 <= {v} < 64 else zigzag({v})")
        elif kind == "boolean":
            self.emit(depth, f"if {v} is True: out += b'\\x01'")
            self.emit(depth, f"elif {v} is False: out += b'\\x00'")
            self.emit(depth, "else: fallback()")
        elif kind == "enum":
            table = self.const({s: zigzag(i) for i, s in enumerate(schema["symbols"])})
            self.emit(depth, f"out += {table}[{v}]")  # KeyError (or TypeError): fallback
        elif kind == "record":
            self.record(depth, v, schema)
        elif kind == "map":
            self.map(depth, v, schema["values"])
        else:
            raise NotImplementedError(f"type {kind}")

    def string(self, depth: int, v: str) -> None:
        b = self.var("b")
        self.emit(depth, f"if {v}.__class__ is not str: fallback()")
        self.emit(depth, f"{b} = {v}.encode()")
        self.emit(depth, f"n = len({b})")
        self.emit(depth, "out += SHORT[n] if n < 64 else zigzag(n)")
        self.emit(depth, f"out += {b}")

    def timestamp(self, depth: int, v: str) -> None:
        # fastavro: aware datetimes by their distance from the epoch, ints as they are
        # and the last time written in each field remembered: a batch shares its fetched_at
        d, last = self.var("d"), self.const([None, b""])
        self.emit(depth, f"if {v} is {last}[0]: out += {last}[1]")
        self.emit(depth, f"elif {v}.__class__ is datetime and {v}.tzinfo is not None:")
        self.emit(depth + 1, f"{d} = {v} - EPOCH")
        self.emit(
            depth + 1,
            f"{d} = zigzag(({d}.days * 86400 + {d}.seconds) * 1000 + {d}.microseconds // 1000)",
        )
        self.emit(depth + 1, f"{last}[0] = {v}")
        self.emit(depth + 1, f"{last}[1] = {d}")
        self.emit(depth + 1, f"out += {d}")
        self.emit(depth, f"elif {v}.__class__ is int and {_LONG[0]} <= {v} < {_LONG[1]}:")
        self.emit(depth + 1, f"out += zigzag({v})")
        self.emit(depth, "else: fallback()")

    def union(self, depth: int, v: str, branches: list[Any]) -> None:
        if len(branches) != 2 or "null" not in branches:
            raise NotImplementedError("unions other than [null, T]")
        null = branches.index("null")
        self.emit(depth, f"if {v} is None: out += {_SHORT[null]!r}")
        self.emit(depth, "else:")
        self.emit(depth + 1, f"out += {_SHORT[1 - null]!r}")
        self.value(depth + 1, v, branches[1 - null])

    def record(self, depth: int, r: str, schema: dict[str, Any]) -> None:
        self.emit(depth, f"if {r}.__class__ is not dict: fallback()")
        for field in schema["fields"]:
            v, name, kind = self.var(), field["name"], field["type"]
            # as fastavro: a missing field takes its default, or null if it may be null
            if "default" in field:
                self.emit(depth, f"{v} = {r}.get({name!r}, {self.const(field['default'])})")
            elif isinstance(kind, list) and "null" in kind:
                self.emit(depth, f"{v} = {r}.get({name!r})")
            else:
                self.emit(depth, f"{v} = {r}[{name!r}]")
            self.value(depth, v, kind)

    def map(self, depth: int, m: str, values: Any) -> None:
        k, x = self.var("k"), self.var()
        self.emit(depth, f"if {m}.__class__ is not dict: fallback()")
        self.emit(depth, f"if {m}:")
        self.emit(depth + 1, f"out += zigzag(len({m}))")
        self.emit(depth + 1, f"for {k}, {x} in {m}.items():")
        self.string(depth + 2, k)
        self.value(depth + 2, x, values)
        self.emit(depth, "out += b'\\x00'")


def compile_encoder(schema: Mapping[str, Any], prefix: bytes = b"") -> Encoder | None:
    """An encoder of `prefix` + the Avro binary of records of `schema` (named types expanded),
    or None when the schema has types the generator does not handle."""
    writer = _Writer()
    try:
        writer.record(1, "record", dict(schema))
    except NotImplementedError:
        return None
    body = "\n".join(writer.lines)
    source = f"def encode(record):\n    out = bytearray(PREFIX)\n{body}\n    return bytes(out)\n"
    namespace: dict[str, Any] = {
        **writer.consts,
        "PREFIX": prefix,
        "SHORT": _SHORT,
        "EPOCH": _EPOCH,
        "date": date,
        "datetime": datetime,
        "fallback": _fallback,
        "zigzag": zigzag,
    }
    exec(compile(source, f"<avro encoder {schema.get('name')}>", "exec"), namespace)
    encode: Encoder = namespace["encode"]
    return encode
