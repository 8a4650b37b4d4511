"""What the canonical schema says about each target field, and the plan for filling it.

`engine` builds a `FieldPlan` per mapped field; `codegen` turns the plans into one function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connectors.mapping.spec import FieldRule
from schemas.registry import default_registry

_MISSING = object()


@dataclass(frozen=True, slots=True)
class Leaf:
    """What the schema says about one target field."""

    kind: str  # string, int, float, bool, timestamp, date, enum, map, array
    optional: bool  # a union with null
    has_default: bool
    default: Any
    symbols: tuple[str, ...] = ()


def _leaves(node: Any, prefix: str, named: dict[str, Any]) -> dict[str, Leaf]:
    """Every leaf field of a record schema by dotted path."""
    out: dict[str, Leaf] = {}
    for f in node["fields"]:
        path = f"{prefix}{f['name']}"
        kind, optional = f["type"], False
        if isinstance(kind, list):
            optional = "null" in kind
            kind = next(t for t in kind if t != "null")
        if isinstance(kind, str) and kind in named:
            kind = named[kind]
        if isinstance(kind, dict) and kind.get("type") == "record":
            named[kind["name"]] = named[f"govgate.{kind['name']}"] = kind
            out.update(_leaves(kind, f"{path}.", named))
            continue
        out[path] = _leaf(kind, optional, f)
    return out


def _leaf(kind: Any, optional: bool, f: dict[str, Any]) -> Leaf:
    default = f.get("default", _MISSING)
    has_default = default is not _MISSING
    if isinstance(kind, dict):
        logical = kind.get("logicalType")
        if logical == "timestamp-millis":
            return Leaf("timestamp", optional, has_default, default)
        if logical == "date":
            return Leaf("date", optional, has_default, default)
        if kind.get("type") == "enum":
            return Leaf("enum", optional, has_default, default, tuple(kind["symbols"]))
        if kind.get("type") == "map":
            return Leaf("map", optional, has_default, default)
        if kind.get("type") == "array":  # a code table's list, or a column's text split up
            return Leaf("array", optional, has_default, default)
        kind = kind["type"]
    simple = {
        "string": "string",
        "int": "int",
        "long": "int",
        "boolean": "bool",
        "float": "float",
        "double": "float",
    }
    return Leaf(simple.get(kind, "string"), optional, has_default, default)


def schema_leaves(record: str) -> dict[str, Leaf]:
    return _leaves(default_registry().get(record).raw, "", {})


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """What `codegen` needs of one field: its rule and type, and the closures it may call."""

    path: tuple[str, ...]
    rule: FieldRule | None  # None: a field only `read` knows how to fill (surface fields)
    leaf: Leaf | None
    read: Callable[[Mapping[str, Any]], Any]  # the source value, or the whole field if no rule
    typed: Callable[[str, Any], Any] | None  # the typed conversion of a present value
