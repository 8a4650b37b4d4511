"""A mapping as one straight-line Python function, generated once per spec.

`engine.compile_rules` validates a spec into one converter closure per field; calling ~20
closures per record costs more than the work they do. `generate` writes the same steps
inline: read the column, trim it, treat blanks and `nulls` as missing, apply the code table,
the default or the type; the rarer shapes (templates, several columns, times, numbers) call
the same helpers the closures use. Fields are converted in the order the closures ran, so
the first bad field of a row, and its `MappingError`, are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from connectors.errors import MappingError
from connectors.mapping.plan import FieldPlan
from connectors.mapping.spec import MappingSpec
from schemas.ids import event_id

# data, table, key, version, fetched_at → canonical record
MapFunction = Callable[[Mapping[str, Any], str, str, str, datetime], dict[str, Any]]
_MISS = object()


def _missing(source_field: str) -> MappingError:
    return MappingError("MISSING_FIELD", source_field, f"{source_field}: value is missing")


def _unknown(source_field: str, key: str, codes: Mapping[str, Any]) -> MappingError:
    known = ", ".join(sorted(codes))
    return MappingError(
        "UNKNOWN_CODE", source_field, f"{source_field}: unknown code {key!r} (known: {known})"
    )


class _Source:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {
            "MISS": _MISS,
            "missing": _missing,
            "unknown": _unknown,
            "event_id": event_id,
        }

    def const(self, value: Any) -> str:
        name = f"K{len(self.names)}"
        self.names[name] = value
        return name

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)


def generate(spec: MappingSpec, plans: list[FieldPlan], connector: str | None) -> MapFunction:
    """The map function of `spec`, from its field plans in the order the converters run."""
    src = _Source()
    system = src.const(spec.source_system)
    src.emit(1, f"eid = event_id({system}, table, key, version)")
    src.emit(1, "get = data.get")
    values: list[tuple[tuple[str, ...], str]] = []
    # the order `Mapper` ran the converters in: top-level fields, then each nested record's
    groups: dict[tuple[str, ...], list[FieldPlan]] = {(): []}
    for plan in plans:
        groups.setdefault(plan.path[:-1], []).append(plan)
    ordered = [plan for group in groups.values() for plan in group]
    for n, plan in enumerate(ordered):
        v = f"v{n}"
        if plan.rule is None or plan.leaf is None:
            src.emit(1, f"{v} = {src.const(plan.read)}(data)")
        elif plan.rule.has_const:
            src.emit(1, f"{v} = {src.const(plan.rule.const)}")
        else:
            _field(src, v, plan)
        values.append((plan.path, v))
    record = [
        "'event_id': eid",
        "'provenance': {"
        f"'source_system': {system}, 'source_table': table, 'source_key': key, "
        f"'source_version': version, 'fetched_at': fetched_at, "
        f"'connector': {src.const(connector)}}}",
    ]
    nested: dict[tuple[str, ...], list[str]] = {}
    for path, v in values:
        if len(path) == 1:
            record.append(f"{path[0]!r}: {v}")
        else:
            nested.setdefault(path[:-1], []).append(f"{path[-1]!r}: {v}")
    deep = []
    for parent, items in nested.items():
        if len(parent) == 1:
            record.append(f"{parent[0]!r}: {{{', '.join(items)}}}")
        else:
            deep.append((parent, items))
    src.emit(1, f"record = {{{', '.join(record)}}}")
    for parent, items in deep:  # deeper than one level: not in today's schemas
        src.emit(1, "target = record")
        for part in parent:
            src.emit(1, f"target = target.setdefault({part!r}, {{}})")
        src.emit(1, f"target.update({{{', '.join(items)}}})")
    src.emit(1, "return record")
    text = "def map_record(data, table, key, version, fetched_at):\n" + "\n".join(src.lines)
    namespace = dict(src.names)
    exec(compile(text, f"<mapping {spec.source_system}>", "exec"), namespace)
    function: MapFunction = namespace["map_record"]
    return function


def _field(src: _Source, v: str, plan: FieldPlan) -> None:
    """Lines computing field `v` exactly as `engine._converter`'s closure does."""
    rule, leaf, path = plan.rule, plan.leaf, plan.path
    assert rule is not None and leaf is not None
    columns = [rule.from_] if isinstance(rule.from_, str) else list(rule.from_ or [])
    source_field = "/".join(columns) or ".".join(path)
    sf = src.const(source_field)
    if len(columns) == 1 and rule.template is None:
        src.emit(1, f"{v} = get({columns[0]!r})")
        src.emit(1, f"if {v}.__class__ is str:")
        src.emit(2, f"{v} = {v}.strip()")
        nulls = frozenset({"", *rule.nulls})
        test = f"not {v}" if nulls == {""} else f"{v} in {src.const(nulls)}"
        src.emit(2, f"if {test}: {v} = None")
    else:  # a template or several columns: the closure's own reader
        src.emit(1, f"{v} = {src.const(plan.read)}(data)")
    src.emit(1, f"if {v} is None:")
    if rule.has_default:
        src.emit(2, f"{v} = {src.const(rule.default)}")
    elif leaf.optional:
        src.emit(2, "pass")
    elif leaf.has_default:
        src.emit(2, f"{v} = {src.const(leaf.default)}")
    else:
        src.emit(2, f"raise missing({sf})")
    if rule.codes is not None:
        codes = src.const(dict(rule.codes))
        key = f"(k := {v} if {v}.__class__ is str else str({v}))"
        src.emit(1, f"elif ({v} := {codes}.get({key}, MISS)) is MISS:")
        if rule.has_default:
            src.emit(2, f"{v} = {src.const(rule.default)}")
        else:
            src.emit(2, f"raise unknown({sf}, k, {codes})")
    elif leaf.kind == "string":
        src.emit(1, f"elif {v}.__class__ is not str: {v} = str({v})")
    elif leaf.kind == "int":
        src.emit(1, f"elif {v}.__class__ is not int: {v} = {src.const(plan.typed)}({sf}, {v})")
    else:
        src.emit(1, f"else: {v} = {src.const(plan.typed)}({sf}, {v})")
