"""A row deleted at its source, as a `Deletion` record of the canonical key it was mapped to.

A deleted row is gone, so its canonical key (`cert_id: {template: "YYZZ-{TYSHXYDM}"}`) can only
be rebuilt from what the source remembered of it: the columns the key's rule reads (and the
type code's, so feeds can show the delete to the subscribers granted that type). The source
asks `deletion_columns` which those are and keeps them with each key it has seen.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.errors import MappingError, MappingSpecError
from connectors.mapping.engine import Converter, compile_rules
from connectors.mapping.spec import FieldRule, MappingSpec
from connectors.sources.base import SourceRecord
from schemas.ids import event_id
from schemas.registry import default_registry

DELETION = "Deletion"
# The field that says what a record is, for grants: 证照类型, 材料目录, 名单.
TYPE_FIELDS = {"Certificate": "type_code", "Material": "catalog_code", "CreditEntry": "list_code"}
HOW = ("SNAPSHOT_DIFF", "DELETIONS_ENDPOINT", "PUBLISHED")


def key_field(record_type: str) -> str:
    """The canonical key of a record type (its schema's `govgate.key`), e.g. `cert_id`."""
    return default_registry().get(record_type).attribute("key")


def _reads(rule: FieldRule) -> list[str]:
    if rule.has_const:
        return []
    if rule.template is not None:
        return [n for _, n, _, _ in string.Formatter().parse(rule.template) if n]
    return [rule.from_] if isinstance(rule.from_, str) else list(rule.from_ or [])


def deletion_columns(spec: MappingSpec) -> list[str]:
    """The source columns a deleted row's key (and type code) are rebuilt from."""
    wanted = [key_field(spec.target.record), TYPE_FIELDS.get(spec.target.record)]
    columns: list[str] = []
    for name in wanted:
        rule = spec.fields.get(name) if name else None
        for column in _reads(rule) if rule is not None else []:
            if column not in columns:
                columns.append(column)
    return columns


class DeletionMapper:
    """Builds the `Deletion` record of a deleted source row (see the module docstring)."""

    def __init__(self, spec: MappingSpec, connector: str | None = None) -> None:
        converters: dict[tuple[str, ...], Converter] = dict(compile_rules(spec).converters)
        self.spec = spec
        self.connector = connector
        self.record_type = spec.target.record
        found = converters.get((key_field(self.record_type),))
        if found is None:
            raise MappingSpecError(
                f"{spec.source_system}: deletes need the key field "
                f"{key_field(self.record_type)!r} mapped"
            )
        self._key: Converter = found
        type_field = TYPE_FIELDS.get(self.record_type)
        self._type = converters.get((type_field,)) if type_field else None

    def map(self, raw: SourceRecord, fetched_at: datetime) -> dict[str, Any]:
        """The Deletion of `raw` (a record with `deleted` set); `MappingError` when the key
        cannot be rebuilt from what the source remembered."""
        key = self._key(raw.data)
        if not isinstance(key, str) or not key:
            raise MappingError("MISSING_FIELD", key_field(self.record_type), "no key to delete")
        system = self.spec.source_system
        return {
            "event_id": event_id(system, raw.table, raw.key, raw.version),
            "stream": self.spec.target.stream,
            "record_type": self.record_type,
            "key": key,
            "type_code": self._type_code(raw.data),
            "how": raw.how if raw.how in HOW else "UNKNOWN",
            "deleted_at": _deleted_at(raw.data),
            "detected_at": fetched_at,
            "provenance": {
                "source_system": system,
                "source_table": raw.table,
                "source_key": raw.key,
                "source_version": raw.version,
                "fetched_at": fetched_at,
                "connector": self.connector,
            },
        }

    def _type_code(self, data: Mapping[str, Any]) -> str | None:
        if self._type is None:
            return None
        try:
            value = self._type(data)
        except MappingError:  # not remembered: the delete is shown to fewer subscribers
            return None
        return value if isinstance(value, str) else None


def _deleted_at(data: Mapping[str, Any]) -> datetime | None:
    value = data.get("__deleted_at")
    return value if isinstance(value, datetime) and value.tzinfo is not None else None
