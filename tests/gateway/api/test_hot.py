"""The hot lookup path answers as the FastAPI route would: same checks, same audit row, same
document; a route whose dependencies it cannot solve exactly is left to FastAPI."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header
from sqlalchemy import select

from gateway.api.app import create_app
from gateway.api.hot import NotPlannable, hot_routes, plan
from gateway.audit.tables import audit_rows
from gateway.members.store import Grant
from tests.gateway.api.conftest import PURPOSE, Gateway
from tests.samples import certificate

CERT = certificate()["cert_id"]


def test_the_certificate_lookup_is_planned() -> None:
    found = {(hot.method, hot.route.path) for hot in hot_routes(create_app())}
    assert found == {("GET", "/v1/certificates/{cert_id}")}


def test_a_dependency_the_solver_cannot_do_exactly_leaves_the_route_to_fastapi() -> None:
    async def gov_case(gov_case: Annotated[str | None, Header()] = None) -> str | None:
        return gov_case

    def sync_dependency() -> int:
        return 1

    router = APIRouter()

    @router.get("/h")
    async def with_header(case: Annotated[str | None, Depends(gov_case)]) -> dict[str, str]:
        return {}

    @router.get("/s")
    async def with_sync(one: Annotated[int, Depends(sync_dependency)]) -> dict[str, str]:
        return {}

    app = FastAPI()
    app.include_router(router)
    for route in app.router.routes:
        if getattr(route, "path", "") in ("/h", "/s"):
            try:
                plan(route.dependant)  # type: ignore[attr-defined]
            except NotPlannable:
                continue
            raise AssertionError(f"{route} was planned")


async def test_answers_checks_and_audit_rows_are_the_routes(gw: Gateway) -> None:
    await gw.add_member("window", "consumer", grants=(Grant("certificate", "YYZZ", PURPOSE),))
    await gw.add_member("dept", "publisher")
    await gw.publish("Certificate", certificate())
    found = await gw.call("GET", f"/v1/certificates/{CERT}")
    assert found.status_code == 200 and found.json()["record"]["cert_id"] == CERT
    assert found.headers["signature"] and found.headers["content-digest"]
    cases = {
        "bad id": (await gw.call("GET", "/v1/certificates/a%20b"), 400, "INVALID_INPUT"),
        "no purpose": (
            await gw.call("GET", f"/v1/certificates/{CERT}", purpose=None),
            400,
            "PURPOSE_MISSING",
        ),
        "not granted type": (
            await gw.call("GET", f"/v1/certificates/{CERT}?type_code=HY002"),
            403,
            "TYPE_NOT_GRANTED",
        ),
        "absent": (await gw.call("GET", "/v1/certificates/NOPE-1"), 404, "NOT_FOUND"),
        "role": (await gw.call("GET", f"/v1/certificates/{CERT}", "dept"), 403, "ROLE_REQUIRED"),
        "unsigned": (
            await gw.call("GET", f"/v1/certificates/{CERT}", None),
            401,
            "SIGNATURE_MISSING",
        ),
    }
    for name, (answer, status, code) in cases.items():
        assert (answer.status_code, answer.json()["code"]) == (status, code), name
        assert answer.headers["content-type"] == "application/problem+json", name
    async with gw.services.engine.connect() as conn:
        rows = (await conn.execute(select(audit_rows).order_by(audit_rows.c.seq))).mappings().all()
    assert [(r["route"], r["status"], r["code"]) for r in rows] == [
        ("/v1/certificates/{cert_id}", 200, None),
        ("/v1/certificates/{cert_id}", 400, "PURPOSE_MISSING"),
        ("/v1/certificates/{cert_id}", 403, "TYPE_NOT_GRANTED"),
        ("/v1/certificates/{cert_id}", 404, "NOT_FOUND"),
        ("/v1/certificates/{cert_id}", 403, "ROLE_REQUIRED"),
    ]  # the unsigned one and the bad id (refused before the signature is read) are tallied
