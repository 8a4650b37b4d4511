"""Sharing applications (共享申请): a consumer applies, the bureau checks, the provider decides.

`POST /v1/applications` {resource_code, purposes, scenario, fields, days} by a consumer member
of a department; `GET /v1/applications[?status=]` and `GET /v1/applications/{id}` to the
applicant, the providing department and the bureau; `POST /v1/applications/{id}/decision`
{decision, reason, fields?, purposes?, days?} by a member of the department whose step is open
(a NARROW keeps fewer fields, purposes or days than were applied for).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from gateway.api.auth import CallerDep, ConsumerDep
from gateway.api.inputs import json_object
from gateway.api.problems import InvalidInput
from gateway.api.services import services
from gateway.governance.application_in import parse_request

router = APIRouter(prefix="/v1", tags=["governance"])

_ID = re.compile(r"SQ-[0-9A-F]{16}")
IdPath = Annotated[str, Path(description="共享申请编号")]


class ApplicationOut(BaseModel):
    application: dict[str, Any]


class ApplicationList(BaseModel):
    items: list[dict[str, Any]]


def _id(application_id: str) -> str:
    if not _ID.fullmatch(application_id):
        raise InvalidInput(f"application_id {application_id[:80]!r}: SQ- and 16 hex digits")
    return application_id


def _texts(body: dict[str, Any], name: str) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"{name}: a list of texts")
    return value


@router.post("/applications")
async def apply(request: Request, caller: ConsumerDep) -> ApplicationOut:
    """Apply for a catalogue resource; the bureau's check is the first step."""
    gov = services(request).governance
    asked = parse_request(json_object(await request.body()), gov.settings.max_days)
    return ApplicationOut(application=await gov.applications.apply(gov.actor(caller.member), asked))


@router.get("/applications")
async def list_applications(
    request: Request,
    caller: CallerDep,
    status: Annotated[
        Literal["PENDING_BUREAU", "PENDING_PROVIDER", "APPROVED", "REFUSED"] | None, Query()
    ] = None,
) -> ApplicationList:
    gov = services(request).governance
    found = await gov.applications.list(gov.actor(caller.member), status=status)
    return ApplicationList(items=found)


@router.get("/applications/{application_id}")
async def get_application(
    request: Request, application_id: IdPath, caller: CallerDep
) -> ApplicationOut:
    gov = services(request).governance
    found = await gov.applications.get(gov.actor(caller.member), _id(application_id))
    return ApplicationOut(application=found)


@router.post("/applications/{application_id}/decision")
async def decide(request: Request, application_id: IdPath, caller: CallerDep) -> ApplicationOut:
    """The open step's decision: PASS / REFUSE at the bureau; APPROVE / NARROW / REFUSE by
    the provider. A refusal or a narrowing needs a reason."""
    gov = services(request).governance
    body = json_object(await request.body())
    decision, reason = body.get("decision"), body.get("reason")
    if not isinstance(decision, str):
        raise InvalidInput("decision: PASS, REFUSE, APPROVE or NARROW")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 2000):
        raise InvalidInput("reason: a text of at most 2000 characters")
    days = body.get("days")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool) or days < 1):
        raise InvalidInput(f"days: a whole number of days of at least 1, not {days!r}")
    decided = await gov.applications.decide(
        gov.actor(caller.member),
        _id(application_id),
        decision,
        reason,
        fields=_texts(body, "fields"),
        purposes=_texts(body, "purposes"),
        days=days,
    )
    return ApplicationOut(application=decided)
