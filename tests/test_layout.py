"""The architecture of DESIGN.md, held by the import graph: dependencies point one way.

- `schemas` imports nothing of govgate's other packages (it is what every one may import);
- `gateway` imports `connectors` only from `gateway.cli`, the composition root;
- the domain packages never import the HTTP edge (`gateway.api`), which turns their errors
  into statuses, nor the CLI;
- no module imports itself through others (no import cycles, `TYPE_CHECKING` ones included);
- every error class of govgate derives from the one base, `schemas.errors.GovgateError`
  (the simulated department systems' own errors excepted: they stand for other systems).
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas.errors import GovgateError

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("schemas", "gateway", "connectors")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _owner(name: str) -> str | None:
    """The project module an imported name lives in (a package's `__init__` for its names)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imported(module: str, path: Path) -> Iterator[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield full if full in MODULES else base


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for module, path in MODULES.items():
        for name in _imported(module, path):
            owner = _owner(name)
            if owner is not None and owner != module:
                graph[module].add(owner)
    return graph


GRAPH = _graph()


def _edges(source: str, target: str) -> list[str]:
    return sorted(
        f"{m} -> {t}"
        for m, targets in GRAPH.items()
        for t in targets
        if (m == source or m.startswith(source + "."))
        and (t == target or t.startswith(target + "."))
    )


def test_schemas_imports_none_of_the_other_packages() -> None:
    assert _edges("schemas", "gateway") + _edges("schemas", "connectors") == []


def test_gateway_imports_connectors_only_from_the_cli() -> None:
    edges = [e for e in _edges("gateway", "connectors") if not e.startswith("gateway.cli")]
    assert edges == []


@pytest.mark.parametrize("edge", ["gateway.api", "gateway.cli"])
def test_domain_packages_do_not_import_the_edge_or_the_cli(edge: str) -> None:
    edges = [
        e
        for e in _edges("gateway", edge) + _edges("connectors", edge)
        if not e.startswith(("gateway.api", "gateway.cli"))
    ]
    assert edges == []


def test_no_import_cycles() -> None:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in GRAPH[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    assert cycles == []


def test_every_error_derives_from_the_one_base() -> None:
    strays = []
    for module in sorted(MODULES):
        if ".migrations." in module or module.startswith("connectors.simulators"):
            continue
        loaded = importlib.import_module(module)
        for name, value in vars(loaded).items():
            if (
                inspect.isclass(value)
                and issubclass(value, Exception)
                and value.__module__ == module
                and not name.startswith("_")
                and not issubclass(value, GovgateError)
            ):
                strays.append(f"{module}.{name}")
    assert strays == []
