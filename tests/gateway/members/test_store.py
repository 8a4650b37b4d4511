"""The members store and the nonce store on real SQLite and PostgreSQL databases.

"Two workers" are two engines on one database, as two gateway processes would have.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.members.errors import MembersError
from gateway.members.keys import generate_private_key, key_id
from gateway.members.nonces import NonceStore
from gateway.members.store import Grant, MembersStore
from gateway.signatures import sign_request, verify_request
from gateway.signatures.errors import SignatureError
from gateway.store import make_engine, migrate
from gateway.store.errors import StoreUnavailable
from tests.conftest import free_port

URL = "https://gw.example.gov.cn/v1/certificates?holder_id=%E5%BC%A0%E4%B8%89&type_code=BL001"


@dataclass
class Database:
    """One database, and an engine for each of two simulated gateway workers."""

    url: str
    worker_a: AsyncEngine
    worker_b: AsyncEngine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{data_dir / 'govgate.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    worker_a, worker_b = make_engine(url), make_engine(url)
    try:
        await migrate(worker_a)
        if request.param == "postgres":  # one database per session: start each test empty
            async with worker_a.begin() as conn:
                await conn.execute(
                    text("TRUNCATE used_nonces, grants, member_keys, publish_scopes, members")
                )
        yield Database(url, worker_a, worker_b)
    finally:
        await worker_a.dispose()
        await worker_b.dispose()


@pytest.fixture
def store(database: Database) -> MembersStore:
    return MembersStore(database.worker_a)


async def refused(awaitable: object) -> str:
    try:
        await awaitable  # type: ignore[misc]
    except (MembersError, SignatureError) as exc:
        return exc.code
    return "accepted"


async def test_members_are_added_listed_and_revoked(store: MembersStore) -> None:
    key = generate_private_key().public_key()
    grants = [Grant.parse("certificate:BL001:*"), Grant.parse("material:MC001:330100-XK-01:name")]
    added = await store.add_member(
        "kecheng-window",
        ["consumer", "auditor", "consumer"],
        name="柯城区窗口",
        keys=[key],
        grants=grants,
    )
    assert added.roles == ("auditor", "consumer") and added.name == "柯城区窗口"
    await store.add_member("e-supervision", ["subscriber"])
    assert [m.member_id for m in await store.list_members()] == ["e-supervision", "kecheng-window"]
    assert await store.grants_for("kecheng-window") == [
        Grant("certificate", "BL001", "*"),
        Grant("material", "MC001", "330100-XK-01", ("name",)),
    ]
    assert [k.keyid for k in await store.keys_of("kecheng-window")] == [key_id(key)]

    revoked = await store.revoke_member("kecheng-window")
    assert revoked.revoked is not None and not revoked.active
    assert await store.get_key(key_id(key)) is None
    known = await store.known_key(key_id(key))
    assert known is not None and known.inactive == "member revoked"
    assert [m.member_id for m in await store.list_members(include_revoked=False)] == [
        "e-supervision"
    ]


async def test_member_refusals_have_stable_codes(store: MembersStore) -> None:
    key = generate_private_key().public_key()
    await store.add_member("kecheng-window", ["consumer"], keys=[key])
    assert await refused(store.add_member("kecheng-window", ["consumer"])) == "MEMBER_EXISTS"
    assert await refused(store.add_member("Kecheng Window", ["consumer"])) == "INVALID_MEMBER_ID"
    assert await refused(store.add_member("x-window", ["reader"])) == "UNKNOWN_ROLE"
    assert await refused(store.add_member("x-window", [])) == "ROLE_REQUIRED"
    assert await refused(store.add_member("x-window", ["consumer"], name="窗" * 201)) == (
        "INVALID_NAME"
    )
    assert await refused(store.add_member("x-window", ["consumer"], keys=[key])) == "KEY_EXISTS"
    assert await refused(store.add_key("kecheng-window", key)) == "KEY_EXISTS"
    assert await refused(store.add_key("nobody", generate_private_key().public_key())) == (
        "UNKNOWN_MEMBER"
    )
    assert await refused(store.revoke_member("nobody")) == "UNKNOWN_MEMBER"
    assert await refused(store.revoke_key("no-such-key")) == "UNKNOWN_KEY"
    assert await refused(store.get_member("nobody")) == "UNKNOWN_MEMBER"
    assert await refused(store.add_grant("nobody", Grant("certificate", "BL001"))) == (
        "UNKNOWN_MEMBER"
    )
    await store.revoke_member("kecheng-window")
    assert await refused(store.add_key("kecheng-window", generate_private_key().public_key())) == (
        "MEMBER_REVOKED"
    )
    # a refused add leaves nothing behind (one transaction)
    assert [m.member_id for m in await store.list_members()] == ["kecheng-window"]


@pytest.mark.parametrize(
    ("text", "grant"),
    [
        ("certificate:BL001:*", Grant("certificate", "BL001", "*")),
        ("certificate:BL001:", Grant("certificate", "BL001", "*")),
        ("material:MC-7:330100-XK-01", Grant("material", "MC-7", "330100-XK-01")),
        ("material:MC-7:*:name,id_no", Grant("material", "MC-7", "*", ("name", "id_no"))),
    ],
)
def test_grants_parse(text: str, grant: Grant) -> None:
    assert Grant.parse(text) == grant
    assert Grant.parse(str(grant)) == grant


@pytest.mark.parametrize(
    "text",
    [
        "licence:BL001:*",
        "certificate:BL001",
        "certificate::*",
        "material:M C:*",
        "a:b:c:d:e",
        "material:MC:*:" + "x" * 65,
    ],
)
def test_bad_grants_are_refused(text: str) -> None:
    with pytest.raises(MembersError) as error:
        Grant.parse(text)
    assert error.value.code == "INVALID_GRANT"


def test_grant_covers_its_purpose_or_every_purpose() -> None:
    assert Grant("certificate", "BL001", "*").covers("certificate", "BL001", "330100-XK-01")
    assert Grant("certificate", "BL001", "330100-XK-01").covers(
        "certificate", "BL001", "330100-XK-01"
    )
    assert not Grant("certificate", "BL001", "330100-XK-01").covers(
        "certificate", "BL001", "330100-XK-02"
    )
    assert not Grant("certificate", "BL001", "*").covers("material", "BL001", "x")


async def test_grant_again_replaces_its_fields(store: MembersStore) -> None:
    await store.add_member("kecheng-window", ["consumer"], grants=[Grant("material", "MC001")])
    await store.add_grant("kecheng-window", Grant("material", "MC001", "*", ("name",)))
    assert await store.grants_for("kecheng-window") == [Grant("material", "MC001", "*", ("name",))]


async def test_key_rotation_two_keys_then_the_old_one_revoked(database: Database) -> None:
    clock = [float(int(time.time()))]
    store = MembersStore(database.worker_a, clock=lambda: clock[0])
    old, new = generate_private_key("ed25519"), generate_private_key("ecdsa-p256-sha256")
    await store.add_member("kecheng-window", ["consumer"], keys=[old.public_key()])
    added = await store.add_key("kecheng-window", new.public_key())
    assert added.alg == "ecdsa-p256-sha256"
    for key in (old, new):  # the roll-over: both sign
        found = await store.get_key(key_id(key))
        assert found is not None and found[0].member_id == "kecheng-window"
    # the operator schedules the end of the roll-over an hour ahead
    end = datetime.fromtimestamp(clock[0], tz=UTC) + timedelta(hours=1)
    await store.revoke_key(key_id(old), at=end)
    assert await store.get_key(key_id(old)) is not None
    clock[0] += 3601
    assert await store.get_key(key_id(old)) is None
    assert await store.get_key(key_id(new)) is not None
    known = await store.known_key(key_id(old))
    assert known is not None and (known.inactive, known.owner) == ("revoked", "kecheng-window")
    again = await store.revoke_key(key_id(old))  # revoking twice keeps the first time
    assert again.revoked == end
    assert await store.known_key("unknown") is None


async def test_key_validity_period(store: MembersStore) -> None:
    now = datetime.now(UTC)
    await store.add_member("kecheng-window", ["consumer"])
    later = await store.add_key(
        "kecheng-window", generate_private_key().public_key(), not_before=now + timedelta(days=1)
    )
    ended = await store.add_key(
        "kecheng-window",
        generate_private_key().public_key(),
        not_before=now - timedelta(days=2),
        not_after=now - timedelta(days=1),
    )
    for key, reason in ((later, "not yet valid"), (ended, "expired")):
        known = await store.known_key(key.keyid)
        assert known is not None and known.inactive == reason
        assert await store.get_key(key.keyid) is None


async def test_nonce_used_once_across_two_workers(database: Database) -> None:
    worker_a, worker_b = NonceStore(database.worker_a), NonceStore(database.worker_b)
    expires = time.time() + 330
    assert await worker_a.use("key-1", "nonce-1", expires)
    assert not await worker_b.use("key-1", "nonce-1", expires)
    assert not await worker_a.use("key-1", "nonce-1", expires)
    assert await worker_b.use("key-2", "nonce-1", expires)  # nonces are per key
    # at the same moment, on both workers: exactly one wins
    for i in range(5):
        results = await asyncio.gather(
            worker_a.use("key-1", f"race-{i}", expires), worker_b.use("key-1", f"race-{i}", expires)
        )
        assert sorted(results) == [False, True]


async def test_a_batch_of_nonces_is_one_transaction_and_a_repeat_within_it_loses(
    database: Database,
) -> None:
    nonces = NonceStore(database.worker_a)
    expires = time.time() + 330
    assert await nonces.use("key-1", "old", expires)
    statements: list[str] = []
    event.listen(database.worker_a.sync_engine, "before_cursor_execute", _record(statements))
    uses = [("key-1", f"n-{i}") for i in range(40)] + [("key-1", "n-7"), ("key-1", "old")]
    results = await asyncio.gather(*(nonces.use(k, n, expires) for k, n in uses))
    assert results == [True] * 40 + [False, False]
    assert sum("INSERT INTO used_nonces" in s for s in statements) <= 2  # batched, not 42
    await nonces.close()


def _record(statements: list[str]) -> Any:
    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    return before


async def test_expired_nonces_are_purged_and_may_be_taken_again(database: Database) -> None:
    clock = [time.time()]
    nonces = NonceStore(database.worker_a, purge_interval=60, clock=lambda: clock[0])
    assert await nonces.use("key-1", "n", clock[0] + 10)
    assert await nonces.use("key-1", "m", clock[0] + 1000)
    clock[0] += 11
    assert await nonces.use("key-1", "n", clock[0] + 10)  # its old row had expired
    clock[0] += 11
    assert await nonces.purge() == 1  # "n" again; "m" is still live
    assert not await nonces.use("key-1", "m", clock[0] + 1000)


async def test_signed_request_verified_by_the_store_and_replayed_to_another_worker(
    database: Database,
) -> None:
    """The whole path: a member's key in the store, a request accepted by worker A, the
    same request replayed to worker B refused; a revoked key refused."""
    key = generate_private_key()
    await MembersStore(database.worker_a).add_member(
        "kecheng-window", ["consumer"], keys=[key.public_key()]
    )
    headers = sign_request(
        "GET", URL, {"Gov-Purpose": "330100-XK-01"}, keyid=key_id(key), private_key=key
    )
    workers = [
        (MembersStore(engine), NonceStore(engine))
        for engine in (database.worker_a, database.worker_b)
    ]

    async def send(worker: int) -> str:
        members, nonces = workers[worker]
        try:
            verified = await verify_request(
                "GET", URL, headers, lookup=members.known_key, nonces=nonces.use
            )
        except SignatureError as exc:
            return exc.code
        return f"accepted as {verified.owner}"

    assert await send(0) == "accepted as kecheng-window"
    assert await send(1) == "NONCE_REPLAYED"
    await workers[1][0].revoke_key(key_id(key))
    headers = sign_request("GET", URL, {}, keyid=key_id(key), private_key=key)
    assert await send(0) == "KEY_REVOKED"


def test_grants_may_name_chinese_surface_fields() -> None:
    grant = Grant.parse("certificate:YYZZ:*:法定代表人,holder.id_number")
    assert grant.fields is not None and "法定代表人" in grant.fields


async def test_a_database_away_is_store_unavailable_not_the_log() -> None:
    """Members and nonces live in the store: its outage says so (503 STORE_UNAVAILABLE at the
    edge), distinct from the event log's LOG_UNAVAILABLE even where both share a database."""
    engine = make_engine(f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere")
    nonces = NonceStore(engine)
    try:
        with pytest.raises(StoreUnavailable) as members_away:
            await MembersStore(engine).get_member("kecheng-window")
        with pytest.raises(StoreUnavailable) as nonces_away:
            await nonces.use("keyid", "nonce", time.time() + 60)
    finally:
        await nonces.close()
        await engine.dispose()
    for away in (members_away.value, nonces_away.value):
        assert (away.code, away.retriable) == ("STORE_UNAVAILABLE", True)
