"""双告知 notices for the departments they are routed to: one by id, and its claim (认领).

Departments are subscriber members with a `notice` grant for their code (e.g. 330802-JTYS);
they receive notices on the feed (`GET /v1/feeds/notices`) or by webhook, like any
subscriber, and claim each with a signed `POST /v1/notices/{notice_id}/claim`. A pool notice
(`<region>-POOL`, no rule routed it) is claimed by a department holding the pool grant, naming
itself in `department_code`. The first claim wins; a second is refused (409 ALREADY_CLAIMED).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field, ValidationError

from gateway.api import policy
from gateway.api.auth import with_role
from gateway.api.caller import Caller
from gateway.api.inputs import record_id
from gateway.api.problems import InvalidInput, NotFound
from gateway.api.services import services
from gateway.notices.notices import notice_from_json, region_prefix
from schemas.codec import to_jsonable

router = APIRouter(prefix="/v1", tags=["notices"])

SubscriberDep = Annotated[Caller, Depends(with_role("subscriber"))]


async def notice_id_path(notice_id: Annotated[str, Path(description="推送单编号")]) -> str:
    return record_id(notice_id, "notice_id")


NoticeIdDep = Annotated[str, Depends(notice_id_path)]


class ClaimIn(BaseModel):
    department_code: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        description="for a pool notice: the department that claims it (one you are granted)",
    )
    note: str | None = Field(default=None, max_length=500, description="认领说明")


class NoticeOut(BaseModel):
    record: dict[str, Any]


async def _visible(request: Request, notice_id: str, caller: Caller) -> dict[str, Any]:
    record = await services(request).lookup.notice(notice_id)
    if record is None or not policy.notice_visible(caller.grants, record):
        raise NotFound()
    return record


@router.get("/notices/{notice_id}")
async def get_notice(request: Request, notice_id: NoticeIdDep, caller: SubscriberDep) -> NoticeOut:
    """A notice routed to one of the caller's departments (or in a pool it is granted)."""
    return NoticeOut(record=dict(policy.notice_view(await _visible(request, notice_id, caller))))


@router.post("/notices/{notice_id}/claim")
async def claim_notice(
    request: Request, notice_id: NoticeIdDep, caller: SubscriberDep
) -> NoticeOut:
    """Claim (认领) the notice for the caller's department; the claimed version goes on the
    log (the claim clock stops) and is returned."""
    body = _claim_body(await request.body())
    record = await _visible(request, notice_id, caller)
    svc = services(request)
    code = policy.claiming_department(caller, record, body.department_code)
    department = None
    if code is not None:
        prefix = region_prefix(str(record["licence"]["issuer_name"]))
        department = svc.routing.department_by_code(code, str(record["region_code"]), prefix)
        if department is None:
            raise InvalidInput(f"department_code {code!r}: not a department of this region")
    claimed = await svc.claims.claim(
        notice_from_json(record),
        member_id=caller.member_id,
        department=department,
        note=body.note,
        now=dt.datetime.now(dt.UTC),
    )
    return NoticeOut(record=dict(policy.notice_view(to_jsonable(claimed))))


def _claim_body(raw: bytes) -> ClaimIn:
    if not raw.strip():
        return ClaimIn()
    try:
        return ClaimIn.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as exc:
        raise InvalidInput(f"the body must be {{department_code?, note?}}: {exc}") from exc
