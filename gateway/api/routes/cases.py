"""A case's timeline (办件进程): its steps in the order they happened, under a `case` grant for
the item (事项编码) named in `Gov-Purpose`, like every other record."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from gateway.api import policy
from gateway.api.auth import CaseReaderDep
from gateway.api.exchange import exchange_of
from gateway.api.inputs import CaseNoDep, holder_type
from gateway.api.paging import Item
from gateway.api.problems import NotFound
from gateway.api.services import services

router = APIRouter(prefix="/v1", tags=["lookups"])


class Timeline(BaseModel):
    case_no: str
    events: list[Item]


@router.get("/cases/{case_no}")
async def case_timeline(request: Request, case_no: CaseNoDep, caller: CaseReaderDep) -> Timeline:
    """The steps of a case of the item named in `Gov-Purpose`; any other case reads as absent."""
    purpose = policy.require_purpose(caller)
    policy.require_case_grant(caller, purpose)  # before the lookup: the same with or without data
    events = await services(request).lookup.case_timeline(case_no)
    views = policy.case_view(caller, purpose, events)
    if not views:
        raise NotFound()
    applicant = events[0].record.get("applicant")
    if isinstance(applicant, dict) and isinstance(number := applicant.get("id_number"), str):
        exchange = exchange_of(request.scope)
        exchange.holder_id, exchange.holder_type = number, holder_type(number)
    items = [Item(record=dict(v.record), masked=list(v.masked)) for v in views]
    return Timeline(case_no=case_no, events=items)
