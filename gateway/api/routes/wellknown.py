"""The gateway's public keys, so a window system can verify the responses it keeps."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gateway.api.services import services
from gateway.members.keys import jwks

router = APIRouter(tags=["operations"])


@router.get("/.well-known/govgate-keys")
async def govgate_keys(request: Request) -> JSONResponse:
    """JWK Set of the keys the gateway signs responses with (current and still published)."""
    document = jwks(services(request).keys.published)
    return JSONResponse(
        document, media_type="application/jwk-set+json", headers={"cache-control": "max-age=300"}
    )
