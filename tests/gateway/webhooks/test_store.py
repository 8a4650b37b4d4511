"""Subscription state: leases claimed by one worker at a time, failures, backoff, pausing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.feeds import Filter
from gateway.members.store import Grant as _Grant
from gateway.members.store import MembersStore
from gateway.settings import DatabaseSettings, Settings
from gateway.store import open_database
from gateway.webhooks.store import SubscriptionStore
from tests.gateway.api.conftest import reset_postgres

EVERY_CASE = _Grant("case", "*")  # the e-supervision feed: every item's case events

URL = "http://127.0.0.1:9/hook"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[AsyncEngine]:
    url = None
    if request.param == "postgres":
        url = str(request.getfixturevalue("pg_url"))
        await reset_postgres(url)
    async with open_database(Settings(data_dir=data_dir, database=DatabaseSettings(url=url))) as e:
        await MembersStore(e).add_member("sup", ["subscriber"], grants=[EVERY_CASE])
        yield e


async def test_one_worker_holds_a_subscription_until_its_lease_expires(
    engine: AsyncEngine,
) -> None:
    clock = Clock()
    store = SubscriptionStore(engine, clock=clock)
    sub = await store.create("sup", "case-events", URL, Filter(), {0: 3})
    claims = await asyncio.gather(
        *(store.claim(sub.subscription_id, f"w{i}", 10_000) for i in range(8))
    )
    winners = [i for i, c in enumerate(claims) if c is not None]
    assert len(winners) == 1
    a, b = f"w{winners[0]}", "late"
    assert await store.due(10) == []
    assert not await store.renew(sub.subscription_id, b, 10_000)
    assert not await store.advance(sub.subscription_id, b, {0: 9}, 6)
    assert await store.advance(sub.subscription_id, a, {0: 5}, 2)
    clock.now += 11  # a's lease has expired: b may take over, and a may no longer write
    assert await store.claim(sub.subscription_id, b, 10_000) is not None
    assert not await store.advance(sub.subscription_id, a, {0: 9}, 4)
    assert not await store.renew(sub.subscription_id, a, 10_000)
    found = await store.get("sup", sub.subscription_id)
    assert found is not None and found.position == {0: 5} and found.delivered == 2
    await store.release(b)
    assert await store.due(10) == [sub.subscription_id]


async def test_failures_schedule_retries_and_pause(engine: AsyncEngine) -> None:
    clock = Clock()
    store = SubscriptionStore(engine, clock=clock)
    sub = await store.create("sup", "case-events", URL, Filter(department_code="D"), {})
    sid = sub.subscription_id
    for n in (1, 2):
        assert await store.claim(sid, "w", 10_000) is not None
        failed = await store.fail(sid, "w", "HTTP 503", 2_000, max_failures=3)
        assert failed is not None and (failed.failures, failed.state) == (n, "active")
        assert await store.due(10) == []  # not before its next attempt, even unleased
        assert await store.claim(sid, "w", 10_000) is None
        clock.now += 2
    assert await store.claim(sid, "w", 10_000) is not None
    failed = await store.fail(sid, "w", "x" * 500, 0, max_failures=3)
    assert failed is not None and (failed.state, failed.paused_reason) == ("paused", "failing")
    assert failed.last_error == "x" * 200
    assert await store.due(10) == [] and await store.claim(sid, "w", 10_000) is None
    assert await store.resume("other", sid) is None
    resumed = await store.resume("sup", sid)
    assert resumed is not None and (resumed.state, resumed.failures) == ("active", 0)
    assert resumed.filter == Filter(department_code="D") and resumed.position == {}
    assert await store.claim(sid, "w2", 10_000) is not None


async def test_a_paused_or_deleted_subscription_stops_its_worker(engine: AsyncEngine) -> None:
    store = SubscriptionStore(engine)
    sub = await store.create("sup", "case-events", URL, Filter(), {})
    assert await store.claim(sub.subscription_id, "w", 10_000) is not None
    await store.pause("sup", sub.subscription_id)
    assert not await store.renew(sub.subscription_id, "w", 10_000)
    await store.resume("sup", sub.subscription_id)
    assert await store.renew(sub.subscription_id, "w", 10_000)
    assert await store.delete("sup", sub.subscription_id)
    assert not await store.renew(sub.subscription_id, "w", 10_000)
    assert not await store.advance(sub.subscription_id, "w", {0: 1}, 1)


async def test_a_revoked_member_receives_nothing_more(engine: AsyncEngine) -> None:
    store = SubscriptionStore(engine)
    sub = await store.create("sup", "case-events", URL, Filter(), {})
    assert await store.claim(sub.subscription_id, "w", 10_000) is not None
    await MembersStore(engine).revoke_member("sup")
    assert not await store.renew(sub.subscription_id, "w", 10_000)  # the worker stops
    await store.release("w")
    assert await store.due(10) == [] and await store.claim(sub.subscription_id, "w", 1) is None
    await MembersStore(engine).add_member("win", ["consumer"])  # never a subscriber
    other = await store.create("win", "case-events", URL, Filter(), {})
    assert await store.claim(other.subscription_id, "w", 10_000) is None
