"""Liveness and readiness for operators and orchestrators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from gateway import __version__
from gateway.log import LogError

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz(request: Request) -> dict[str, Any]:
    """The process is up and serving (liveness). Says nothing about its dependencies."""
    return {"status": "ok", "version": __version__, "log": request.app.state.log.backend}


@router.get("/readyz", response_model=None)
async def readyz(request: Request) -> JSONResponse:
    """The database and the event log answer now (readiness)."""
    checks: dict[str, str] = {}
    try:
        async with request.app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except (SQLAlchemyError, OSError) as exc:
        checks["database"] = f"unavailable: {type(exc).__name__}"
    try:
        await request.app.state.log.ping()
        checks["log"] = "ok"
    except LogError as exc:
        checks["log"] = f"unavailable: {exc.code}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
