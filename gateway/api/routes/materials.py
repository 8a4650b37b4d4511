"""Application materials (申请材料) a holder already submitted, so nobody asks for them again.

`GET /v1/materials` lists a holder's materials of the catalogs granted for `Gov-Purpose`, each
with its reuse status (OFFERED, NOT_REUSABLE, EXPIRED: `gateway.lookup.reuse`); with
`reusable=true`, only those offered for reuse today, so a window asks for "this holder's usable
营业执照 scan" in one call.

`GET /v1/materials/{material_id}/content` streams the file itself, under the same grant and
purpose checks as the record. A material of another case than `Gov-Case` is served only when
offered for reuse. The answer carries `Content-Digest: sha-256=:…:` (RFC 9530) from the
record, which the gateway's response signature covers, so a window can prove later which bytes
it was given; its audit row, naming the file's SHA-256, is committed before the first byte.
A file stored under its SM3 (国密, `files.hash = "sm3"`; the record carries `sm3`) is read by
it and answered with `Content-Digest: sm3=:…:`, followed by `sha-256=:…:` unless the gateway's
algorithm allow-list excludes SHA-256; every digest stated is checked against the bytes.
The bytes are checked while they stream: stored bytes that turn out not to match end the
stream before its last chunk, and are set aside, so the next request is refused with
CONTENT_CORRUPTED (a file gone from the store: CONTENT_MISSING), audited like any refusal.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from gateway.api import policy
from gateway.api.auth import ConsumerDep
from gateway.api.exchange import exchange_of
from gateway.api.inputs import CatalogCodeDep, HolderDep, PageDep, holder_type, record_id
from gateway.api.paging import Item, visible_page
from gateway.api.problems import InvalidInput, MaterialExpired, NotFound, NotReusable
from gateway.api.services import services
from gateway.crypto.sm3 import HashName
from gateway.files import ContentCorrupted, ContentMissing, FileStore, verified_chunks
from gateway.lookup import MaterialEntry, Page
from gateway.lookup.reuse import ReuseStatus, record_reuse_status, today

router = APIRouter(prefix="/v1", tags=["lookups"])
_EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


class MaterialItem(Item):
    reuse: ReuseStatus  # OFFERED, NOT_REUSABLE (its case's only), EXPIRED


class MaterialPage(BaseModel):
    items: list[MaterialItem]
    next_after: str | None


async def reusable_query(
    reusable: Annotated[
        str | None, Query(description="true: only materials offered for reuse today")
    ] = None,
) -> bool:
    if reusable not in (None, "true", "false"):
        raise InvalidInput("reusable: true or false")
    return reusable == "true"


async def material_id_path(material_id: Annotated[str, Path(description="材料标识")]) -> str:
    return record_id(material_id, "material_id")


@router.get("/materials")
async def list_materials(
    request: Request,
    holder_id: HolderDep,
    catalog_code: CatalogCodeDep,
    reusable: Annotated[bool, Depends(reusable_query)],
    page: PageDep,
    caller: ConsumerDep,
) -> MaterialPage:
    """The holder's materials of the catalogs granted for `Gov-Purpose`, with reuse status."""
    purpose = policy.require_purpose(caller)
    codes = policy.granted_codes(caller, "material", purpose, catalog_code)
    lookup = services(request).lookup
    on = today()

    async def fetch(code: str, after: str | None, limit: int) -> Page[MaterialEntry]:
        return await lookup.materials_by_holder(
            holder_id, code, limit=limit, after=after, offered_on=on if reusable else None
        )

    found = await visible_page(
        fetch,
        codes,
        page.after,
        page.limit,
        lambda entry: policy.material_view(caller, purpose, entry),
        lambda entry: (entry.catalog_code, entry.material_id),
    )
    items = [
        MaterialItem(record=i.record, masked=i.masked, reuse=record_reuse_status(i.record, on))
        for i in found.items
    ]
    return MaterialPage(items=items, next_after=found.next_after)


_CONTENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file, with Content-Digest (sha-256, or sm3 and sha-256 for a file "
        "stored by SM3) covered by the response signature",
        "content": {"application/octet-stream": {"schema": {"type": "string"}}},
    }
}


@router.get("/materials/{material_id}/content", response_model=None, responses=_CONTENT_RESPONSES)
async def material_content(
    request: Request,
    material_id: Annotated[str, Depends(material_id_path)],
    caller: ConsumerDep,
) -> StreamingResponse:
    """The material's file, streamed and checked; refused as the record would be."""
    purpose = policy.require_purpose(caller)
    policy.granted_codes(caller, "material", purpose, None)
    svc = services(request)
    entry = await svc.lookup.material(material_id)
    if entry is None or policy.material_view(caller, purpose, entry) is None:
        raise NotFound()
    exchange = exchange_of(request.scope)
    exchange.holder_id, exchange.holder_type = entry.holder_id, holder_type(entry.holder_id)
    status = _reuse_for(caller.case_no, entry)
    record = entry.record
    sha256, size = str(record["sha256"]), int(record["size_bytes"])
    digests = _digests(record, svc.settings.gateway.digest_algorithms)
    alg, digest = next(iter(digests.items()))  # the address comes first
    await _present(svc.files, digest, size, alg)
    exchange.content_sha256, exchange.streamed = sha256, True
    content_type = str(record.get("content_type") or "application/octet-stream")
    headers = {
        "Content-Digest": ", ".join(
            f"{name}=:{base64.b64encode(bytes.fromhex(value)).decode()}:"
            for name, value in digests.items()
        ),
        "Content-Length": str(size),
        "Content-Disposition": _disposition(str(record.get("name") or material_id), content_type),
        "Cache-Control": "no-store",
        "Gov-Reuse": status,
    }
    chunks = verified_chunks(svc.files, digest, size, alg=alg, also=digests)
    return StreamingResponse(chunks, media_type=content_type, headers=headers)


def _digests(record: dict[str, Any], allowed: tuple[str, ...]) -> dict[HashName, str]:
    """The record's digests the answer states, the file's address first: its SM3 when it was
    stored by SM3, then its SHA-256 if allowed; else its SHA-256 alone (a file stored before
    is still served by the address it has, whatever the allow-list)."""
    sha256, sm3 = str(record["sha256"]), record.get("sm3")
    if not sm3:
        return {"sha-256": sha256}
    found: dict[HashName, str] = {"sm3": str(sm3)}
    if "sha-256" in allowed:
        found["sha-256"] = sha256
    return found


def _reuse_for(case_no: str | None, entry: MaterialEntry) -> ReuseStatus | Literal["OWN_CASE"]:
    """OWN_CASE for the material's own case (`Gov-Case`), else its reuse status; a material
    not offered for reuse is refused, never served as current."""
    if case_no is not None and case_no == entry.case_no:
        return "OWN_CASE"
    status = record_reuse_status(entry.record, today())
    if status == "NOT_REUSABLE":
        raise NotReusable()
    if status == "EXPIRED":
        raise MaterialExpired()
    return status


async def _present(files: FileStore, digest: str, size: int, alg: HashName) -> None:
    """Refuse before the head is sent when the file is known to be gone or bad."""
    try:
        stored = await files.size(digest, alg)
    except ContentMissing:
        reason = await files.quarantined(digest, alg)
        if reason is not None:
            raise ContentCorrupted(f"content {digest} was set aside: {reason}") from None
        raise
    if stored != size:
        reason = f"{stored} bytes stored, the record says {size}"
        await files.quarantine(digest, reason, alg)
        raise ContentCorrupted(f"content {digest}: {reason}")


def _disposition(name: str, content_type: str) -> str:
    extension = _EXTENSIONS.get(content_type)
    filename = f"{name}.{extension}" if extension else name
    return f"attachment; filename*=UTF-8''{quote(filename, safe='')}"
