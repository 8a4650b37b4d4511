"""Schema checks run by `govgate schemas check` before a schema change lands.

Compatibility is decided by the Apache Avro project's own `ReaderWriterCompatibilityChecker`
(the Python port of Java's `SchemaCompatibility`), not by a hand-written rule set.
Backward: the current schema can read every event written with every released version.
Forward (with `full`): every released version can read events written with the current one,
so subscribers that have not upgraded keep working.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from schemas.registry import LoadedSchema, Registry

_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]{3,}")


@dataclass(frozen=True, slots=True)
class Problem:
    schema: str
    code: str  # BACKWARD_INCOMPATIBLE, FORWARD_INCOMPATIBLE, DOC_MISSING
    detail: str

    def __str__(self) -> str:
        return f"{self.schema}: {self.code}: {self.detail}"


def _avro(schema: LoadedSchema) -> avro.schema.Schema:
    return avro.schema.parse(json.dumps(schema.raw))


def _incompatibility(reader: LoadedSchema, writer: LoadedSchema) -> str | None:
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
    result = checker.get_compatibility(_avro(reader), _avro(writer))
    if result.compatibility is SchemaCompatibilityType.compatible:
        return None
    where = ", ".join(sorted(result.locations))
    return f"{'; '.join(sorted(result.messages))} (at {where})"


def check_compatibility(registry: Registry, mode: str = "backward") -> list[Problem]:
    """Compare each current schema with each of its released versions."""
    problems: list[Problem] = []
    for name, current in sorted(registry.current.items()):
        for old in registry.released.get(name, []):
            label = f"v{old.version}"
            if (why := _incompatibility(current, old)) is not None:
                problems.append(
                    Problem(name, "BACKWARD_INCOMPATIBLE", f"cannot read {label} events: {why}")
                )
            if mode == "full" and (why := _incompatibility(old, current)) is not None:
                problems.append(
                    Problem(name, "FORWARD_INCOMPATIBLE", f"{label} readers cannot read: {why}")
                )
    return problems


def _documented(node: dict[str, Any], path: str) -> Iterator[str]:
    doc = str(node.get("doc", ""))
    if not (_CJK.search(doc) and _LATIN.search(doc)):
        yield path
    kind = node.get("type")
    children: list[tuple[str, Any]] = []
    if kind == "record":
        for f in node["fields"]:
            if not (_CJK.search(str(f.get("doc", ""))) and _LATIN.search(str(f.get("doc", "")))):
                yield f"{path}.{f['name']}"
            children.append((f"{path}.{f['name']}", f["type"]))
    for child_path, child in children:
        for branch in child if isinstance(child, list) else [child]:
            if isinstance(branch, dict) and branch.get("type") in ("record", "enum"):
                yield from _documented(branch, child_path)


def check_docs(registry: Registry) -> list[Problem]:
    """Every record, enum and field must have a `doc` in both Chinese and English."""
    return [
        Problem(name, "DOC_MISSING", f"{path} needs a doc in Chinese and English")
        for name, schema in sorted(registry.current.items())
        for path in _documented(schema.raw, name)
    ]
