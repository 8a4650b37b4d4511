"""Claims (认领) of 双告知 notices: the first claim wins, and goes on the log.

A claim is held in `notice_claims` (the gateway's database) before its notice's CLAIMED version
is appended to `notices`, so two claims at once cannot both go on the log: the second is
refused with who claimed it and when. If the append fails, the hold is released and the claim
can be made again. The lookup store then shows the claimed version like any other.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Column, String, Table, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.log import EventLog
from gateway.notices.errors import NoticeNotClaimable
from gateway.notices.notices import STREAM, claimed
from gateway.notices.rules import Department
from gateway.store.errors import store_unavailable
from gateway.store.tables import metadata
from schemas.codec import EventCodec

notice_claims = Table(
    "notice_claims",
    metadata,
    Column("notice_id", String(64), primary_key=True),
    Column("member_id", String(64), nullable=False),
    Column("department_code", String(64), nullable=False),
    Column("claimed_ms", BigInteger, nullable=False),
)


class Claims:
    """Claims notices for members: one claim per notice, put on the log."""

    def __init__(self, engine: AsyncEngine, log: EventLog, codec: EventCodec) -> None:
        self.engine = engine
        self.log = log
        self.codec = codec

    async def claim(
        self,
        notice: dict[str, Any],
        *,
        member_id: str,
        department: Department | None,
        note: str | None,
        now: dt.datetime,
    ) -> dict[str, Any]:
        """The claimed version of `notice` (Avro shapes), on the log; `department` when a
        department takes the notice out of the pool. `NoticeNotClaimable` if claimed before."""
        nid = str(notice["notice_id"])
        if notice.get("status") == "CLAIMED":
            raise NoticeNotClaimable(_by(notice.get("claimed_by"), notice.get("claimed_at")))
        code = department.code if department is not None else str(notice["department_code"])
        row = {
            "notice_id": nid,
            "member_id": member_id,
            "department_code": code,
            "claimed_ms": int(now.timestamp() * 1000),
        }
        try:
            async with store_unavailable(), self.engine.begin() as conn:
                await conn.execute(notice_claims.insert().values(row))
        except IntegrityError:
            raise NoticeNotClaimable(await self._holder(nid)) from None
        pair = (department.code, department.name) if department is not None else None
        record = claimed(notice, member_id, now, note, pair)
        try:
            await self.log.append(STREAM, [self.codec.encode("Notice", record)])
        except BaseException:
            async with store_unavailable(), self.engine.begin() as conn:
                await conn.execute(delete(notice_claims).where(notice_claims.c.notice_id == nid))
            raise
        return record

    async def _holder(self, notice_id: str) -> str:
        query = select(notice_claims).where(notice_claims.c.notice_id == notice_id)
        async with store_unavailable(), self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:  # released since: the other claim failed to reach the log
            return "a claim was being made at the same time; try again"
        at = dt.datetime.fromtimestamp(row.claimed_ms / 1000, dt.UTC)
        return _by(row.member_id, at)


def _by(member: object, at: object) -> str:
    when = at.isoformat() if isinstance(at, dt.datetime) else str(at)
    return f"claimed by {member} at {when}"
