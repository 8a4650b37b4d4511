"""`govgate subscriptions`: the operator's view of webhook subscriptions, and resuming them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import click

from gateway.settings import Settings
from gateway.store import open_database
from gateway.store.errors import StoreError
from gateway.webhooks.store import Subscription, SubscriptionStore

T = TypeVar("T")


def _with_store(action: Callable[[SubscriptionStore], Awaitable[T]]) -> T:
    async def run() -> T:
        async with open_database(Settings()) as engine:
            return await action(SubscriptionStore(engine))

    try:
        return asyncio.run(run())
    except StoreError as exc:
        raise click.ClickException(f"{exc.code}: {exc.detail}") from exc


def _at(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")


def _row(sub: Subscription) -> dict[str, object]:
    return {
        "id": sub.subscription_id,
        "member": sub.member_id,
        "stream": sub.stream,
        "state": sub.state if sub.paused_reason is None else f"{sub.state} ({sub.paused_reason})",
        "failures": sub.failures,
        "delivered": sub.delivered,
        "position": sub.position,
        "last_error": sub.last_error,
        "last_error_at": _at(sub.last_error_ms),
        "last_delivered_at": _at(sub.last_delivered_ms),
    }


@click.group()
def subscriptions() -> None:
    """Webhook subscriptions (签名回调) of every member: state, failures, resume."""


@subscriptions.command("list")
@click.option("--member", default=None, help="Only this member's subscriptions.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_(member: str | None, as_json: bool) -> None:
    """List subscriptions, oldest first (target URLs are not shown: they may hold tokens)."""
    found = _with_store(lambda store: store.of_member(member))
    for sub in found:
        row = _row(sub)
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            click.echo(
                f"{row['id']}  {row['member']}  {row['stream']}  {row['state']}  "
                f"delivered {row['delivered']}  failures {row['failures']}  "
                f"last error {row['last_error'] or '-'} at {row['last_error_at']}"
            )


async def _set(store: SubscriptionStore, subscription_id: str, resume: bool) -> Subscription:
    found = await store.get(None, subscription_id)
    if found is None:
        raise click.ClickException(f"NOT_FOUND: no subscription {subscription_id}")
    change = store.resume if resume else store.pause
    changed = await change(found.member_id, subscription_id)
    assert changed is not None
    return changed


@subscriptions.command()
@click.argument("subscription_id")
def resume(subscription_id: str) -> None:
    """Deliver again from where the subscription stopped (failure count reset)."""
    sub = _with_store(lambda store: _set(store, subscription_id, resume=True))
    click.echo(f"{sub.subscription_id} {sub.state}")


@subscriptions.command()
@click.argument("subscription_id")
def pause(subscription_id: str) -> None:
    """Hold the subscription's deliveries; its position is kept."""
    sub = _with_store(lambda store: _set(store, subscription_id, resume=False))
    click.echo(f"{sub.subscription_id} {sub.state}")
