"""`govgate schemas`: list the canonical schemas and check a change before it lands."""

from __future__ import annotations

import click

from schemas.compat import check_compatibility, check_docs
from schemas.registry import default_registry


@click.group()
def schemas() -> None:
    """The canonical Avro schemas (schemas/avsc)."""


@schemas.command("list")
def list_schemas() -> None:
    """Each schema with its fingerprint and released versions."""
    registry = default_registry()
    for name, schema in sorted(registry.current.items()):
        released = ", ".join(f"v{s.version}" for s in registry.released.get(name, []))
        click.echo(f"{name:<12} {schema.fingerprint.hex()}  released: {released or '-'}")


@schemas.command()
@click.option("--full", is_flag=True, help="Also require old readers to read new events.")
def check(full: bool) -> None:
    """Fail on a change that breaks compatibility with a released version, or a missing doc."""
    registry = default_registry()
    problems = check_compatibility(registry, "full" if full else "backward") + check_docs(registry)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        raise SystemExit(1)
    versions = sum(len(v) for v in registry.released.values())
    click.echo(f"{len(registry.current)} schemas compatible with {versions} released versions")
