"""Application materials (申请材料) a holder already submitted, so nobody asks for them again."""

from __future__ import annotations

from fastapi import APIRouter, Request

from gateway.api import policy
from gateway.api.auth import ConsumerDep
from gateway.api.inputs import CatalogCodeDep, HolderDep, PageDep
from gateway.api.paging import ItemPage, visible_page
from gateway.api.services import services
from gateway.lookup import MaterialEntry, Page

router = APIRouter(prefix="/v1", tags=["lookups"])


@router.get("/materials")
async def list_materials(
    request: Request,
    holder_id: HolderDep,
    catalog_code: CatalogCodeDep,
    page: PageDep,
    caller: ConsumerDep,
) -> ItemPage:
    """The holder's materials of the catalogs granted for `Gov-Purpose`."""
    purpose = policy.require_purpose(caller)
    codes = policy.granted_codes(caller, "material", purpose, catalog_code)
    lookup = services(request).lookup

    async def fetch(code: str, after: str | None, limit: int) -> Page[MaterialEntry]:
        return await lookup.materials_by_holder(holder_id, code, limit=limit, after=after)

    return await visible_page(
        fetch,
        codes,
        page.after,
        page.limit,
        lambda entry: policy.material_view(caller, purpose, entry),
        lambda entry: (entry.catalog_code, entry.material_id),
    )
