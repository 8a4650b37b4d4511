"""The OpenAPI document is the contract: every route is in it, its problems and records are
the real ones, and a generic OpenAPI client built from it alone can make a signed lookup.

Conformance of the answers themselves (status, content type, body schema, headers) is
fuzzed in test_fuzz.py.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
from aiopenapi3 import OpenAPI
from aiopenapi3.plugin import Message

from gateway.api.app import create_app
from gateway.api.contract import CLI_ONLY, OPERATION_CODES, api_routes
from gateway.api.problems import KINDS, PROBLEM_JSON
from gateway.members.keys import keys_from_jwks
from gateway.members.store import Grant
from gateway.signatures import sign_request, verify_response
from schemas.jsonschema import record_schemas
from tests.gateway.api.conftest import PURPOSE, Gateway
from tests.samples import certificate

# Routes served but deliberately left out of the document, each with its reason.
UNDOCUMENTED = {
    "/metrics": "Prometheus exposition for operators' scrapers, not an API for members",
}
FRAMEWORK = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}  # the document itself
# The console (gateway.api.console): web pages for people, signed in with a session cookie,
# not an API for members; its static files are a mount.
CONSOLE, CONSOLE_STATIC = "/console", "/console/static"


def _document() -> dict[str, Any]:
    return create_app().openapi()


def test_every_route_is_documented_or_deliberately_left_out() -> None:
    app = create_app()
    doc = app.openapi()
    for route in api_routes(app):
        if route.path == CONSOLE or route.path.startswith(CONSOLE + "/"):
            assert not route.documented, f"{route.path}: a console page in the API's document"
            continue
        if route.path in UNDOCUMENTED:
            assert not route.documented, f"{route.path} is documented after all"
            continue
        assert route.documented, f"{route.path}: include_in_schema=False, not in UNDOCUMENTED"
        for method in route.methods:
            assert method.lower() in doc["paths"].get(route.path, {}), (method, route.path)
    served = {route.path for route in api_routes(app)}
    others = {getattr(r, "path", None) for r in app.routes} - served - {None}
    others -= {CONSOLE_STATIC}
    assert others <= FRAMEWORK, f"routes outside FastAPI's API routes: {others - FRAMEWORK}"
    assert set(UNDOCUMENTED) <= served, "an exclusion for a route that no longer exists"


def test_problems_are_documented_with_their_codes_and_no_422_validation_error() -> None:
    doc = _document()
    documented: set[str] = set()
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                problem = answer.get("content", {}).get(PROBLEM_JSON)
                if problem is None:
                    continue
                codes = problem["schema"]["properties"]["code"]["enum"]
                assert all(KINDS[c].status == int(status) for c in codes), (path, status, codes)
                documented |= set(codes)
            assert "HTTPValidationError" not in str(operation), (method, path)
            if path.startswith("/v1/"):
                assert {"400", "401", "413", "500", "503"} <= set(operation["responses"]), path
    assert documented <= set(KINDS)
    listed = set().union(*OPERATION_CODES.values())
    assert listed <= set(KINDS), listed - set(KINDS)
    # every code the gateway can send is some operation's (405: a method no operation has;
    # the command line's own codes are no operation's)
    assert set(KINDS) - documented == {"METHOD_NOT_ALLOWED"} | CLI_ONLY


def test_records_are_typed_from_the_avro_schemas() -> None:
    doc = _document()
    schemas = doc["components"]["schemas"]
    for name, schema in record_schemas().items():
        assert schemas[name] == schema, name
    lookup = doc["paths"]["/v1/certificates/{cert_id}"]["get"]["responses"]["200"]
    item = schemas[lookup["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    assert item["properties"]["record"] == {"$ref": "#/components/schemas/Certificate"}
    assert "cert_id" in schemas["Certificate"]["required"]
    body = doc["paths"]["/v1/events/{kind}"]["post"]["requestBody"]
    assert body["required"] and "anyOf" in body["content"]["application/json"]["schema"]
    feed = doc["paths"]["/v1/feeds/{stream}"]["get"]["responses"]["200"]["content"]
    assert feed["application/json"]["schema"] == {"$ref": "#/components/schemas/FeedPage"}
    assert "text/event-stream" in feed


def test_signature_headers_are_required_parameters() -> None:
    doc = _document()
    lookup = doc["paths"]["/v1/certificates/{cert_id}"]["get"]
    required = {p["name"] for p in lookup["parameters"] if p["in"] == "header" and p["required"]}
    assert required == {"Signature-Input", "Signature", "Gov-Purpose"}
    push = doc["paths"]["/v1/events/{kind}"]["post"]
    required = {p["name"] for p in push["parameters"] if p["in"] == "header" and p["required"]}
    assert required == {"Signature-Input", "Signature", "Content-Digest"}
    answer = lookup["responses"]["200"]["headers"]
    assert all(answer[h]["required"] for h in ("Signature", "Signature-Input", "Content-Digest"))
    health = doc["paths"]["/healthz"]["get"]
    assert not [p for p in health.get("parameters", []) if p["in"] == "header"]


class Received(Message):
    """Keeps each answer's bytes and headers as received, to check the gateway's signature."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[tuple[int, dict[str, str], bytes]] = []

    def received(self, ctx: Message.Context) -> Message.Context:
        headers = dict(ctx.headers.items())
        self.answers.append((int(str(ctx.status_code)), headers, bytes(ctx.received or b"")))
        return ctx


async def test_a_generic_client_built_from_the_document_makes_a_signed_lookup(
    gw: Gateway,
) -> None:
    """aiopenapi3 reads the document (nothing of govgate's client), is given the required
    headers with an RFC 9421 signature, calls the lookup and validates the answer against
    the document; the answer's signature verifies with the keys the document's
    /.well-known operation gives."""
    window = await gw.add_member(
        "window", "consumer", grants=(Grant("certificate", "YYZZ", PURPOSE),)
    )
    await gw.publish("Certificate", certificate())
    document = (await gw.client.get("/openapi.json")).json()

    class InProcess(httpx2.AsyncClient):
        """The client's HTTP session, sent to the app in this process."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, transport=httpx2.ASGITransport(app=gw.app), **kwargs)

    received = Received()
    api = OpenAPI(
        "http://gateway/openapi.json",
        document,
        session_factory=InProcess,
        plugins=[received],
        use_operation_tags=False,
    )

    def operation(path: str) -> Any:  # by the operationId the document gives the path's GET
        return getattr(api._, document["paths"][path]["get"]["operationId"])

    lookup = operation("/v1/certificates/{cert_id}")
    cert_id = certificate()["cert_id"]
    url = f"http://gateway/v1/certificates/{cert_id}"
    case = {"Gov-Purpose": PURPOSE, "Gov-Case": "SL-UNSEEN-0001"}  # 有条件共享: for a case
    signed = sign_request("GET", url, case, keyid=window.keyid, private_key=window.key)
    answer = await lookup(
        parameters={
            "cert_id": cert_id,
            **case,
            "Signature-Input": signed["Signature-Input"],
            "Signature": signed["Signature"],
        }
    )
    record = answer.model_dump(mode="json", exclude_unset=True)["record"]
    assert record["cert_id"] == cert_id
    assert record["type_code"] == "YYZZ" and record["holder"]["name"]
    status, headers, body = received.answers[-1]
    jwks = json.loads(await operation("/.well-known/govgate-keys")())  # jwk-set+json: bytes
    verify_response(
        status,
        headers,
        body,
        request_method="GET",
        request_url=url,
        request_headers=signed,
        keys=keys_from_jwks(jwks),
    )
