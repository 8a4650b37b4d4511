"""Members, their keys and grants, and used nonces, in the gateway's database.

`MembersStore` is what `govgate members …` edits and what request verification asks "which
key is this, and may it sign now?" (`known_key`, the `gateway.signatures` key lookup).
Used nonces are `gateway.members.nonces`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeAlias, get_args

from sqlalchemy import Row, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.members.errors import (
    InvalidGrant,
    InvalidMemberId,
    InvalidName,
    KeyExists,
    MemberExists,
    MemberRevoked,
    RoleRequired,
    UnknownKey,
    UnknownMember,
    UnknownRole,
)
from gateway.members.keys import (
    Algorithm,
    PublicKey,
    algorithm_of,
    check_algorithm,
    key_id,
    load_public_key,
    public_key_pem,
)
from gateway.members.tables import grants, member_keys, members
from gateway.signatures import KnownKey
from gateway.store.engine import upsert_insert
from gateway.store.errors import store_unavailable

Role: TypeAlias = Literal["publisher", "consumer", "subscriber", "auditor", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
# certificate: a 证照类型; material: a 材料目录; credit: a joint-punishment list (名单代码, e.g.
# SXBZXR) a window may check subjects against; notice: the 双告知 notices of one department
# (its code, e.g. 330802-JTYS), which it receives and claims; case: the case events (办件事件)
# of one item (事项编码), on `GET /v1/cases/{case_no}`, the feed and webhooks (`*`: every item,
# for an e-supervision service, 电子监察, which follows them all).
GrantKind: TypeAlias = Literal["certificate", "material", "credit", "notice", "case"]
GRANT_KINDS: tuple[GrantKind, ...] = get_args(GrantKind)
ANY_PURPOSE = "*"
ANY_CODE = "*"  # only in a `case` grant: every item's case events
# In a grant's field list: every field of a 有条件共享 record, chosen on purpose by an operator
# (`--all-fields`), except personal id numbers (居民身份证号码), which are shown only when named.
ALL_FIELDS = "*"

_MEMBER_ID = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
_CODE = re.compile(r"[A-Za-z0-9._-]{1,64}")  # 证照类型 / 材料目录 codes and 事项编码
# a canonical field (holder.id_number) or a surface-field label as printed (法定代表人)
_FIELD = re.compile(r"[^\s:,]{1,64}")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_MAX_NAME = 200


def _ms(when: datetime) -> int:
    return (when - _EPOCH) // _MS  # exact: no float rounding on the way to the database


def _at(ms: int) -> datetime:
    return _EPOCH + ms * _MS


def _dt(ms: int | None) -> datetime | None:
    return None if ms is None else _at(ms)


def check_member_id(member_id: str) -> str:
    if not _MEMBER_ID.fullmatch(member_id):
        raise InvalidMemberId(
            f"{member_id!r}: use 1-64 lowercase letters, digits and inner hyphens"
        )
    return member_id


def check_department(code: str) -> str:
    if not _CODE.fullmatch(code):
        raise InvalidMemberId(f"department {code!r}: 1-64 letters, digits, '.', '_', '-'")
    return code


def check_roles(roles: Iterable[str]) -> tuple[Role, ...]:
    """The roles, sorted and without repeats; `UnknownRole` / `RoleRequired` otherwise."""
    checked: set[Role] = set()
    for role in roles:
        known = next((r for r in ROLES if r == role), None)
        if known is None:
            raise UnknownRole(f"{role!r}; roles are {', '.join(ROLES)}")
        checked.add(known)
    if not checked:
        raise RoleRequired("a member needs at least one role")
    return tuple(sorted(checked))


@dataclass(frozen=True)
class Member:
    member_id: str
    name: str
    roles: tuple[Role, ...]
    created: datetime
    revoked: datetime | None = None
    department: str | None = None  # 部门编码; the data bureau's is `governance.bureau_code`

    @property
    def active(self) -> bool:
        return self.revoked is None


@dataclass(frozen=True)
class MemberKey:
    keyid: str
    member_id: str
    alg: Algorithm
    public_pem: str
    created: datetime
    not_before: datetime
    not_after: datetime | None = None
    revoked: datetime | None = None

    def inactive_reason(self, when: datetime) -> str | None:
        """Why the key may not sign at `when`, or None when it may."""
        if self.revoked is not None and self.revoked <= when:
            return "revoked"
        if self.not_before > when:
            return "not yet valid"
        if self.not_after is not None and self.not_after <= when:
            return "expired"
        return None

    def public_key(self) -> PublicKey:
        return load_public_key(self.public_pem.encode("ascii"))


@dataclass(frozen=True)
class Grant:
    """Permission to see one certificate type or material catalog for a purpose (事项编码).

    `fields` are what a 有条件共享 record shows besides what is unconditional, and which
    personal id numbers are shown: deny by default, so None (or empty) unmasks nothing;
    `ALL_FIELDS` (`*`) unmasks every field but personal id numbers, which only their own name
    (`holder.id_number`, `applicant.id_number`, `subject.id_number`) unmasks.
    """

    kind: GrantKind
    code: str
    purpose: str = ANY_PURPOSE
    fields: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.kind not in GRANT_KINDS:
            raise InvalidGrant(f"kind {self.kind!r}; use {' or '.join(GRANT_KINDS)}")
        if not (_CODE.fullmatch(self.code) or (self.kind == "case" and self.code == ANY_CODE)):
            raise InvalidGrant(f"code {self.code!r}: 1-64 letters, digits, '.', '_', '-'")
        if self.purpose != ANY_PURPOSE and not _CODE.fullmatch(self.purpose):
            raise InvalidGrant(f"purpose {self.purpose!r}: an item code (事项编码) or '*'")
        for name in self.fields or ():
            if not _FIELD.fullmatch(name):
                raise InvalidGrant(f"field {name!r} is not a field name")

    @classmethod
    def parse(cls, text: str) -> Grant:
        """`KIND:CODE:PURPOSE[:FIELD,FIELD…]`, e.g. `certificate:BL001:*:法定代表人,名称`
        (the CLI form); the field `*` is `ALL_FIELDS`."""
        parts = text.split(":")
        if len(parts) not in (3, 4):
            raise InvalidGrant(f"{text!r}: expected KIND:CODE:PURPOSE[:FIELD,FIELD…]")
        kind = next((k for k in GRANT_KINDS if k == parts[0]), None)
        if kind is None:
            raise InvalidGrant(f"kind {parts[0]!r}; use {' or '.join(GRANT_KINDS)}")
        fields = tuple(f for f in parts[3].split(",") if f) if len(parts) == 4 else None
        return cls(kind, parts[1], parts[2] or ANY_PURPOSE, fields)

    def covers(self, kind: str, code: str, purpose: str) -> bool:
        return self.kind == kind and self.code == code and self.purpose in (ANY_PURPOSE, purpose)

    def __str__(self) -> str:
        text = f"{self.kind}:{self.code}:{self.purpose}"
        return text if self.fields is None else f"{text}:{','.join(self.fields)}"


def _member(row: Row[Any], prefix: str = "") -> Member:
    mapping = row._mapping
    return Member(
        member_id=mapping[f"{prefix}member_id"],
        name=mapping[f"{prefix}display_name"],
        roles=check_roles(mapping[f"{prefix}roles"].split(",")),
        created=_at(mapping[f"{prefix}created_ms"]),
        revoked=_dt(mapping[f"{prefix}revoked_ms"]),
        department=mapping[f"{prefix}department_code"],
    )


def _key(row: Row[Any]) -> MemberKey:
    return MemberKey(
        keyid=row.keyid,
        member_id=row.member_id,
        alg=check_algorithm(row.alg),
        public_pem=row.public_pem,
        created=_at(row.created_ms),
        not_before=_at(row.not_before_ms),
        not_after=_dt(row.not_after_ms),
        revoked=_dt(row.revoked_ms),
    )


def _grant(row: Row[Any]) -> Grant:
    fields = None if row.fields is None else tuple(json.loads(row.fields))
    return Grant(row.kind, row.code, row.purpose, fields)


class MembersStore:
    """Members, keys and grants on the gateway's engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock
        self._insert = upsert_insert(engine)
        self.generation = 0  # bumped by every change made through this store (for caches)

    def _now(self) -> datetime:
        return _at(int(self.clock() * 1000))  # what the database will hold

    @asynccontextmanager
    async def _change(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that changes members, keys or grants: caches see a new generation."""
        try:
            async with store_unavailable(), self.engine.begin() as conn:
                yield conn
        finally:
            self.generation += 1

    async def add_member(
        self,
        member_id: str,
        roles: Iterable[str],
        *,
        name: str | None = None,
        keys: Sequence[PublicKey] = (),
        grants: Sequence[Grant] = (),
        department: str | None = None,
    ) -> Member:
        """Register a member with its first keys and grants, in one transaction."""
        name = name or member_id
        if len(name) > _MAX_NAME or not name.isprintable():
            raise InvalidName(f"display name: at most {_MAX_NAME} printable characters")
        member = Member(
            check_member_id(member_id),
            name,
            check_roles(roles),
            self._now(),
            department=None if department is None else check_department(department),
        )
        try:
            async with self._change() as conn:
                if await self._member_row(conn, member_id) is not None:
                    raise MemberExists(member_id)
                await conn.execute(
                    members.insert().values(
                        member_id=member.member_id,
                        display_name=member.name,
                        roles=",".join(member.roles),
                        created_ms=_ms(member.created),
                        department_code=member.department,
                    )
                )
                for key in keys:
                    await self._insert_key(conn, member_id, key, member.created, None)
                for grant in grants:
                    await self._upsert_grant(conn, member_id, grant)
        except IntegrityError as exc:  # lost a race with another writer
            raise MemberExists(f"{member_id} (added concurrently)") from exc
        return member

    async def add_key(
        self,
        member_id: str,
        public_key: PublicKey,
        *,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> MemberKey:
        """Add a key to an active member; earlier keys stay valid until revoked (roll-over)."""
        try:
            async with self._change() as conn:
                member = await self._active_member(conn, member_id)
                return await self._insert_key(
                    conn, member.member_id, public_key, not_before or self._now(), not_after
                )
        except IntegrityError as exc:
            raise KeyExists(f"{key_id(public_key)} (added concurrently)") from exc

    async def _insert_key(
        self,
        conn: AsyncConnection,
        member_id: str,
        public_key: PublicKey,
        not_before: datetime,
        not_after: datetime | None,
    ) -> MemberKey:
        keyid = key_id(public_key)
        owner = await conn.scalar(
            select(member_keys.c.member_id).where(member_keys.c.keyid == keyid)
        )
        if owner is not None:
            raise KeyExists(f"{keyid} is already registered to {owner}")
        key = MemberKey(
            keyid=keyid,
            member_id=member_id,
            alg=algorithm_of(public_key),
            public_pem=public_key_pem(public_key).decode("ascii"),
            created=self._now(),
            not_before=not_before,
            not_after=not_after,
        )
        await conn.execute(
            member_keys.insert().values(
                keyid=key.keyid,
                member_id=member_id,
                alg=key.alg,
                public_pem=key.public_pem,
                created_ms=_ms(key.created),
                not_before_ms=_ms(not_before),
                not_after_ms=None if not_after is None else _ms(not_after),
            )
        )
        return key

    async def revoke_key(self, keyid: str, *, at: datetime | None = None) -> MemberKey:
        """Revoke a key now, or at `at` (to end a roll-over later). Revoking twice keeps the
        earlier time."""
        when = _ms(at or self._now())
        async with self._change() as conn:
            await conn.execute(
                update(member_keys)
                .where(member_keys.c.keyid == keyid, member_keys.c.revoked_ms.is_(None))
                .values(revoked_ms=when)
            )
            row = (
                await conn.execute(select(member_keys).where(member_keys.c.keyid == keyid))
            ).first()
        if row is None:
            raise UnknownKey(keyid)
        return _key(row)

    async def revoke_member(self, member_id: str) -> Member:
        """Revoke a member and every key it still has; its grants stay, for the record."""
        when = _ms(self._now())
        async with self._change() as conn:
            if await self._member_row(conn, member_id) is None:
                raise UnknownMember(member_id)
            await conn.execute(
                update(members)
                .where(members.c.member_id == member_id, members.c.revoked_ms.is_(None))
                .values(revoked_ms=when)
            )
            await conn.execute(
                update(member_keys)
                .where(member_keys.c.member_id == member_id, member_keys.c.revoked_ms.is_(None))
                .values(revoked_ms=when)
            )
            row = await self._member_row(conn, member_id)
        assert row is not None
        return _member(row)

    async def set_department(self, member_id: str, department: str | None) -> Member:
        """Put a member in a department (or in none): what it may publish and decide follows."""
        code = None if department is None else check_department(department)
        async with self._change() as conn:
            await self._active_member(conn, member_id)
            await conn.execute(
                update(members).where(members.c.member_id == member_id).values(department_code=code)
            )
            row = await self._member_row(conn, member_id)
        assert row is not None
        return _member(row)

    async def add_grant(self, member_id: str, grant: Grant) -> None:
        """Grant (or re-grant with other fields) a certificate type or catalog for a purpose."""
        async with self._change() as conn:
            await self._active_member(conn, member_id)
            await self._upsert_grant(conn, member_id, grant)

    async def _upsert_grant(self, conn: AsyncConnection, member_id: str, grant: Grant) -> None:
        fields = None if grant.fields is None else json.dumps(list(grant.fields))
        statement = self._insert(grants).values(
            member_id=member_id,
            kind=grant.kind,
            code=grant.code,
            purpose=grant.purpose,
            fields=fields,
            created_ms=_ms(self._now()),
            status="ACTIVE",
        )
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=["member_id", "kind", "code", "purpose"],
                set_={
                    "fields": statement.excluded.fields,
                    "status": "ACTIVE",
                    "expires_ms": None,
                    "application_id": None,
                },
            )
        )

    async def get_member(self, member_id: str) -> Member:
        async with store_unavailable(), self.engine.connect() as conn:
            row = await self._member_row(conn, member_id)
        if row is None:
            raise UnknownMember(member_id)
        return _member(row)

    async def list_members(self, *, include_revoked: bool = True) -> list[Member]:
        query = select(members).order_by(members.c.member_id)
        if not include_revoked:
            query = query.where(members.c.revoked_ms.is_(None))
        async with store_unavailable(), self.engine.connect() as conn:
            return [_member(row) for row in await conn.execute(query)]

    async def keys_of(self, member_id: str) -> list[MemberKey]:
        query = (
            select(member_keys)
            .where(member_keys.c.member_id == member_id)
            .order_by(member_keys.c.created_ms, member_keys.c.keyid)
        )
        async with store_unavailable(), self.engine.connect() as conn:
            return [_key(row) for row in await conn.execute(query)]

    async def grants_for(self, member_id: str) -> list[Grant]:
        """The grants in force now: ACTIVE and not past their expiry (gateway.governance)."""
        now = _ms(self._now())
        query = (
            select(grants)
            .where(
                grants.c.member_id == member_id,
                grants.c.status == "ACTIVE",
                or_(grants.c.expires_ms.is_(None), grants.c.expires_ms > now),
            )
            .order_by(grants.c.kind, grants.c.code, grants.c.purpose)
        )
        async with store_unavailable(), self.engine.connect() as conn:
            return [_grant(row) for row in await conn.execute(query)]

    async def _key_and_member(self, keyid: str) -> tuple[Member, MemberKey] | None:
        member_columns = [column.label(f"m_{column.name}") for column in members.c]
        query = (
            select(member_keys, *member_columns)
            .join(members, members.c.member_id == member_keys.c.member_id)
            .where(member_keys.c.keyid == keyid)
        )
        async with store_unavailable(), self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else (_member(row, "m_"), _key(row))

    async def get_key(self, keyid: str) -> tuple[Member, MemberKey] | None:
        """The key and its member, only if both are active now."""
        found = await self._key_and_member(keyid)
        if found is None:
            return None
        member, key = found
        if not member.active or key.inactive_reason(self._now()) is not None:
            return None
        return found

    async def known_key(self, keyid: str) -> KnownKey | None:
        """The request-verification view of a key (a `gateway.signatures.KeyLookup`)."""
        found = await self._key_and_member(keyid)
        if found is None:
            return None
        member, key = found
        inactive = "member revoked" if not member.active else key.inactive_reason(self._now())
        return KnownKey(key.keyid, key.alg, key.public_key(), member.member_id, inactive)

    async def _member_row(self, conn: AsyncConnection, member_id: str) -> Row[Any] | None:
        query = select(members).where(members.c.member_id == member_id)
        return (await conn.execute(query)).first()

    async def _active_member(self, conn: AsyncConnection, member_id: str) -> Member:
        row = await self._member_row(conn, member_id)
        if row is None:
            raise UnknownMember(member_id)
        member = _member(row)
        if not member.active:
            raise MemberRevoked(member_id)
        return member
