"""JSON Schema for the canonical records, generated from their Avro schemas.

The Avro schemas in `avsc/` are the one source of truth for a record's shape; the gateway's
OpenAPI document (gateway.api.contract) types lookup answers, feed items and pushed events with
what this module derives from them, so the contract cannot drift from the log. Records travel
as JSON the way `schemas.codec.to_jsonable` writes them: times RFC 3339 (`date-time`), dates
ISO 8601 (`date`), UUIDs as text, bytes as hex, a union with null as a nullable value. The
dialect is JSON Schema 2020-12, as OpenAPI 3.1 embeds it.

Named types (records and enums such as `Party`, `PartyType`) become schemas of their own,
referenced as `{ref_prefix}{Name}`; a name defined differently by two files is an error,
not a silent choice of one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from schemas.registry import LoadedSchema, default_registry

REF_PREFIX = "#/components/schemas/"

_PRIMITIVES: dict[str, dict[str, Any]] = {
    "null": {"type": "null"},
    "boolean": {"type": "boolean"},
    "int": {"type": "integer", "format": "int32"},
    "long": {"type": "integer", "format": "int64"},
    "float": {"type": "number"},
    "double": {"type": "number"},
    "string": {"type": "string"},
    "bytes": {"type": "string", "description": "hex"},
}
_LOGICAL: dict[str, dict[str, Any]] = {
    "uuid": {"type": "string", "format": "uuid"},
    "date": {"type": "string", "format": "date"},
    "timestamp-millis": {"type": "string", "format": "date-time"},
    "timestamp-micros": {"type": "string", "format": "date-time"},
}


class _Generator:
    def __init__(self, ref_prefix: str) -> None:
        self.ref_prefix = ref_prefix
        self.named: dict[str, dict[str, Any]] = {}

    def ref(self, name: str) -> dict[str, Any]:
        return {"$ref": self.ref_prefix + name.rpartition(".")[2]}

    def define(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        short = name.rpartition(".")[2]
        found = self.named.get(short)
        if found is not None and json.dumps(found, sort_keys=True) != json.dumps(
            schema, sort_keys=True
        ):
            raise ValueError(f"the Avro type {short} is defined differently in two schemas")
        self.named[short] = schema
        return self.ref(short)

    def convert(self, avro: Any) -> dict[str, Any]:
        if isinstance(avro, str):
            return dict(_PRIMITIVES[avro]) if avro in _PRIMITIVES else self.ref(avro)
        if isinstance(avro, list):
            return self.union(avro)
        logical = avro.get("logicalType")
        if logical in _LOGICAL:
            return dict(_LOGICAL[logical])
        kind = avro["type"]
        if kind == "record":
            return self.record(avro)
        if kind == "enum":
            enum: dict[str, Any] = {"type": "string", "enum": list(avro["symbols"])}
            if "doc" in avro:
                enum["description"] = avro["doc"]
            return self.define(avro["name"], enum)
        if kind == "array":
            return {"type": "array", "items": self.convert(avro["items"])}
        if kind == "map":
            return {"type": "object", "additionalProperties": self.convert(avro["values"])}
        if kind == "fixed":
            return {"type": "string", "description": f"hex, {avro['size']} bytes"}
        return self.convert(kind)  # {"type": "string"} and the like

    def union(self, branches: list[Any]) -> dict[str, Any]:
        converted = [self.convert(branch) for branch in branches]
        return converted[0] if len(converted) == 1 else {"anyOf": converted}

    def record(self, avro: dict[str, Any]) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required: list[str] = []
        for field in avro["fields"]:
            schema = self.convert(field["type"])
            if "doc" in field:
                schema = (
                    {**schema, "description": field["doc"]}
                    if "$ref" not in schema
                    else {
                        "allOf": [schema],
                        "description": field["doc"],
                    }
                )
            if "default" in field:
                schema["default"] = field["default"]
            else:
                required.append(field["name"])
            properties[field["name"]] = schema
        record: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            record["required"] = required
        if "doc" in avro:
            record["description"] = avro["doc"]
        return self.define(avro["name"], record)


def record_schemas(
    loaded: Iterable[LoadedSchema] | None = None, *, ref_prefix: str = REF_PREFIX
) -> dict[str, dict[str, Any]]:
    """Every named type of `loaded` (default: the current schemas) as JSON Schema, by name.

    A field with an Avro default is optional (a pushed record may leave it out); every other
    field is required.
    """
    generator = _Generator(ref_prefix)
    for schema in loaded if loaded is not None else default_registry().current.values():
        generator.convert(schema.raw)
    return dict(sorted(generator.named.items()))
