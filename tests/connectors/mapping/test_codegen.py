"""The generated map function does what the per-field converters do: same record, same error."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.errors import MappingError
from connectors.mapping import Mapper, load_connector_spec
from connectors.mapping.engine import compile_rules
from connectors.mapping.spec import MappingSpec
from connectors.sources.base import SourceRecord
from schemas.ids import event_id
from tests.connectors.mapping.test_engine import certificate_spec

PROFILES = Path(__file__).resolve().parents[3] / "connectors" / "profiles"
FETCHED = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
SPECS = {p.stem: load_connector_spec(p) for p in sorted(PROFILES.glob("*.yaml"))}
SPECS["certificate-test"] = certificate_spec()


def interpreted(spec: MappingSpec, raw: SourceRecord) -> dict[str, Any]:
    """Mapper.map as it was: one converter closure per field, in order."""
    record: dict[str, Any] = {
        "event_id": event_id(spec.source_system, raw.table, raw.key, raw.version),
        "provenance": {
            "source_system": spec.source_system,
            "source_table": raw.table,
            "source_key": raw.key,
            "source_version": raw.version,
            "fetched_at": FETCHED,
            "connector": "c",
        },
    }
    groups: dict[tuple[str, ...], list[Any]] = {}
    for path, convert in compile_rules(spec).converters:
        groups.setdefault(path[:-1], []).append((path[-1], convert))
    for parent, fields in sorted(groups.items(), key=lambda item: item[0] != ()):
        target = record
        for part in parent:
            target = target.setdefault(part, {})
        for name, convert in fields:
            target[name] = convert(raw.data)
    return record


def outcome(run: Any, *args: Any) -> Any:
    try:
        return run(*args)
    except MappingError as exc:
        return ("error", exc.code, exc.field, str(exc))


def columns(spec: MappingSpec) -> list[str]:
    found = set(spec.surface_fields.values())
    for rule in spec.fields.values():
        if isinstance(rule.from_, str):
            found.add(rule.from_)
        elif rule.from_:
            found.update(rule.from_)
        if rule.template:
            found.update(part.split("}")[0] for part in rule.template.split("{")[1:])
    return sorted(found)


values = st.one_of(
    st.none(),
    st.sampled_from(["", "  ", "长期", "01", "03", "10", "20", "09", "1", "5.0", "三天", "是"]),
    st.sampled_from(["2026-11-23 10:00:00", "20261123", "2026-02-30 10:00:00", "46349"]),
    st.integers(-5, 40),
    st.booleans(),
    st.text(max_size=8),
)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
@pytest.mark.parametrize("name", sorted(SPECS))
def test_generated_mapping_matches_the_converters(name: str, data: st.DataObject) -> None:
    spec = SPECS[name]
    row: Mapping[str, Any] = {c: data.draw(values, label=c) for c in columns(spec)}
    raw = SourceRecord("p", {}, "t", "k1", "v1", row)
    generated = outcome(Mapper(spec, connector="c").map, raw, FETCHED)
    assert generated == outcome(interpreted, spec, raw)
