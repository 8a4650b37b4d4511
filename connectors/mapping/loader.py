"""Load connector files: YAML with `${ENV}` substitution, checked against the schemas, with
errors that name the file, the line and the field."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from connectors.errors import MappingSpecError
from connectors.mapping.engine import compile_rules
from connectors.mapping.spec import ConnectorSpec

_ENV = re.compile(r"\$\{([A-Z0-9_]+)(?::-([^}]*))?\}")


def _lines(node: yaml.Node, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], int]:
    """Line number (1-based) of every key path in a YAML document."""
    lines = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            lines[child] = key.start_mark.line + 1
            lines.update({k: v for k, v in _lines(value, child).items() if k != child})
    return lines


def _substitute(value: Any, where: str) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, where) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, where) for v in value]
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            found = os.environ.get(name, default)
            if found is None:
                raise MappingSpecError(f"{where}: environment variable {name} is not set")
            return found

        return _ENV.sub(replace, value)
    return value


def _line_of(lines: dict[tuple[str, ...], int], loc: tuple[Any, ...]) -> int:
    path = tuple(str(p) for p in loc)
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


def load_connector_spec(path: Path) -> ConnectorSpec:
    """Parse, substitute and check one connector file; raise `MappingSpecError` if wrong."""
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MappingSpecError(f"{path}: not valid YAML: {exc}") from exc
    if node is None or not isinstance(raw, dict):
        raise MappingSpecError(f"{path}: expected a mapping at the top")
    lines = _lines(node)
    try:
        spec = ConnectorSpec.model_validate(_substitute(raw, str(path)))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        field = ".".join(str(p) for p in loc) or "(top)"
        raise MappingSpecError(f"{path}:{_line_of(lines, loc)}: {field}: {first['msg']}") from exc
    problems = compile_rules(spec).problems
    if problems:
        field, message = problems[0]
        line = _line_of(lines, ("fields", field))
        raise MappingSpecError(f"{path}:{line}: fields.{field}: {message}")
    return spec
