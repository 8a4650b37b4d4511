"""Apply a mapping: a pure function from a raw source record to a canonical record.

`compile_rules` turns a spec into one small converter per target field, once; the type of
each field (text, number, time, date, enum symbols, map) is read from the Avro schema, so
a mapping only says where a value comes from. `Mapper.map` runs the converters; it never
mutates its input, does no I/O, and raises `MappingError` naming the field and the value.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from connectors.errors import MappingError
from connectors.mapping.codegen import generate
from connectors.mapping.plan import FieldPlan, Leaf, schema_leaves
from connectors.mapping.spec import FieldRule, MappingSpec
from connectors.sources.base import SourceRecord
from schemas.timeparse import TimeParseError, parse_date, parse_timestamp

Converter = Callable[[Mapping[str, Any]], Any]
_AUTOMATIC = ("event_id", "provenance")  # filled by the mapper itself, never by a mapping


@dataclass
class Compiled:
    converters: list[tuple[tuple[str, ...], Converter]] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (field, message)
    plans: list[FieldPlan] = field(default_factory=list)  # as `converters`, for codegen


def compile_rules(spec: MappingSpec) -> Compiled:
    """Converters for every mapped field, and the problems that make the spec unusable."""
    leaves = schema_leaves(spec.target.record)
    compiled = Compiled()
    for name, rule in spec.fields.items():
        leaf = leaves.get(name)
        if leaf is None or name.startswith(_AUTOMATIC):
            why = "is filled automatically" if leaf else "is not a field of"
            compiled.problems.append((name, f"{why} {spec.target.record}"))
            continue
        try:
            path = tuple(name.split("."))
            compiled.converters.append((path, _converter(name, rule, leaf)))
            compiled.plans.append(FieldPlan(path, rule, leaf, _reader(rule), _typed(leaf, rule)))
        except ValueError as exc:
            compiled.problems.append((name, str(exc)))
    for name, leaf in leaves.items():
        needed = not (leaf.optional or leaf.has_default or name.startswith(_AUTOMATIC))
        if needed and name not in spec.fields and not (leaf.kind == "map" and spec.surface_fields):
            compiled.problems.append((name, f"is required by {spec.target.record} but not mapped"))
    if spec.surface_fields:
        if "surface_fields" not in leaves:
            compiled.problems.append(("surface_fields", f"{spec.target.record} has none"))
        else:
            surface = _surface(spec.surface_fields)
            compiled.converters.append((("surface_fields",), surface))
            compiled.plans.append(FieldPlan(("surface_fields",), None, None, surface, None))
    return compiled


def _converter(name: str, rule: FieldRule, leaf: Leaf) -> Converter:
    if rule.has_const:
        value = _check_symbol(name, rule.const, leaf)
        return lambda _data: value
    if rule.codes is not None:
        for code_value in rule.codes.values():
            _check_symbol(name, code_value, leaf)
    if rule.has_default:
        _check_symbol(name, rule.default, leaf)
    columns = _columns(rule)
    read = _reader(rule)
    convert = _typed(leaf, rule)
    source_field = "/".join(columns) or name
    # The common case, one column read as text, inlined: this runs ~20 times per record.
    column = columns[0] if len(columns) == 1 and rule.template is None else None
    none_values = frozenset({"", *rule.nulls})
    as_text = leaf.kind == "string"
    codes, has_default, default = rule.codes, rule.has_default, rule.default

    def run(data: Mapping[str, Any]) -> Any:
        if column is not None:
            raw = data.get(column)
            if raw.__class__ is str:
                raw = raw.strip()
                if raw in none_values:
                    raw = None
        else:
            raw = read(data)
        if raw is None:
            if has_default:
                return default
            if leaf.optional:
                return None
            if leaf.has_default:
                return leaf.default
            raise MappingError("MISSING_FIELD", source_field, f"{source_field}: value is missing")
        if codes is not None:
            key = raw if raw.__class__ is str else str(raw)
            if key in codes:
                return codes[key]
            if has_default:
                return default
            known = ", ".join(sorted(codes))
            raise MappingError(
                "UNKNOWN_CODE",
                source_field,
                f"{source_field}: unknown code {key!r} (known: {known})",
            )
        if as_text:
            return raw if raw.__class__ is str else str(raw)
        return convert(source_field, raw)

    return run


def _columns(rule: FieldRule) -> list[str]:
    return [rule.from_] if isinstance(rule.from_, str) else list(rule.from_ or [])


def _reader(rule: FieldRule) -> Callable[[Mapping[str, Any]], Any]:
    return _template(rule.template) if rule.template else _source(_columns(rule), rule.nulls)


def _check_symbol(name: str, value: Any, leaf: Leaf) -> Any:
    if leaf.kind == "enum" and value is not None and value not in leaf.symbols:
        raise ValueError(f"{value!r} is not one of {', '.join(leaf.symbols)}")
    return value


def _source(columns: list[str], nulls: list[str]) -> Callable[[Mapping[str, Any]], Any]:
    """The first of `columns` with a value; blank text and `nulls` count as no value."""
    none_values = {"", *nulls}

    def read(data: Mapping[str, Any]) -> Any:
        for column in columns:
            value = data.get(column)
            if isinstance(value, str):
                value = value.strip()
                if value in none_values:
                    continue
            if value is not None:
                return value
        return None

    return read


def _template(template: str) -> Callable[[Mapping[str, Any]], Any]:
    names = [n for _, n, _, _ in string.Formatter().parse(template) if n]

    def render(data: Mapping[str, Any]) -> Any:
        values = {}
        for n in names:
            value = data.get(n)
            if value is None or (isinstance(value, str) and not value.strip()):
                raise MappingError("MISSING_FIELD", n, f"{n}: value is missing (needed by an id)")
            values[n] = str(value).strip()
        return template.format_map(values)

    return render


def _typed(leaf: Leaf, rule: FieldRule) -> Callable[[str, Any], Any]:
    formats = [rule.format] if rule.format else None
    if leaf.kind == "timestamp":
        return partial(_time, parse_timestamp, formats)
    if leaf.kind == "date":
        return partial(_time, parse_date, formats)
    if leaf.kind == "int":
        return _integer
    if leaf.kind == "float":
        return lambda f, v: float(v)
    if leaf.kind == "bool":
        return _boolean
    if leaf.kind == "enum":
        return lambda f, v: _symbol(f, v, leaf.symbols)
    if leaf.kind == "array":
        return _split
    return lambda f, v: v if isinstance(v, str) else str(v)


def _time(parse: Callable[..., Any], formats: list[str] | None, field: str, value: Any) -> Any:
    try:
        return parse(value, field, formats)
    except TimeParseError as exc:
        raise MappingError(exc.code, field, str(exc)) from exc


def _integer(field: str, value: Any) -> int:
    try:
        number = float(value) if isinstance(value, str) and "." in value else value
        if isinstance(number, float) and not number.is_integer():
            raise ValueError
        return int(number)
    except (TypeError, ValueError):
        raise MappingError(
            "BAD_NUMBER", field, f"{field}: {value!r} is not a whole number"
        ) from None


def _boolean(field: str, value: Any) -> bool:
    text = str(value).strip().lower()
    if text in ("1", "true", "y", "yes", "是"):
        return True
    if text in ("0", "false", "n", "no", "否"):
        return False
    raise MappingError("BAD_BOOLEAN", field, f"{field}: {value!r} is not yes or no")


def _symbol(field: str, value: Any, symbols: tuple[str, ...]) -> str:
    if value in symbols:
        return str(value)
    raise MappingError(
        "UNKNOWN_CODE", field, f"{field}: {value!r} is not one of {', '.join(symbols)}"
    )


_SEPARATORS = re.compile(r"[;；,，、|\s]+")


def _split(field: str, value: Any) -> list[str]:
    """A list written in one cell, e.g. `ZFCG；ZTB` or `000112005000,000116001000`."""
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [part for part in _SEPARATORS.split(str(value)) if part]


def _surface(labels: dict[str, str]) -> Converter:
    def run(data: Mapping[str, Any]) -> dict[str, str]:
        return {
            label: str(data[column]).strip()
            for label, column in labels.items()
            if data.get(column) not in (None, "")
        }

    return run


class Mapper:
    """A compiled mapping; `map` turns one source record into one canonical record."""

    def __init__(self, spec: MappingSpec, connector: str | None = None) -> None:
        compiled = compile_rules(spec)
        if compiled.problems:
            field_name, message = compiled.problems[0]
            raise ValueError(f"mapping for {spec.source_system}: {field_name} {message}")
        self.spec = spec
        self.connector = connector
        self.record_type = spec.target.record
        self.stream = spec.target.stream
        # One generated function doing what the converters do, without a call per field.
        self._map = generate(spec, compiled.plans, connector)

    def map(self, raw: SourceRecord, fetched_at: datetime) -> dict[str, Any]:
        return self._map(raw.data, raw.table, raw.key, raw.version, fetched_at)


def map_record(raw: SourceRecord, spec: MappingSpec, fetched_at: datetime) -> dict[str, Any]:
    """One-off form of `Mapper(spec).map(raw, fetched_at)` (compiles the spec each call)."""
    return Mapper(spec).map(raw, fetched_at)
