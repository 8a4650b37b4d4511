"""The data subject's access log: who looked at this person's or company's data, when, why.

Served to auditor members (e.g. a citizen portal acting for the holder); the look at the
access log is itself audited, under the same holder.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel

from gateway.api.auth import AuditorDep
from gateway.api.inputs import HolderDep, PageDep, decode_seq_cursor, encode_seq_cursor
from gateway.api.services import services
from gateway.audit.log import access_log

router = APIRouter(prefix="/v1", tags=["audit"])


class AccessOut(BaseModel):
    at: datetime
    member_id: str | None
    route: str | None
    purpose: str | None  # 事项编码
    case_no: str | None
    decision: str
    code: str | None
    status: int
    content_sha256: str | None = None  # the file given (a material's content), if any


class AccessPage(BaseModel):
    items: list[AccessOut]
    next_after: str | None


@router.get("/access-log")
async def get_access_log(
    request: Request, holder_id: HolderDep, page: PageDep, caller: AuditorDep
) -> AccessPage:
    """The requests about `holder_id`, newest first."""
    svc = services(request)
    after = decode_seq_cursor(page.after)
    rows = await access_log(
        svc.engine, svc.audit_secret, holder_id, limit=page.limit + 1, after=after
    )
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    items = [
        AccessOut(
            at=r.at,
            member_id=r.member_id,
            route=r.route,
            purpose=r.purpose,
            case_no=r.case_no,
            decision=r.decision,
            code=r.code,
            status=r.status,
            content_sha256=r.content_sha256,
        )
        for r in rows
    ]
    return AccessPage(items=items, next_after=encode_seq_cursor(rows[-1].seq) if more else None)
