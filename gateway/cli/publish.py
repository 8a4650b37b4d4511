"""`govgate members publish` / `unpublish`: what a publisher member may put on the log.

A publisher publishes nothing until it is registered for a record kind, a code (certificate
type, material catalog or item code; `*` for every code of the kind) and a source system.
Connectors publish as their department's publisher member, by the same scopes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from gateway.members.errors import MembersError
from gateway.publishing import PublishingStore, PublishScope
from gateway.publishing.errors import PublishingError
from gateway.settings import Settings
from gateway.store import open_database

T = TypeVar("T")
SCOPE_HELP = (
    "Repeatable KIND:CODE@SOURCE_SYSTEM, e.g. certificates:YYZZ@scjg-djxt; KIND is "
    "certificates, materials or case-events, CODE the type, catalog or item code (事项编码) "
    "or '*' for every one, SOURCE_SYSTEM the provenance.source_system its records name."
)


def parse_scopes(texts: tuple[str, ...]) -> list[PublishScope]:
    try:
        return [PublishScope.parse(text) for text in texts]
    except PublishingError as exc:
        raise click.ClickException(str(exc)) from exc


def with_publishing(action: Callable[[PublishingStore], Awaitable[T]]) -> T:
    async def run() -> T:
        async with open_database(Settings()) as engine:
            return await action(PublishingStore(engine))

    try:
        return asyncio.run(run())
    except (MembersError, PublishingError) as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("publish")
@click.argument("member_id")
@click.option("--scope", "scope_texts", multiple=True, required=True, help=SCOPE_HELP)
def publish(member_id: str, scope_texts: tuple[str, ...]) -> None:
    """Register MEMBER_ID (a publisher) to publish SCOPEs."""
    scopes = parse_scopes(scope_texts)
    with_publishing(lambda store: store.register(member_id, scopes))
    click.echo(f"{member_id} may publish {', '.join(map(str, scopes))}")


@click.command("unpublish")
@click.argument("member_id")
@click.option("--scope", "scope_texts", multiple=True, required=True, help=SCOPE_HELP)
def unpublish(member_id: str, scope_texts: tuple[str, ...]) -> None:
    """Withdraw SCOPEs from MEMBER_ID."""
    scopes = parse_scopes(scope_texts)
    removed = with_publishing(lambda store: store.unregister(member_id, scopes))
    click.echo(f"withdrew {removed} scope(s) from {member_id}")
