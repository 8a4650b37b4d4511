"""Refusals and their RFC 9457 problem details (`application/problem+json`).

Policy and input checks raise `Refusal`s that carry only a stable `code`; this module alone
turns them, and the errors of every other package (all `GovgateError`s: signatures, audit,
stores, log, feeds, webhooks), into HTTP statuses. A refusal says what the caller is
missing, never whether the data exists: the detail of a refusal is written here from its
code, not from what the check found.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.api.exchange import exchange_of
from schemas.errors import GovgateError

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://govgate.example/problems/"


class Refusal(GovgateError):
    """A request the gateway will not answer with data; `code` is stable and documented."""

    code = "REFUSED"

    def __init__(self, detail: str = "", errors: list[dict[str, str]] | None = None):
        super().__init__(detail)
        self.errors = errors


class InvalidInput(Refusal):
    code = "INVALID_INPUT"


class BodyTooLarge(Refusal):
    code = "BODY_TOO_LARGE"


class InvalidEvent(Refusal):
    """A pushed record that fails its schema or identifier checks; `errors` lists each field."""

    code = "INVALID_EVENT"


class PurposeMissing(Refusal):
    code = "PURPOSE_MISSING"


class PurposeNotGranted(Refusal):
    code = "PURPOSE_NOT_GRANTED"


class TypeNotGranted(Refusal):
    code = "TYPE_NOT_GRANTED"


class RoleRequired(Refusal):
    code = "ROLE_REQUIRED"


class NotShared(Refusal):
    code = "NOT_SHARED"


class NotFound(Refusal):
    code = "NOT_FOUND"


class CaseRequired(Refusal):
    """A 有条件共享 record asked for without `Gov-Case` (purpose binding)."""

    code = "CASE_REQUIRED"


class CaseMismatch(Refusal):
    """The case of `Gov-Case` is of another item than `Gov-Purpose`, or of another holder."""

    code = "CASE_MISMATCH"


class TooMany(Refusal):
    code = "TOO_MANY"


class NotReusable(Refusal):
    """A material of another case that its department did not mark reusable."""

    code = "NOT_REUSABLE"


class MaterialExpired(Refusal):
    """A material of another case whose validity has ended."""

    code = "MATERIAL_EXPIRED"


@dataclass(frozen=True)
class _Kind:
    status: int
    title: str
    detail: str


# The only place where codes meet HTTP statuses. Details are fixed texts: they must not vary
# with what a lookup found.
KINDS: dict[str, _Kind] = {
    "SIGNATURE_MISSING": _Kind(401, "Signature missing", "Sign the request (RFC 9421)."),
    "SIGNATURE_INVALID": _Kind(401, "Signature invalid", "The signature does not verify."),
    "COMPONENT_MISSING": _Kind(
        401, "Signature incomplete", "The signature must cover the required components."
    ),
    "KEY_UNKNOWN": _Kind(401, "Key unknown", "No member key has this key id."),
    "KEY_REVOKED": _Kind(401, "Key revoked", "This key may not sign now."),
    "SIGNATURE_EXPIRED": _Kind(401, "Signature expired", "Sign the request anew."),
    "NONCE_REPLAYED": _Kind(401, "Nonce replayed", "Every request needs a fresh nonce."),
    "DIGEST_MISMATCH": _Kind(400, "Digest mismatch", "The body does not match Content-Digest."),
    "ALGORITHM_NOT_ALLOWED": _Kind(
        401, "Algorithm not allowed", "This gateway does not accept keys of this algorithm."
    ),
    "DIGEST_NOT_ALLOWED": _Kind(
        400, "Digest not allowed", "Use a Content-Digest algorithm this gateway accepts."
    ),
    "PURPOSE_MISSING": _Kind(
        400, "Purpose missing", "Name the item (事项编码) served in Gov-Purpose."
    ),
    "PURPOSE_NOT_GRANTED": _Kind(
        403, "Purpose not granted", "Your member has no grant for this purpose."
    ),
    "TYPE_NOT_GRANTED": _Kind(
        403,
        "Type not granted",
        "Your member has no grant for this certificate type or material catalog.",
    ),
    "ROLE_REQUIRED": _Kind(403, "Role required", "Your member lacks the role this needs."),
    "CASE_REQUIRED": _Kind(
        400, "Case required", "有条件共享 data is served for a case: name it in Gov-Case."
    ),
    "CASE_MISMATCH": _Kind(
        403,
        "Case mismatch",
        "The case in Gov-Case is not one of the purpose's item, or not of this holder.",
    ),
    "PUBLISH_NOT_REGISTERED": _Kind(
        403,
        "Not registered to publish this",
        "Your member is not registered for this record kind, code and source system.",
    ),
    "FUTURE_TIME": _Kind(400, "Time in the future", "A provenance time is later than now."),
    "SOURCE_MISMATCH": _Kind(
        409, "Source mismatch", "The record belongs to another source system; it is not replaced."
    ),
    "EVENT_ID_CONFLICT": _Kind(
        409, "Event id conflict", "This event id was published before with other content."
    ),
    "INVALID_SCOPE": _Kind(400, "Invalid scope", "The publish scope is malformed."),
    "NOT_SHARED": _Kind(403, "Not shared", "This record is not shared (不予共享)."),
    "NOT_FOUND": _Kind(404, "Not found", "Nothing here that you may see."),
    "TARGET_NOT_ALLOWED": _Kind(
        403, "Target not allowed", "The gateway may not post to this host; ask its operator."
    ),
    "TOO_MANY": _Kind(409, "Too many", "Your member has as many as it may have; delete one."),
    "ALREADY_CLAIMED": _Kind(409, "Already claimed", "This notice has been claimed (认领)."),
    "TOO_MANY_STREAMS": _Kind(
        429, "Too many streams", "As many event streams are open as allowed; retry later."
    ),
    "METHOD_NOT_ALLOWED": _Kind(405, "Method not allowed", "Use another method."),
    "NOT_REUSABLE": _Kind(
        403, "Not reusable", "This material belongs to its own case and is not offered for reuse."
    ),
    "MATERIAL_EXPIRED": _Kind(
        403, "Material expired", "This material's validity has ended; ask the applicant anew."
    ),
    "CONTENT_MISSING": _Kind(
        410, "Content gone", "The material's file is not in the file store; it has been logged."
    ),
    "CONTENT_CORRUPTED": _Kind(
        502,
        "Content corrupted",
        "The stored file does not match the material's SHA-256; it is set aside, not served.",
    ),
    "FILE_STORE_UNAVAILABLE": _Kind(503, "File store unavailable", "Try again shortly."),
    "INVALID_INPUT": _Kind(400, "Invalid input", "The request is malformed."),
    # governance (gateway.catalogue, gateway.governance): each detail names the field
    "INVALID_ENTRY": _Kind(400, "Invalid catalogue entry", "The entry does not hold together."),
    "UNKNOWN_RESOURCE": _Kind(400, "Unknown resource", "No such resource in the catalogue."),
    "NOT_YOUR_RESOURCE": _Kind(
        403, "Not your resource", "A department publishes only its own resources."
    ),
    "INVALID_APPLICATION": _Kind(400, "Invalid application", "The application is malformed."),
    "INVALID_PURPOSE": _Kind(400, "Invalid purpose", "A purpose is not an item code (事项编码)."),
    "UNKNOWN_FIELD": _Kind(400, "Unknown field", "The resource has no such field."),
    "OWN_RESOURCE": _Kind(400, "Own resource", "A department does not apply for its own data."),
    "NOT_SHAREABLE": _Kind(403, "Not shareable", "This resource is 不予共享 (NOT_SHARED)."),
    "NOT_YOUR_DECISION": _Kind(
        403, "Not your decision", "This step belongs to another department."
    ),
    "DEPARTMENT_REQUIRED": _Kind(403, "Department required", "Your member has no department."),
    "REASON_REQUIRED": _Kind(400, "Reason required", "Give the reason (理由)."),
    "INVALID_DECISION": _Kind(400, "Invalid decision", "The decision does not fit the step."),
    "STEP_CLOSED": _Kind(409, "Step closed", "This application is not waiting for that."),
    "UNKNOWN_APPLICATION": _Kind(404, "Unknown application", "No application you may see."),
    "UNKNOWN_GRANT": _Kind(404, "Unknown grant", "No grant you may see has this id."),
    "GRANT_NOT_ACTIVE": _Kind(409, "Grant not active", "The grant's state does not allow it."),
    "KIND_NOT_GRANTABLE": _Kind(
        400, "Kind not grantable", "Resources of this kind cannot be granted yet."
    ),
    "BODY_TOO_LARGE": _Kind(413, "Body too large", "The body exceeds the size limit."),
    "INVALID_EVENT": _Kind(422, "Invalid event", "The record fails its schema or checks."),
    "AUDIT_UNAVAILABLE": _Kind(
        503, "Audit unavailable", "The request could not be audited; try again."
    ),
    "STORE_UNAVAILABLE": _Kind(503, "Store unavailable", "Try again shortly."),
    "LOG_UNAVAILABLE": _Kind(503, "Log unavailable", "Try again shortly."),
    "INTERNAL_ERROR": _Kind(500, "Internal error", "The gateway failed; it has been logged."),
}


def problem_body(code: str, detail: str | None = None, **extra: Any) -> tuple[int, dict[str, Any]]:
    """The status and RFC 9457 body for `code`."""
    kind = KINDS.get(code, KINDS["INTERNAL_ERROR"])
    body: dict[str, Any] = {
        "type": TYPE_BASE + code.lower().replace("_", "-"),
        "title": kind.title,
        "status": kind.status,
        "detail": detail or kind.detail,
        "code": code,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return kind.status, body


def problem(
    request: Request | None, code: str, detail: str | None = None, **extra: Any
) -> JSONResponse:
    """A problem+json response; notes the code on the request's exchange for the audit row."""
    if request is not None:
        exchange_of(request.scope).code = code
    status, body = problem_body(code, detail, **extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


async def _error(request: Request, exc: Exception) -> JSONResponse:
    """Any package's error, by its stable code.

    A retriable error (a store, the log, the audit away) is answered with its code's fixed
    text: its detail speaks of drivers and hosts. The caller's own mistakes (a refusal, a
    signature, a cursor, a webhook target) keep their detail, which names the field and value
    (a signature's may name the nonce or key: useful to the signer, harmless to others). An
    error whose code has no status here is the gateway's own failure: logged, answered 500.
    """
    assert isinstance(exc, GovgateError)
    kind = KINDS.get(exc.code)
    if exc.code == "CONTENT_CORRUPTED" or exc.code == "CONTENT_MISSING":
        logger.error("%s %s: %s", request.method, request.url.path, exc)
        return problem(request, exc.code)  # the fixed text: the detail names the store
    if kind is None or (kind.status >= 500 and not exc.retriable):
        logger.error("%s %s failed: %r", request.method, request.url.path, exc)
        return problem(request, "INTERNAL_ERROR")
    if exc.retriable:
        answer = problem(request, exc.code)
        retry_after = getattr(exc, "retry_after_s", None)
        if isinstance(retry_after, int):
            answer.headers["Retry-After"] = str(retry_after)
        return answer
    errors = getattr(exc, "errors", None)
    return problem(
        request, exc.code, exc.detail, errors=errors if isinstance(errors, list) else None
    )


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "BODY_TOO_LARGE"}.get(
        exc.status_code, "INVALID_INPUT"
    )
    return problem(request, code)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg", ""))}
        for e in exc.errors()
    ]
    return problem(request, "INVALID_INPUT", errors=errors)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem details."""
    app.add_exception_handler(GovgateError, _error)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(RequestValidationError, _validation)
