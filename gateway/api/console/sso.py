"""Single sign-on through OpenID Connect (filled in below the core: see install)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
