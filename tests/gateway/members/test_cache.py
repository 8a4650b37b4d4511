"""MemberCache: keys, members and grants remembered for `ttl_s`, cleared by local changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.members.cache import MemberCache
from gateway.members.keys import generate_private_key, key_id
from gateway.members.store import Grant, MembersStore
from gateway.store import make_engine, migrate


@pytest.fixture
async def engine(data_dir: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite:///{data_dir / 'govgate.db'}")
    await migrate(engine)
    yield engine
    await engine.dispose()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_change_through_this_process_is_seen_at_once(engine: AsyncEngine) -> None:
    store = MembersStore(engine)
    key = generate_private_key()
    await store.add_member("window", ["consumer"], keys=[key.public_key()])
    cache = MemberCache(store, ttl_s=60, clock=Clock())
    known = await cache.known_key(key_id(key))
    assert known is not None and known.inactive is None
    assert await cache.grants("window") == ()
    await store.add_grant("window", Grant.parse("certificate:YYZZ:*"))
    assert await cache.grants("window") == (Grant.parse("certificate:YYZZ:*"),)
    await store.revoke_key(key_id(key))
    known = await cache.known_key(key_id(key))
    assert known is not None and known.inactive == "revoked"


async def test_a_change_by_another_process_is_seen_within_the_ttl(engine: AsyncEngine) -> None:
    key = generate_private_key()
    await MembersStore(engine).add_member("window", ["consumer"], keys=[key.public_key()])
    clock = Clock()
    cache = MemberCache(MembersStore(engine), ttl_s=1.0, clock=clock)
    assert (await cache.known_key(key_id(key))).inactive is None  # type: ignore[union-attr]
    assert (await cache.member("window")).active
    await MembersStore(engine).revoke_member("window")  # `govgate members revoke`
    clock.now += 0.5
    assert (await cache.known_key(key_id(key))).inactive is None  # type: ignore[union-attr]
    assert (await cache.member("window")).active
    clock.now += 0.6
    assert (await cache.known_key(key_id(key))).inactive == "member revoked"  # type: ignore[union-attr]
    assert not (await cache.member("window")).active


async def test_unknown_keys_are_not_remembered(engine: AsyncEngine) -> None:
    key = generate_private_key()
    cache = MemberCache(MembersStore(engine), ttl_s=60, clock=Clock())
    assert await cache.known_key(key_id(key)) is None
    await MembersStore(engine).add_member("window", ["consumer"], keys=[key.public_key()])
    assert await cache.known_key(key_id(key)) is not None  # registered elsewhere: known at once


async def test_ttl_zero_always_asks_the_store(engine: AsyncEngine) -> None:
    key = generate_private_key()
    await MembersStore(engine).add_member("window", ["consumer"], keys=[key.public_key()])
    cache = MemberCache(MembersStore(engine), ttl_s=0)
    assert (await cache.known_key(key_id(key))).inactive is None  # type: ignore[union-attr]
    await MembersStore(engine).revoke_key(key_id(key))
    assert (await cache.known_key(key_id(key))).inactive == "revoked"  # type: ignore[union-attr]


async def test_requests_that_miss_together_share_one_query(engine: AsyncEngine) -> None:
    key = generate_private_key()
    store = MembersStore(engine)
    await store.add_member("window", ["consumer"], keys=[key.public_key()])
    asked = 0
    known_key = store.known_key

    async def counting(keyid: str) -> object:
        nonlocal asked
        asked += 1
        return await known_key(keyid)

    store.known_key = counting  # type: ignore[method-assign,assignment]
    cache = MemberCache(store, ttl_s=60, clock=Clock())
    found = await asyncio.gather(*(cache.known_key(key_id(key)) for _ in range(20)))
    assert asked == 1 and all(k is not None and k.keyid == key_id(key) for k in found)
