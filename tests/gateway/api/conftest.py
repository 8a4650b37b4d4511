"""A gateway app on SQLite in tmp_path, a member per role, and a client that signs as any.

`profile` says which algorithms the gateway and its members use: Ed25519 members by default;
a module that overrides the fixture with parameters (`PROFILES`) runs its tests for P-256 and
SM2 members, and on an SM-only (国密) gateway, alike.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from gateway.api.app import create_app
from gateway.api.services import Services
from gateway.audit.chain import GENESIS
from gateway.lookup import replay
from gateway.members.keys import Algorithm, PrivateKey, generate_private_key, key_id
from gateway.members.store import Grant
from gateway.publishing import PublishScope
from gateway.settings import DatabaseSettings, GatewaySettings, Settings
from gateway.signatures import encode_url, sign_request
from gateway.signatures.digests import DigestAlgorithm
from gateway.store.engine import make_engine, migrate
from gateway.store.tables import metadata
from schemas.codec import EventCodec

STREAM_OF = {"Certificate": "certificates", "Material": "materials", "CaseEvent": "case-events"}
PURPOSE = "11330802002493025K3330111703000"  # 事项编码 of the samples' case events
# What the samples' departments publish (tests.samples): a publisher of the fixtures is
# registered for these unless a test says otherwise.
# Gov-Case sent by default: a case the gateway has not seen (so it binds nothing), which
# 有条件共享 lookups need; tests of purpose binding send their own, or None.
DEFAULT_CASE = "SL-UNSEEN-0001"
SAMPLE_SCOPES = (
    PublishScope("certificates", "*", "scjg-djxt"),
    PublishScope("materials", "*", "fgw-tzxm"),
    PublishScope("case-events", "*", "fgw-tzxm"),
)
codec = EventCodec()


@dataclass(frozen=True)
class Profile:
    """The algorithms of a test gateway: its members' keys and body digests, and settings."""

    name: str
    member_alg: Algorithm = "ed25519"
    digest: DigestAlgorithm = "sha-256"
    gateway: dict[str, Any] = field(default_factory=dict)  # GatewaySettings overrides

    def __str__(self) -> str:
        return self.name


SM_ONLY = {"algorithms": ("sm2-sm3", "sm3")}
PROFILES = [
    Profile("ed25519"),
    Profile("p256", "ecdsa-p256-sha256"),
    Profile("sm2", "sm2-sm3", "sm3"),  # SM2 members of a gateway that takes every algorithm
    Profile("sm-only", "sm2-sm3", "sm3", SM_ONLY),  # … and of an SM-only one, its key SM2
]


@pytest.fixture
def profile() -> Profile:
    """Ed25519 members; modules override this with `params=PROFILES` to run every profile."""
    return PROFILES[0]


@dataclass
class Signer:
    member_id: str
    key: PrivateKey
    claimed_keyid: str | None = None  # sign under another key's id (a forgery)

    @property
    def keyid(self) -> str:
        return self.claimed_keyid or key_id(self.key)


@dataclass
class Gateway:
    app: FastAPI
    client: httpx.AsyncClient
    members: dict[str, Signer] = field(default_factory=dict)
    profile: Profile = PROFILES[0]

    @property
    def services(self) -> Services:
        found = self.app.state.services
        assert isinstance(found, Services)
        return found

    async def add_member(
        self,
        member_id: str,
        *roles: str,
        grants: tuple[Grant, ...] = (),
        alg: Algorithm | None = None,
        publishes: tuple[PublishScope, ...] | None = None,
    ) -> Signer:
        """A member with a fresh key of `alg` (the profile's by default); a publisher
        registered for `publishes` (the samples' scopes by default)."""
        key = generate_private_key(alg or self.profile.member_alg)
        await self.services.members.add_member(
            member_id, roles, keys=[key.public_key()], grants=grants
        )
        if "publisher" in roles:
            scopes = SAMPLE_SCOPES if publishes is None else publishes
            await self.services.publishing.register(member_id, scopes)
        self.members[member_id] = signer = Signer(member_id, key)
        return signer

    async def publish(self, name: str, *records: dict[str, Any]) -> None:
        """Append records to their stream and bring the lookup store up to date."""
        svc = self.services
        await svc.log.append(STREAM_OF[name], [codec.encode(name, r) for r in records])
        await replay(svc.log, svc.engine, streams=[STREAM_OF[name]])

    def signed(
        self,
        method: str,
        path: str,
        signer: Signer | None,
        *,
        purpose: str | None = PURPOSE,
        case: str | None = DEFAULT_CASE,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        created: int | None = None,
        digest: DigestAlgorithm | None = None,
        base: str = "http://gateway",
    ) -> httpx.Request:
        """The request signed for the gateway at `base` (its host and port are `@authority`:
        the in-process client's is `gateway`, a real server's `127.0.0.1:PORT`)."""
        sent = dict(headers or {})
        if purpose is not None:
            sent["Gov-Purpose"] = purpose
        if case is not None:
            sent["Gov-Case"] = case
        if body:
            sent["Content-Type"] = "application/json"
        if signer is not None:
            sent = sign_request(
                method,
                f"{base}{path}",
                sent,
                body,
                keyid=signer.keyid,
                private_key=signer.key,
                created=created,
                digest=digest or self.profile.digest,
            )
        return self.client.build_request(method, encode_url(path), headers=sent, content=body)

    async def call(
        self, method: str, path: str, member: str | None = "window", **kw: Any
    ) -> httpx.Response:
        signer = self.members[member] if member else None
        return await self.client.send(self.signed(method, path, signer, **kw))

    async def post_json(self, path: str, record: Any, member: str = "dept") -> httpx.Response:
        body = json.dumps(record, ensure_ascii=False, default=str).encode("utf-8")
        return await self.call("POST", path, member, purpose=None, body=body)


def gateway_settings(data_dir: Path, url: str | None = None, **gateway: Any) -> Settings:
    return Settings(
        data_dir=data_dir,
        database=DatabaseSettings(url=url),
        gateway=GatewaySettings(
            audit_secret="test-audit-secret-0123456789", **({"materialize": False} | gateway)
        ),
    )


async def reset_postgres(url: str) -> None:
    """Empty every gateway table of the session's shared PostgreSQL database."""
    engine = make_engine(url)
    try:
        await migrate(engine)
        names = ", ".join(t.name for t in metadata.sorted_tables if t.name != "audit_head")
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {names} CASCADE"))
            await conn.execute(
                text("UPDATE audit_head SET seq = 0, hash = :g, hash_alg = NULL"), {"g": GENESIS}
            )
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def gw(
    request: pytest.FixtureRequest, data_dir: Path, profile: Profile
) -> AsyncIterator[Gateway]:
    url = None
    if request.param == "postgres":
        url = str(request.getfixturevalue("pg_url"))
        await reset_postgres(url)
    app = create_app(gateway_settings(data_dir, url, **profile.gateway))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield Gateway(app, client, profile=profile)
