"""Load connector files: YAML with `${ENV}` substitution, checked against the schemas, with
errors that name the file, the line and the field.

`${NAME}` is the environment variable NAME; `${NAME:-default}` falls back to the default,
which may itself name variables (`${NAME:-sqlite:///${GOVGATE_DATA_DIR}/x.db}`). The caller
may pin variables (`variables`): `govgate connect` and `govgate up` pin GOVGATE_DATA_DIR to the
data dir's absolute path, so a profile finds the same files from any working directory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from connectors.errors import MappingSpecError
from connectors.mapping.engine import compile_rules
from connectors.mapping.spec import ConnectorSpec

# The last resort for a variable neither pinned nor in the environment: the settings' default.
_DEFAULTS = {"GOVGATE_DATA_DIR": "var"}
_ENV = re.compile(r"\$\{([A-Z0-9_]+)(?::-((?:[^${}]|\$\{[A-Z0-9_]+\})*))?\}")


def _lines(node: yaml.Node, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], int]:
    """Line number (1-based) of every key path in a YAML document."""
    lines = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            lines[child] = key.start_mark.line + 1
            lines.update({k: v for k, v in _lines(value, child).items() if k != child})
    return lines


def _substitute(value: Any, where: str, variables: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, where, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, where, variables) for v in value]
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            found = variables.get(name, os.environ.get(name, _DEFAULTS.get(name)))
            if found is not None:
                return found
            if default is None:
                raise MappingSpecError(f"{where}: environment variable {name} is not set")
            return str(_substitute(default, where, variables))

        return _ENV.sub(replace, value)
    return value


def _line_of(lines: dict[tuple[str, ...], int], loc: tuple[Any, ...]) -> int:
    path = tuple(str(p) for p in loc)
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


def load_connector_spec(path: Path, variables: Mapping[str, str] | None = None) -> ConnectorSpec:
    """Parse, substitute and check one connector file; raise `MappingSpecError` if wrong.

    `variables` take precedence over the environment in `${…}` substitutions."""
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
        spec = ConnectorSpec.model_validate(_substitute(raw, str(path), variables or {}))
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
