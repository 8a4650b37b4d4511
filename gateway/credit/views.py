"""What the console's credit page (信用核查) shows: the lists as they stand, and the checks made.

- the joint-punishment lists (失信联合惩戒名单) in the lookup store, per list: entries in force,
  not yet in force, expired, and removed (信用修复), on a given day (`entry_status`'s rules);
- the credit checks windows made (`GET /v1/credit/{subject_id}`), from the audit log, newest
  first: when, which member, for which item, allowed or refused. The subject is the audit
  log's pseudonym (HMAC of the id, `gateway.audit.pseudonyms`), shortened; its id is never
  stored in clear, so it cannot be shown.

Checks are keyset pages on the audit sequence number.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement, Label

from gateway.audit.tables import audit_rows
from gateway.lookup.tables import lk_credit_entries
from gateway.store.errors import store_unavailable
from schemas.errors import InvalidInput

CREDIT_ROUTE = "/v1/credit/{subject_id}"
MAX_PAGE = 200
_MEMBER = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class CreditViewError(InvalidInput):
    """A page parameter that is not well formed; the message names the field and value."""


@dataclass(frozen=True, slots=True)
class ListStanding:
    """One list's entries on a day, by status."""

    list_code: str
    active: int
    not_yet: int
    expired: int
    removed: int

    @property
    def total(self) -> int:
        return self.active + self.not_yet + self.expired + self.removed


@dataclass(frozen=True, slots=True)
class CheckLine:
    """One credit check made through the gateway, as the audit log holds it."""

    seq: int
    at: dt.datetime
    member_id: str | None
    purpose: str | None  # the item (事项编码) it was made for
    decision: str  # allow / deny
    status: int
    code: str | None  # the refusal code
    subject: str | None  # the pseudonym's first 12 hex digits


@dataclass(frozen=True, slots=True)
class CheckPage:
    items: list[CheckLine]
    next_after: str | None


def check_member(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if not _MEMBER.match(value.strip()):
        raise CreditViewError("member", value, "expected a member id")
    return value.strip()


class CreditViews:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def lists(self, today: dt.date) -> list[ListStanding]:
        """Every list's entries on `today`, by status, by list code."""
        e = lk_credit_entries.c
        removed = and_(e.removed_on.is_not(None), e.removed_on <= today)
        expired = and_(~removed, e.valid_until.is_not(None), e.valid_until < today)
        not_yet = and_(~removed, or_(e.valid_until.is_(None), e.valid_until >= today))
        not_yet = and_(not_yet, e.valid_from > today)

        def count(condition: ColumnElement[bool], name: str) -> Label[Any]:
            return func.sum(case((condition, 1), else_=0)).label(name)

        query = (
            select(
                e.list_code,
                func.count().label("total"),
                count(removed, "removed"),
                count(expired, "expired"),
                count(not_yet, "not_yet"),
            )
            .group_by(e.list_code)
            .order_by(e.list_code)
        )
        async with store_unavailable(), self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        out = []
        for r in rows:
            gone, late, early = int(r.removed or 0), int(r.expired or 0), int(r.not_yet or 0)
            out.append(
                ListStanding(r.list_code, int(r.total) - gone - late - early, early, late, gone)
            )
        return out

    async def checks(
        self, member: str | None = None, after: str | None = None, limit: int = 50
    ) -> CheckPage:
        """Credit checks made, newest first; of one member if named."""
        if not 1 <= limit <= MAX_PAGE:
            raise CreditViewError("limit", limit, f"expected 1 to {MAX_PAGE}")
        a = audit_rows.c
        query = select(
            a.seq, a.at_ms, a.member_id, a.purpose, a.decision, a.status, a.code, a.holder
        ).where(a.route == CREDIT_ROUTE)
        if member is not None:
            query = query.where(a.member_id == member)
        if after:
            if not after.isdigit() or len(after) > 18:
                raise CreditViewError("after", after, "expected the cursor of the previous page")
            query = query.where(a.seq < int(after))
        query = query.order_by(a.seq.desc()).limit(limit + 1)
        async with store_unavailable(), self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        items = [
            CheckLine(
                int(r.seq),
                dt.datetime.fromtimestamp(r.at_ms / 1000, dt.UTC),
                r.member_id,
                r.purpose,
                r.decision,
                int(r.status),
                r.code,
                None if r.holder is None else r.holder[:12],
            )
            for r in rows[:limit]
        ]
        more = len(rows) > limit
        return CheckPage(items, str(items[-1].seq) if more and items else None)
