"""`/metrics`: the gateway's Prometheus metrics, for operators (not in the OpenAPI document)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from gateway.api.services import services

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    found = services(request).metrics
    await found.refresh()
    return Response(found.exposition(), media_type=CONTENT_TYPE_LATEST)
