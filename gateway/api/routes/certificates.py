"""Certificates (电子证照) a holder already has: by holder, or one by its id."""

from __future__ import annotations

from fastapi import APIRouter, Request

from gateway.api import policy
from gateway.api.auth import ConsumerDep
from gateway.api.caller import Caller
from gateway.api.exchange import exchange_of
from gateway.api.inputs import CertIdDep, HolderDep, PageDep, TypeCodeDep, holder_type
from gateway.api.paging import Item, ItemPage, visible_page
from gateway.api.problems import NotFound, NotShared
from gateway.api.services import services
from gateway.catalogue.classes import Classes
from gateway.catalogue.entries import stricter
from gateway.lookup import CaseEventEntry, CertificateEntry, Page
from gateway.lookup.case_cache import CaseCache

router = APIRouter(prefix="/v1", tags=["lookups"])


async def _case_events(cases: CaseCache, caller: Caller) -> list[CaseEventEntry]:
    """The events the gateway knows of the case in `Gov-Case` (none without one)."""
    if caller.case_no is None:
        return []
    return await cases.events(caller.case_no)


def _view(
    caller: Caller,
    purpose: str,
    entry: CertificateEntry,
    case: list[CaseEventEntry],
    classes: Classes,
) -> policy.View | None:
    """The view under the stricter of the record's and the catalogue's sharing class."""
    listed = classes.get(("certificate", entry.type_code))
    view = policy.certificate_view(caller, purpose, entry, listed)
    if view is not None and policy.needs_case(stricter(entry.sharing_class, listed)):
        policy.bind_case(caller, purpose, entry.holder_id, case)
    return view


@router.get("/certificates")
async def list_certificates(
    request: Request,
    holder_id: HolderDep,
    type_code: TypeCodeDep,
    page: PageDep,
    caller: ConsumerDep,
) -> ItemPage:
    """The holder's certificates of the types granted for `Gov-Purpose` (不予共享 left out)."""
    purpose = policy.require_purpose(caller)
    codes = policy.granted_codes(caller, "certificate", purpose, type_code)
    lookup = services(request).lookup
    case = await _case_events(services(request).cases, caller)
    listed = await services(request).sharing_classes.current()

    async def fetch(code: str, after: str | None, limit: int) -> Page[CertificateEntry]:
        return await lookup.certificates_by_holder(holder_id, code, limit=limit, after=after)

    return await visible_page(
        fetch,
        codes,
        page.after,
        page.limit,
        lambda entry: _view(caller, purpose, entry, case, listed),
        lambda entry: (entry.type_code, entry.cert_id),
    )


@router.get("/certificates/{cert_id}")
async def get_certificate(
    request: Request, cert_id: CertIdDep, type_code: TypeCodeDep, caller: ConsumerDep
) -> Item:
    """One certificate. A certificate of a type not granted reads as one that does not exist."""
    purpose = policy.require_purpose(caller)
    policy.granted_codes(caller, "certificate", purpose, type_code)
    entry = await services(request).lookup.certificate(cert_id)
    if entry is None or (type_code is not None and entry.type_code != type_code):
        raise NotFound()
    if policy.grant_for(caller, "certificate", entry.type_code, purpose) is None:
        raise NotFound()
    exchange = exchange_of(request.scope)
    exchange.holder_id, exchange.holder_type = entry.holder_id, holder_type(entry.holder_id)
    listed = await services(request).sharing_classes.current()
    case = await _case_events(services(request).cases, caller)
    view = _view(caller, purpose, entry, case, listed)
    if view is None:
        raise NotShared()
    return Item(record=dict(view.record), masked=list(view.masked))
