"""Deliveries on every log backend: a receiver down then up, pause and resume, several
workers on one database. Every delivery is checked by the receiver with `verify_delivery`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.members.keys import algorithm_of
from gateway.members.store import Grant as _Grant
from tests.gateway.api.conftest import PROFILES, SM_ONLY
from tests.gateway.webhooks.conftest import (
    Hooks,
    Receiver,
    assert_in_order_per_key,
    case_events,
    open_hooks,
    until,
    webhook_settings,
)

EVERY_CASE = _Grant("case", "*")  # the e-supervision feed: every item's case events

MakeHooks = Callable[..., contextlib.AbstractAsyncContextManager[Hooks]]


async def test_receiver_down_then_up_gets_every_event_in_order(
    hooks: Hooks, receiver: Receiver
) -> None:
    sub = await hooks.subscribe(receiver)  # from now: what is already there is not sent
    sent = case_events(2, 1, department="OTHER") + case_events(4, 6)
    await hooks.append(sent[:14])
    # down: nobody listens on the port (connection refused)
    await until(lambda: _failures(hooks, sub["id"], at_least=3))
    shown = await hooks.subscription(sub["id"])
    assert shown["state"] == "active" and shown["delivered"] == 0
    assert shown["last_error"] == "no answer (ConnectError)"
    assert shown["next_attempt_at"] is not None and shown["lag"] >= 14
    assert "127.0.0.1" not in shown["last_error"] and "token" not in shown["last_error"]
    # then up, but answering 503 for a while
    receiver.fail_with = 503
    await receiver.start()
    await until(lambda: receiver.refused >= 2)
    assert (await hooks.subscription(sub["id"]))["last_error"] == "HTTP 503"
    await hooks.append(sent[14:])
    receiver.fail_with = None
    await until(lambda: len(set(receiver.ids())) >= len(sent))
    assert receiver.rejected == []  # every delivery's signature verified
    assert_in_order_per_key(receiver.events, sent)
    assert len(receiver.events) == len(sent)  # nothing was acknowledged twice
    event = receiver.events[0]
    assert event["specversion"] == "1.0" and event["type"] == "cn.govgate.CaseEvent.v1"
    assert event["subject"] == event["data"]["case_no"] and event["govgatestream"] == "case-events"
    assert set(receiver.deliveries) == {sub["id"]}
    await until(lambda: _delivered(hooks, sub["id"], len(sent)))
    shown = await hooks.subscription(sub["id"])
    assert shown["failures"] == 0 and shown["lag"] == 0 and shown["next_attempt_at"] is None
    assert shown["cursor"] == receiver.events[-1]["govgatecursor"]
    metrics = (await hooks.call("GET", "/metrics", member=None)).text
    assert 'govgate_webhook_deliveries_total{outcome="failed"}' in metrics
    assert f"govgate_webhook_events_total {float(len(sent))}" in metrics


async def _failures(hooks: Hooks, subscription_id: str, at_least: int) -> bool:
    return (await hooks.subscription(subscription_id))["failures"] >= at_least


async def _delivered(hooks: Hooks, subscription_id: str, count: int) -> bool:
    return (await hooks.subscription(subscription_id))["delivered"] >= count


async def test_an_sm_only_gateway_signs_deliveries_with_sm2_and_sm3(
    data_dir: Path, request: pytest.FixtureRequest, receiver: Receiver
) -> None:
    base = webhook_settings(data_dir, "sqlite", request)
    sm_only = base.gateway.model_copy(update=SM_ONLY)
    [profile] = [p for p in PROFILES if p.name == "sm-only"]
    settings = base.model_copy(update={"gateway": sm_only})
    async with open_hooks(settings, receiver, profile) as hooks:
        assert algorithm_of(hooks.services.keys.private_key) == "sm2-sm3"
        await hooks.add_member("sup", "subscriber", grants=(EVERY_CASE,))
        await receiver.start()
        await hooks.subscribe(receiver, start="beginning")
        sent = case_events(2, 2)
        await hooks.append(sent)
        await until(lambda: len(receiver.events) >= len(sent))
    assert receiver.rejected == []  # verified with the gateway's published SM2 key
    assert_in_order_per_key(receiver.events, sent)
    for _, headers, _ in receiver.raw:
        assert headers["content-digest"].startswith("sm3=:")
        assert 'alg="sm2-sm3"' in headers["signature-input"]


async def test_filter_and_start_position(hooks: Hooks, receiver: Receiver) -> None:
    await receiver.start()
    early = case_events(1, 2)
    await hooks.append(early)
    mine = case_events(2, 2, department="D1")
    others = case_events(2, 2, department="D2")
    everything = await hooks.subscribe(receiver, start="beginning", department="D1")
    await hooks.append([r for pair in zip(mine, others, strict=True) for r in pair])
    await until(lambda: len(receiver.events) == len(mine))
    assert_in_order_per_key(receiver.events, mine)
    await until(lambda: _lag_is_zero(hooks, everything["id"]))  # filtered out, still passed
    assert (await hooks.subscription(everything["id"]))["delivered"] == len(mine)


async def _lag_is_zero(hooks: Hooks, subscription_id: str) -> bool:
    return (await hooks.subscription(subscription_id))["lag"] == 0


async def test_pauses_after_repeated_failure_and_resumes_losing_nothing(
    make_hooks: MakeHooks, receiver: Receiver
) -> None:
    async with make_hooks(max_failures=3) as hooks:
        await hooks.add_member("sup", "subscriber", grants=(EVERY_CASE,))
        sub = await hooks.subscribe(receiver)
        sent = case_events(3, 3)
        await hooks.append(sent)
        await until(lambda: _state(hooks, sub["id"], "paused"))
        shown = await hooks.subscription(sub["id"])
        assert (shown["paused_reason"], shown["failures"]) == ("failing", 3)
        await receiver.start()
        await asyncio.sleep(0.5)
        assert receiver.events == []  # paused: no attempt
        resumed = await hooks.call("POST", f"/v1/subscriptions/{sub['id']}/resume", "sup")
        assert resumed.status_code == 200 and resumed.json()["state"] == "active"
        assert resumed.json()["failures"] == 0
        await until(lambda: len(receiver.events) == len(sent))
        assert_in_order_per_key(receiver.events, sent)
        assert receiver.rejected == []


async def _state(hooks: Hooks, subscription_id: str, state: str) -> bool:
    return (await hooks.subscription(subscription_id))["state"] == state


async def test_pause_by_request_holds_deliveries(hooks: Hooks, receiver: Receiver) -> None:
    await receiver.start()
    sub = await hooks.subscribe(receiver)
    paused = await hooks.call("POST", f"/v1/subscriptions/{sub['id']}/pause", "sup")
    assert paused.json()["state"] == "paused" and paused.json()["paused_reason"] == "requested"
    sent = case_events(2, 2)
    await hooks.append(sent)
    await asyncio.sleep(0.6)
    assert receiver.events == []
    assert (await hooks.subscription(sub["id"]))["lag"] == len(sent)
    await hooks.call("POST", f"/v1/subscriptions/{sub['id']}/resume", "sup")
    await until(lambda: len(receiver.events) == len(sent))
    assert_in_order_per_key(receiver.events, sent)


async def test_two_workers_never_deliver_one_subscription_at_once(
    make_hooks: MakeHooks, receiver: Receiver
) -> None:
    receiver.delay = 0.02
    await receiver.start()
    async with make_hooks(batch_size=1) as first, make_hooks(batch_size=1) as second:
        await first.add_member("sup", "subscriber", grants=(EVERY_CASE,))
        subs = [await first.subscribe(receiver) for _ in range(2)]
        sent = case_events(3, 5)
        await second.append(sent)
        await until(lambda: len(receiver.events) == 2 * len(sent))
        await asyncio.sleep(0.3)
    assert len(receiver.events) == 2 * len(sent)  # no failure, so no duplicate either
    for sub in subs:
        pairs = zip(receiver.events, receiver.deliveries, strict=True)
        assert_in_order_per_key([e for e, s in pairs if s == sub["id"]], sent)
    assert receiver.max_in_flight == 1  # each subscription held by one worker at a time


async def test_a_receiver_slower_than_the_timeout_gets_the_same_events_again(
    make_hooks: MakeHooks, receiver: Receiver
) -> None:
    receiver.delay = 1.0  # it answers after the gateway gave up
    await receiver.start()
    async with make_hooks(timeout_s=0.3, lease_s=1.0) as hooks:
        await hooks.add_member("sup", "subscriber", grants=(EVERY_CASE,))
        sub = await hooks.subscribe(receiver)
        sent = case_events(2, 2)
        await hooks.append(sent)
        await until(lambda: _failures(hooks, sub["id"], at_least=1))
        assert (await hooks.subscription(sub["id"]))["last_error"] == "timed out (TimeoutError)"
        receiver.delay = 0
        await until(lambda: _delivered(hooks, sub["id"], len(sent)))
    assert_in_order_per_key(receiver.events, sent)  # any duplicate: the same event again
