"""Load the canonical Avro schemas (current and released) and compute their fingerprints.

Each `.avsc` in `avsc/` is self-contained (named types such as `Party` and `Provenance` are
defined inline), so that any Avro library can read the log given a single file. Released
versions live in `avsc/released/NAME.vN.avsc`; a reader decodes events written with any of them
into the current shape (Avro schema resolution).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form

AVSC_DIR = Path(__file__).parent / "avsc"
RELEASED_DIR = AVSC_DIR / "released"
_RELEASED_NAME = re.compile(r"^(?P<name>[A-Za-z]+)\.v(?P<version>\d+)\.avsc$")


@dataclass(frozen=True, slots=True)
class LoadedSchema:
    """One schema file: its JSON, the fastavro-parsed form and its CRC-64-AVRO fingerprint."""

    name: str  # short record name, e.g. "CaseEvent"
    version: int | None  # released version number; None for the current schema
    path: Path
    raw: dict[str, Any] = field(repr=False)
    parsed: Any = field(repr=False)  # fastavro's parsed schema
    canonical: str = field(repr=False)  # Avro parsing canonical form
    fingerprint: bytes  # 8 bytes, little-endian as in single-object encoding

    @property
    def full_name(self) -> str:
        return str(self.raw.get("namespace", "")) + "." + self.name

    def attribute(self, key: str) -> str:
        """A govgate attribute of the schema (`govgate.key`, `govgate.time`, …)."""
        return str(self.raw[f"govgate.{key}"])


def load_file(path: Path, version: int | None = None) -> LoadedSchema:
    raw = json.loads(path.read_text(encoding="utf-8"))
    parsed = parse_schema(raw)
    canonical = to_parsing_canonical_form(parsed)
    return LoadedSchema(
        name=raw["name"],
        version=version,
        path=path,
        raw=raw,
        parsed=parsed,
        canonical=canonical,
        fingerprint=bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO")),
    )


@dataclass(frozen=True)
class Registry:
    """Every schema govgate knows: the current ones by name, and all by fingerprint."""

    current: dict[str, LoadedSchema]
    released: dict[str, list[LoadedSchema]]  # by name, oldest first

    def get(self, name: str) -> LoadedSchema:
        try:
            return self.current[name]
        except KeyError:
            raise KeyError(f"unknown record type {name!r}; known: {sorted(self.current)}") from None

    def by_fingerprint(self) -> dict[bytes, LoadedSchema]:
        table = {s.fingerprint: s for versions in self.released.values() for s in versions}
        table.update({s.fingerprint: s for s in self.current.values()})
        return table


def load_registry(directory: Path = AVSC_DIR) -> Registry:
    current = {s.name: s for s in (load_file(p) for p in sorted(directory.glob("*.avsc")))}
    released: dict[str, list[LoadedSchema]] = {}
    for path in sorted((directory / "released").glob("*.avsc")):
        match = _RELEASED_NAME.match(path.name)
        if match is None:
            raise ValueError(f"{path}: released schemas are named NAME.vN.avsc")
        loaded = load_file(path, int(match["version"]))
        released.setdefault(loaded.name, []).append(loaded)
    for versions in released.values():
        versions.sort(key=lambda s: s.version or 0)
    return Registry(current=current, released=released)


@cache
def default_registry() -> Registry:
    """The schemas shipped in this package, loaded once per process."""
    return load_registry()
