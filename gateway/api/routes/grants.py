"""Grants (授权) as records: seen by their holder, by the department whose resource they open,
and by the bureau; narrowed or revoked by that department, suspended or reinstated by the
bureau (`POST /v1/grants/{grant_id}/{narrow|suspend|reinstate|revoke}` {reason, fields?})."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from gateway.api.auth import CallerDep
from gateway.api.inputs import json_object
from gateway.api.problems import InvalidInput
from gateway.api.services import services

router = APIRouter(prefix="/v1", tags=["governance"])

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
GrantPath = Annotated[str, Path(description="授权标识")]


class GrantOut(BaseModel):
    grant: dict[str, Any]


class GrantList(BaseModel):
    items: list[dict[str, Any]]


def _gid(grant_id: str) -> str:
    if not _UUID.fullmatch(grant_id):
        raise InvalidInput(f"grant_id {grant_id[:80]!r}: a grant id (UUID, lowercase)")
    return grant_id


@router.get("/grants")
async def list_grants(
    request: Request,
    caller: CallerDep,
    member_id: Annotated[str | None, Query(max_length=64)] = None,
) -> GrantList:
    gov = services(request).governance
    found = await gov.grants.visible(gov.actor(caller.member), member_id)
    return GrantList(items=[g.to_json() for g in found])


@router.get("/grants/{grant_id}")
async def get_grant(request: Request, grant_id: GrantPath, caller: CallerDep) -> GrantOut:
    gov = services(request).governance
    return GrantOut(
        grant=(await gov.grants.get(gov.actor(caller.member), _gid(grant_id))).to_json()
    )


@router.post("/grants/{grant_id}/{change}")
async def change_grant(
    request: Request,
    grant_id: GrantPath,
    change: Literal["narrow", "suspend", "reinstate", "revoke"],
    caller: CallerDep,
) -> GrantOut:
    gov = services(request).governance
    body = json_object(await request.body()) if (await request.body()).strip() else {}
    reason, fields = body.get("reason"), body.get("fields")
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput("reason: a text")
    if fields is not None and (
        not isinstance(fields, list) or not all(isinstance(f, str) for f in fields)
    ):
        raise InvalidInput("fields: a list of field names")
    changed = await gov.grants.change(
        gov.actor(caller.member), _gid(grant_id), change, reason, fields
    )
    return GrantOut(grant=changed.to_json())
