"""Authentication: the `signed_caller` dependency turns a signed request into its `Caller`.

The signature is checked by `gateway.signatures` (RFC 9421, RFC 9530 Content-Digest) against
the URL as received (the raw path and query, not Starlette's decoded view) under the gateway's
authority (`@authority`: `gateway.public_url` when set, else the request's Host), the members'
keys, and the shared nonce store. Covering `@authority` binds a request to the gateway it was
meant for: a copy replayed to another gateway that knows the same member key is refused.
What the caller may then see is `gateway.api.policy`'s affair.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

from fastapi import Depends, Request

from gateway.api.caller import Caller
from gateway.api.exchange import exchange_of
from gateway.api.policy import require_role
from gateway.api.problems import InvalidInput
from gateway.api.services import services
from gateway.members.store import Role
from gateway.signatures import verify_request
from gateway.signatures.errors import SignatureInvalid

_ITEM_CODE = re.compile(r"[A-Za-z0-9._-]{1,64}")  # 事项编码 (Gov-Purpose)
_CASE_NO = re.compile(r"[A-Za-z0-9._-]{1,64}")  # 办件编号 (Gov-Case)


_HOST = re.compile(r"(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?")
NO_AUTHORITY = "invalid.invalid"  # a Host that no signature can have covered


def request_url(scope: Mapping[str, Any], public_url: str | None = None) -> str:
    """The URL as the client meant it, which the signature covers: the gateway's public
    scheme and authority (`gateway.public_url`, behind a proxy) or else those of the request
    (its Host header), then the raw path and raw query as received."""
    raw = scope.get("raw_path") or scope["path"].encode("utf-8")
    query = scope.get("query_string", b"")
    path = raw.decode("latin-1")
    if public_url is not None:
        origin = public_url
    else:
        host = next((v for k, v in scope.get("headers", ()) if k == b"host"), b"").decode("latin-1")
        origin = (
            f"{scope.get('scheme', 'http')}://{host if _HOST.fullmatch(host) else NO_AUTHORITY}"
        )
    return f"{origin}{path}" + (f"?{query.decode('latin-1')}" if query else "")


def _header(request: Request, name: str, pattern: re.Pattern[str]) -> str | None:
    value = request.headers.get(name)
    if value is None:
        return None
    if not pattern.fullmatch(value.strip()):
        raise InvalidInput(f"{name}: 1-64 letters, digits, '.', '_' or '-'")
    return value.strip()


async def signed_caller(request: Request) -> Caller:
    """Verify the request's signature and return who signed it; a `SignatureError` if not."""
    svc = services(request)
    exchange = exchange_of(request.scope)
    exchange.purpose = request.headers.get("gov-purpose")  # as sent, for the audit row
    exchange.case_no = request.headers.get("gov-case")
    purpose = _header(request, "gov-purpose", _ITEM_CODE)
    case_no = _header(request, "gov-case", _CASE_NO)
    body = await request.body()  # already read, and size-limited, by gateway.api.audit_and_sign
    settings = svc.settings.gateway
    verified = await verify_request(
        request.method,
        request_url(request.scope, settings.public_url),
        request.headers,
        body,
        lookup=svc.member_cache.known_key,
        nonces=svc.nonces.use,
        max_age=settings.max_signature_age_s,
        clock_skew=settings.clock_skew_s,
        algorithms=settings.algorithms,  # an SM-only gateway: sm2-sm3 signatures, sm3 digests
    )
    if verified.owner is None:  # every member key has an owner; a lookup without one is a bug
        raise SignatureInvalid("the key has no member")
    member = await svc.member_cache.member(verified.owner)
    grants = await svc.member_cache.grants(member.member_id)
    exchange.member_id, exchange.keyid = member.member_id, verified.keyid
    return Caller(member, verified.keyid, member.roles, grants, purpose, case_no)


CallerDep = Annotated[Caller, Depends(signed_caller)]


def with_role(*roles: Role) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency: the signed caller, refused with ROLE_REQUIRED unless it has one of `roles`."""

    async def dependency(caller: CallerDep) -> Caller:
        require_role(caller, *roles)
        return caller

    return dependency


ConsumerDep = Annotated[Caller, Depends(with_role("consumer"))]
PublisherDep = Annotated[Caller, Depends(with_role("publisher"))]
AuditorDep = Annotated[Caller, Depends(with_role("auditor"))]
CaseReaderDep = Annotated[Caller, Depends(with_role("consumer", "subscriber"))]
