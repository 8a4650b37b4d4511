"""The OpenAPI document as the gateway really answers: what window and department systems
build against.

FastAPI describes what it can see: path and query parameters, Pydantic models, a 422 for its
own validation. The gateway answers otherwise, and this module completes the document from
the same sources the answers come from:

- every operation's problems (RFC 9457, `application/problem+json`), one response per status
  with the `code` values that operation can give (`OPERATION_CODES`, their statuses from
  `gateway.api.problems.KINDS`, the only place codes meet statuses); FastAPI's 422 validation
  answer is never sent (`problems.install` turns it into 400 INVALID_INPUT) and is removed;
- the records typed per kind (`record`, a feed item's `event`, a pushed event's body) with
  JSON Schemas generated from the Avro schemas (`schemas.jsonschema`), not written twice;
- the request bodies the routes read themselves, and the feed's page and event stream;
- the RFC 9421 headers: `Signature-Input` and `Signature` required on every signed
  operation, `Content-Digest` where there is a body, `Gov-Purpose` where the operation needs
  one; and on every response the gateway's own `Signature-Input`, `Signature` and (on a
  buffered body) `Content-Digest`.

An operation not listed in `OPERATION_CODES` (a route added without updating this table) is
documented with every code a signed operation can give, so the document never promises
less than the gateway may answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from gateway.api.auth import signed_caller
from gateway.api.contract_schemas import (
    JWKS,
    REQUEST_HEADERS,
    RESPONSE_HEADERS,
    RETRY_AFTER,
    event_schemas,
    feed_schemas,
    problem_schemas,
    type_records,
)
from gateway.api.problems import KINDS, PROBLEM_JSON
from gateway.api.routes.events import KINDS as EVENT_KINDS
from gateway.api.routes.notices import ClaimIn
from gateway.feeds import FEED_STREAMS
from schemas.jsonschema import REF_PREFIX, record_schemas

SIGNATURE_CODES = frozenset(
    {
        "SIGNATURE_MISSING",
        "SIGNATURE_INVALID",
        "COMPONENT_MISSING",
        "KEY_UNKNOWN",
        "KEY_REVOKED",
        "SIGNATURE_EXPIRED",
        "NONCE_REPLAYED",
        "ALGORITHM_NOT_ALLOWED",
        "DIGEST_MISMATCH",
        "DIGEST_NOT_ALLOWED",
    }
)
ANY_REQUEST = frozenset({"BODY_TOO_LARGE", "INTERNAL_ERROR"})  # the middleware's own
SIGNED = SIGNATURE_CODES | ANY_REQUEST | {"INVALID_INPUT", "ROLE_REQUIRED"}
AUDITED = frozenset({"AUDIT_UNAVAILABLE", "STORE_UNAVAILABLE"})  # the row, the member cache
PURPOSE = frozenset({"PURPOSE_MISSING", "PURPOSE_NOT_GRANTED", "TYPE_NOT_GRANTED"})
DEPARTMENT = frozenset({"DEPARTMENT_REQUIRED"})  # governance steps act for a department
# Codes of the command line only (`govgate members publish --scope`), never an HTTP answer
CLI_ONLY = frozenset({"INVALID_SCOPE"})

# What each operation can answer besides SIGNED | AUDITED, by (method, path template).
OPERATION_CODES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/v1/certificates"): PURPOSE,
    ("GET", "/v1/certificates/{cert_id}"): PURPOSE
    | {"NOT_FOUND", "NOT_SHARED", "CASE_REQUIRED", "CASE_MISMATCH"},
    ("GET", "/v1/materials"): PURPOSE,
    ("GET", "/v1/materials/{material_id}/content"): PURPOSE
    | {
        "NOT_FOUND",
        "NOT_REUSABLE",
        "MATERIAL_EXPIRED",
        "CONTENT_MISSING",
        "CONTENT_CORRUPTED",
        "FILE_STORE_UNAVAILABLE",
    },
    ("GET", "/v1/cases/{case_no}"): PURPOSE | {"NOT_FOUND"},
    ("GET", "/v1/credit/{subject_id}"): PURPOSE,
    ("POST", "/v1/events/{kind}"): frozenset(
        {
            "NOT_FOUND",
            "INVALID_EVENT",
            "LOG_UNAVAILABLE",
            "PUBLISH_NOT_REGISTERED",
            "FUTURE_TIME",
            "SOURCE_MISMATCH",
            "EVENT_ID_CONFLICT",
        }
    ),
    ("GET", "/v1/access-log"): frozenset(),
    ("GET", "/v1/feeds/{stream}"): frozenset({"NOT_FOUND", "TOO_MANY_STREAMS", "LOG_UNAVAILABLE"}),
    ("GET", "/v1/notices/{notice_id}"): frozenset({"NOT_FOUND"}),
    ("POST", "/v1/notices/{notice_id}/claim"): frozenset(
        {"NOT_FOUND", "ALREADY_CLAIMED", "LOG_UNAVAILABLE"}
    ),
    ("GET", "/v1/subscriptions"): frozenset({"LOG_UNAVAILABLE"}),
    ("POST", "/v1/subscriptions"): frozenset({"TOO_MANY", "TARGET_NOT_ALLOWED", "LOG_UNAVAILABLE"}),
    ("GET", "/v1/subscriptions/{subscription_id}"): frozenset({"NOT_FOUND", "LOG_UNAVAILABLE"}),
    ("DELETE", "/v1/subscriptions/{subscription_id}"): frozenset({"NOT_FOUND"}),
    ("POST", "/v1/subscriptions/{subscription_id}/pause"): frozenset(
        {"NOT_FOUND", "LOG_UNAVAILABLE"}
    ),
    ("POST", "/v1/subscriptions/{subscription_id}/resume"): frozenset(
        {"NOT_FOUND", "LOG_UNAVAILABLE"}
    ),
    # governance (#13): the catalogue, applications and grants
    ("GET", "/v1/catalogue"): frozenset(),
    ("GET", "/v1/catalogue/{code}"): frozenset({"NOT_FOUND", "UNKNOWN_RESOURCE"}),
    ("POST", "/v1/catalogue"): DEPARTMENT | {"INVALID_ENTRY", "NOT_YOUR_RESOURCE"},
    ("POST", "/v1/catalogue/{code}/withdraw"): DEPARTMENT
    | {"INVALID_ENTRY", "UNKNOWN_RESOURCE", "NOT_YOUR_RESOURCE"},
    ("POST", "/v1/applications"): DEPARTMENT
    | {
        "UNKNOWN_RESOURCE",
        "INVALID_APPLICATION",
        "INVALID_PURPOSE",
        "UNKNOWN_FIELD",
        "OWN_RESOURCE",
        "NOT_SHAREABLE",
        "KIND_NOT_GRANTABLE",
    },
    ("GET", "/v1/applications"): frozenset(),
    ("GET", "/v1/applications/{application_id}"): frozenset({"UNKNOWN_APPLICATION"}),
    ("POST", "/v1/applications/{application_id}/decision"): DEPARTMENT
    | {
        "UNKNOWN_APPLICATION",
        "NOT_YOUR_DECISION",
        "REASON_REQUIRED",
        "INVALID_DECISION",
        "STEP_CLOSED",
        "UNKNOWN_FIELD",
        "INVALID_PURPOSE",
        "INVALID_APPLICATION",
        "KIND_NOT_GRANTABLE",
    },
    ("GET", "/v1/grants"): frozenset(),
    ("GET", "/v1/grants/{grant_id}"): frozenset({"UNKNOWN_GRANT"}),
    ("POST", "/v1/grants/{grant_id}/{change}"): DEPARTMENT
    | {
        "NOT_FOUND",
        "UNKNOWN_GRANT",
        "GRANT_NOT_ACTIVE",
        "REASON_REQUIRED",
        "NOT_YOUR_DECISION",
        "UNKNOWN_FIELD",
        "INVALID_PURPOSE",
    },
}
# The record kind (an Avro schema's name) of `record` in each operation's answer.
RECORD_KINDS: dict[tuple[str, str], str] = {
    ("GET", "/v1/certificates"): "Certificate",
    ("GET", "/v1/certificates/{cert_id}"): "Certificate",
    ("GET", "/v1/materials"): "Material",
    ("GET", "/v1/cases/{case_no}"): "CaseEvent",
    ("GET", "/v1/credit/{subject_id}"): "CreditEntry",
    ("GET", "/v1/notices/{notice_id}"): "Notice",
    ("POST", "/v1/notices/{notice_id}/claim"): "Notice",
}
PUSHED_KINDS = ("Certificate", "Material", "CaseEvent")  # POST /v1/events/{kind}
FEED_KINDS = ("CaseEvent", "SupervisionAlert", "Notice", "Certificate", "Deletion")
# Path parameters that take one of a few names (any other is 404 NOT_FOUND)
PATH_ENUMS: dict[str, tuple[str, ...]] = {"kind": tuple(EVENT_KINDS), "stream": FEED_STREAMS}
PURPOSE_REQUIRED = {op for op, codes in OPERATION_CODES.items() if "PURPOSE_MISSING" in codes}
# Operations answering with a body too large to buffer: passed through, digest set by the route
STREAMED = {("GET", "/v1/materials/{material_id}/content"), ("GET", "/v1/feeds/{stream}")}


def install(app: FastAPI) -> None:
    """Make `app.openapi()` return the completed document (built once, then kept)."""

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]


def build(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        servers=[{"url": "/", "description": "this gateway: the document's own origin"}],
    )
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    records = record_schemas()
    clashes = set(records) & set(components)
    if clashes:
        raise ValueError(f"record schemas clash with the API's models: {sorted(clashes)}")
    components.update(records)
    components.update(problem_schemas() | feed_schemas(FEED_KINDS) | event_schemas())
    for route in api_routes(app):
        if not route.documented:
            continue
        for method in route.methods:
            operation = doc["paths"][route.path].get(method.lower())
            if operation is not None:
                _describe(operation, route, method, components)
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return doc


@dataclass(frozen=True)
class Operations:
    """One API route of the app as served: its full path template and methods."""

    path: str
    methods: tuple[str, ...]
    documented: bool  # include_in_schema
    route: APIRoute

    @property
    def signed(self) -> bool:
        """Whether the route authenticates its caller (depends on `signed_caller`)."""

        def walk(dependant: Dependant) -> bool:
            return dependant.call is signed_caller or any(walk(d) for d in dependant.dependencies)

        return walk(self.route.dependant)


def api_routes(app: FastAPI) -> list[Operations]:
    """Every `APIRoute` the app serves, routers included, with its full path."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path_format is not None:
            methods: tuple[str, ...] = tuple(
                sorted(getattr(context, "methods", None) or route.methods or ())
            )
            documented = bool(getattr(context, "include_in_schema", route.include_in_schema))
            found.append(Operations(context.path_format, methods, documented, route))
    return found


def operation_codes(method: str, path: str, signed: bool) -> frozenset[str]:
    """The problem codes an operation can answer with."""
    if not signed:
        return ANY_REQUEST
    extra = OPERATION_CODES.get((method, path))
    if extra is None:  # not described yet: whatever a signed operation may give
        return frozenset(KINDS)
    return SIGNED | AUDITED | extra


def _describe(
    operation: dict[str, Any], route: Operations, method: str, components: dict[str, Any]
) -> None:
    op = (method, route.path)
    signed = route.signed
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)
    if op in RECORD_KINDS:
        type_records(responses, RECORD_KINDS[op], components)
    if op == ("GET", "/v1/feeds/{stream}"):
        responses["200"]["content"] = {
            "application/json": {"schema": {"$ref": REF_PREFIX + "FeedPage"}},
            "text/event-stream": {
                "schema": {
                    "type": "string",
                    "description": "Server-Sent Events: `id:` a cursor, `data:` a FeedItem",
                },
            },
        }
    if op == ("GET", "/.well-known/govgate-keys"):
        responses["200"]["content"] = {"application/jwk-set+json": {"schema": JWKS}}
    if op == ("POST", "/v1/events/{kind}"):
        operation["requestBody"] = _json_body(
            {"anyOf": [{"$ref": REF_PREFIX + k} for k in PUSHED_KINDS]},
            "a canonical record of the path's kind (times RFC 3339, dates ISO 8601)",
        )
        responses["202"]["content"] = {
            "application/json": {"schema": {"$ref": REF_PREFIX + "EventAccepted"}}
        }
    if op == ("POST", "/v1/notices/{notice_id}/claim"):
        claim = ClaimIn.model_json_schema(ref_template=REF_PREFIX + "{model}")
        components.setdefault("ClaimIn", claim)
        operation["requestBody"] = _json_body({"$ref": REF_PREFIX + "ClaimIn"}, "认领", False)
    for given, answer in responses.items():
        answer["headers"] = _response_headers(int(given), op in STREAMED)
    for status, codes in sorted(_by_status(operation_codes(*op, signed)).items()):
        responses[str(status)] = {
            "description": "; ".join(f"{c}: {KINDS[c].title}" for c in codes),
            "headers": _response_headers(status, False),
            "content": {PROBLEM_JSON: {"schema": _problem_of(status, codes)}},
        }
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "path" and parameter["name"] in PATH_ENUMS:
            names = list(PATH_ENUMS[parameter["name"]])
            parameter["schema"] = {**parameter["schema"], "enum": names}
    if signed:
        _add_headers(operation, "requestBody" in operation, op in PURPOSE_REQUIRED)


def _by_status(codes: Iterable[str]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for code in sorted(codes):
        found.setdefault(KINDS[code].status, []).append(code)
    return found


def _problem_of(status: int, codes: list[str]) -> dict[str, Any]:
    return {
        "allOf": [{"$ref": REF_PREFIX + "Problem"}],
        "properties": {"status": {"const": status}, "code": {"enum": codes}},
    }


def _response_headers(status: int, streamed: bool) -> dict[str, Any]:
    headers: dict[str, Any] = {
        name: {**spec, "required": name != "Content-Digest" or not streamed}
        for name, spec in RESPONSE_HEADERS.items()
    }
    if status in (429, 503):
        headers["Retry-After"] = RETRY_AFTER
    return headers


def _add_headers(operation: dict[str, Any], has_body: bool, purpose: bool) -> None:
    parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
    present = {p["name"].lower() for p in parameters if p.get("in") == "header"}
    required = {"Signature-Input", "Signature"} | ({"Content-Digest"} if has_body else set())
    if purpose:
        required.add("Gov-Purpose")
    for name, spec in REQUEST_HEADERS.items():
        if name == "Content-Digest" and not has_body or name.lower() in present:
            continue
        parameters.append({"name": name, "in": "header", "required": name in required, **spec})


def _json_body(schema: dict[str, Any], description: str, required: bool = True) -> dict[str, Any]:
    return {
        "required": required,
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
