"""The resource catalogue (政务信息资源目录): read by every member, published by departments.

`GET /v1/catalogue` (filter by department, kind, sharing class, keyword; paginated) and
`GET /v1/catalogue/{code}` (the current version and its history) to any signed member;
`POST /v1/catalogue` (an entry) and `POST /v1/catalogue/{code}/withdraw` (a reason) to a
publisher member of the entry's own department. Each publication is a new version, audited
and on the `governance` stream.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from gateway.api.auth import CallerDep, PublisherDep
from gateway.api.inputs import PageDep, json_object
from gateway.api.problems import InvalidInput, NotFound
from gateway.api.services import services
from gateway.catalogue.entries import CODE, parse_entry, plain_text
from gateway.governance.catalogue import publish, withdraw
from gateway.lookup.errors import InvalidQuery

router = APIRouter(prefix="/v1", tags=["governance"])

CodePath = Annotated[str, Path(description="资源编码")]


class EntryPage(BaseModel):
    items: list[dict[str, Any]]
    next_after: str | None


class EntryOut(BaseModel):
    entry: dict[str, Any]
    history: list[dict[str, Any]] = []


def _code(code: str, name: str = "code") -> str:
    if not CODE.fullmatch(code):
        raise InvalidInput(f"{name} {code[:80]!r}: 1-64 letters, digits, '.', '_' or '-'")
    return code


@router.get("/catalogue")
async def list_catalogue(
    request: Request,
    caller: CallerDep,
    page: PageDep,
    department: Annotated[str | None, Query(description="提供方部门编码")] = None,
    kind: Annotated[
        Literal["certificate", "material", "case_events", "credit", "notice"] | None, Query()
    ] = None,
    sharing_class: Annotated[
        Literal["UNCONDITIONAL", "CONDITIONAL", "NOT_SHARED"] | None, Query()
    ] = None,
    keyword: Annotated[str | None, Query(max_length=100, description="关键词")] = None,
    withdrawn: Annotated[bool, Query(description="include withdrawn entries")] = False,
) -> EntryPage:
    """The current entries, by code; `next_after` pages on."""
    if keyword is not None and not plain_text(keyword):
        raise InvalidInput("keyword: holds control characters")
    try:
        entries, following = await services(request).governance.catalogue.page(
            department=None if department is None else _code(department, "department"),
            kind=kind,
            sharing_class=sharing_class,
            keyword=keyword,
            withdrawn=withdrawn,
            after=page.after,
            limit=page.limit,
        )
    except InvalidQuery as exc:
        raise InvalidInput("after: not a cursor this gateway handed out") from exc
    return EntryPage(items=[e.to_json() for e in entries], next_after=following)


@router.get("/catalogue/{code}")
async def get_entry(request: Request, code: CodePath, caller: CallerDep) -> EntryOut:
    """The current version of a resource (withdrawn ones too) and every version's stamp."""
    versions = await services(request).governance.catalogue.versions(_code(code))
    if not versions:
        raise NotFound()
    history = [
        {
            "version": v.version,
            "published_ms": v.published_ms,
            "published_by": v.published_by,
            "withdrawn": v.withdrawn,
        }
        for v in versions
    ]
    return EntryOut(entry=versions[-1].to_json(), history=history)


@router.post("/catalogue")
async def publish_entry(request: Request, caller: PublisherDep) -> EntryOut:
    """Publish an entry of the caller's department (a new version if it changed)."""
    svc = services(request)
    entry = parse_entry(json_object(await request.body()))
    published = await publish(
        svc.governance.recorder,
        svc.governance.catalogue,
        svc.governance.actor(caller.member),
        entry,
    )
    svc.sharing_classes.forget()
    return EntryOut(entry=published.to_json())


@router.post("/catalogue/{code}/withdraw")
async def withdraw_entry(request: Request, code: CodePath, caller: PublisherDep) -> EntryOut:
    """Withdraw (撤销) a resource of the caller's department, with a reason."""
    svc = services(request)
    body = json_object(await request.body())
    reason = body.get("reason")
    if not isinstance(reason, str):
        raise InvalidInput("reason: say why the resource is withdrawn")
    withdrawn = await withdraw(
        svc.governance.recorder,
        svc.governance.catalogue,
        svc.governance.actor(caller.member),
        _code(code),
        reason,
    )
    svc.sharing_classes.forget()
    return EntryOut(entry=withdrawn.to_json())
