"""`govgate catalogue`: publish, withdraw, list and show the resource catalogue (资源目录).

The operator publishes from the command line for any department (the shipped profiles'
entries at set-up, `--shipped`); departments publish their own through `POST /v1/catalogue`.
Each publication is a new version, audited and on the `governance` stream, as from the API.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml

from gateway.catalogue.entries import Entry, parse_entry
from gateway.cli.governance import ERRORS, Opened, opened
from gateway.governance.catalogue import publish, withdraw
from gateway.governance.record import Actor
from gateway.settings import Settings

T = TypeVar("T")


def _run(action: Callable[[Opened], Awaitable[T]]) -> T:
    async def go() -> T:
        async with opened(Settings()) as found:
            return await action(found)

    try:
        return asyncio.run(go())
    except ERRORS as exc:
        raise click.ClickException(str(exc)) from exc


def read_entries(path: Path) -> list[Entry]:
    """The entries of a YAML or JSON file: one entry, or a list under `entries`."""
    raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = raw.get("entries", [raw]) if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise click.ClickException(f"{path}: an entry, or `entries:` with a list of them")
    try:
        return [parse_entry(item) for item in items]
    except ERRORS as exc:
        raise click.ClickException(f"{path}: {exc}") from exc


def shipped_files() -> list[Path]:
    from connectors.catalogue import shipped_catalogue  # the composition root may

    return shipped_catalogue()


async def publish_all(found: Opened, entries: list[Entry]) -> list[Entry]:
    out = []
    for entry in entries:
        out.append(
            await publish(
                found.governance.recorder, found.governance.catalogue, Actor.command_line(), entry
            )
        )
    return out


async def publish_shipped(settings: Settings) -> list[Entry]:
    """The shipped profiles' entries, published by the operator (unchanged ones stay as they
    are): what `govgate up --demo` starts with."""
    entries = [e for path in shipped_files() for e in read_entries(path)]
    async with opened(settings) as found:
        return await publish_all(found, entries)


@click.group()
def catalogue() -> None:
    """资源目录: the resources each department shares, with sharing class and legal basis."""


@catalogue.command("publish")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--shipped", is_flag=True, help="The entries of the shipped department profiles.")
def publish_command(files: tuple[Path, ...], shipped: bool) -> None:
    """Publish the entries of FILES (YAML or JSON); a changed entry becomes a new version."""
    paths = [*files, *(shipped_files() if shipped else [])]
    if not paths:
        raise click.UsageError("name entry files, or --shipped")
    entries = [e for path in paths for e in read_entries(path)]
    for entry in _run(lambda found: publish_all(found, entries)):
        click.echo(f"{entry.code} v{entry.version} {entry.sharing_class} {entry.name}")


@catalogue.command("withdraw")
@click.argument("code")
@click.option("--reason", required=True, help="Why it is withdrawn (撤销理由).")
def withdraw_command(code: str, reason: str) -> None:
    """Withdraw resource CODE (a new, withdrawn version)."""

    async def go(found: Opened) -> Entry:
        gov = found.governance
        return await withdraw(gov.recorder, gov.catalogue, Actor.command_line(), code, reason)

    entry = _run(go)
    click.echo(f"{entry.code} v{entry.version} withdrawn")


@catalogue.command("list")
@click.option("--department", help="提供方部门编码")
@click.option(
    "--kind", type=click.Choice(["certificate", "material", "case_events", "credit", "notice"])
)
@click.option("--sharing-class", type=click.Choice(["UNCONDITIONAL", "CONDITIONAL", "NOT_SHARED"]))
@click.option("--keyword")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per entry.")
def list_command(
    department: str | None,
    kind: str | None,
    sharing_class: str | None,
    keyword: str | None,
    as_json: bool,
) -> None:
    """The current entries."""

    async def go(found: Opened) -> list[Entry]:
        entries: list[Entry] = []
        after = None
        while True:
            page, after = await found.governance.catalogue.page(
                department=department,
                kind=kind,
                sharing_class=sharing_class,
                keyword=keyword,
                after=after,
                limit=100,
            )
            entries += page
            if after is None:
                return entries

    for entry in _run(go):
        if as_json:
            click.echo(json.dumps(entry.to_json(), ensure_ascii=False))
        else:
            click.echo(
                f"{entry.code} v{entry.version} {entry.department_code} {entry.kind} "
                f"{entry.sharing_class} {entry.name}"
            )


@catalogue.command("show")
@click.argument("code")
def show_command(code: str) -> None:
    """Every version of resource CODE, newest last, as JSON lines."""
    versions = _run(lambda found: found.governance.catalogue.versions(code))
    if not versions:
        raise click.ClickException(f"UNKNOWN_RESOURCE: no resource {code!r}")
    for entry in versions:
        click.echo(json.dumps(entry.to_json(), ensure_ascii=False))
