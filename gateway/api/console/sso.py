"""Single sign-on through OpenID Connect (the province's 统一身份认证), with Authlib.

The authorization code flow with PKCE: /console/sso/start sends the person to the provider
with a fresh `state`, `nonce` and code verifier, kept in a short-lived cookie of their own
(nothing is stored for someone who has not signed in); /console/sso/callback checks `state`,
exchanges the code (client secret, the verifier), and checks the id token: signature by the
provider's published keys (JWKS), issuer, audience, expiry, nonce (Authlib's `CodeIDToken`
over joserfc). The role comes from `console.oidc_role_claim` through `console.oidc_role_map`,
an officer's department from `console.oidc_department_claim`; a claim that maps to no role
is refused. The account is made at the first sign-in and follows the provider's claims after.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.parse
from typing import Any, cast

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oidc.core import CodeIDToken
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, KeySetSerialization
from joserfc.jws import JWSRegistry

from gateway.api.console.auth import safe_next
from gateway.api.console.state import ConsoleState, console_state
from gateway.api.console.templating import render
from gateway.people.accounts import USERNAME, Account
from gateway.people.errors import PeopleError
from gateway.people.person import ROLES, Person
from gateway.settings import ConsoleSettings
from schemas.errors import GovgateError

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
START, CALLBACK = "/console/sso/start", "/console/sso/callback"
FLOW_COOKIE = "govgate_console_sso"
FLOW_S = 600  # a sign-in at the provider must be finished within this
METADATA_S = 300  # the provider's metadata and keys are read again after this
_cache: dict[str, tuple[float, dict[str, Any]]] = {}


class SsoRefused(GovgateError):
    """The provider's answer does not sign anyone in (`detail` says why, for the log)."""

    code = "SSO_REFUSED"


async def _json(url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.get(url)
        answer.raise_for_status()
        found = answer.json()
    if not isinstance(found, dict):
        raise SsoRefused(f"{url} did not answer a JSON object")
    return found


async def _cached(url: str, *, force: bool = False) -> dict[str, Any]:
    kept = _cache.get(url)
    if kept is None or force or time.monotonic() - kept[0] > METADATA_S:
        kept = (time.monotonic(), await _json(url))
        _cache[url] = kept
    return kept[1]


async def metadata(settings: ConsoleSettings) -> dict[str, Any]:
    issuer = (settings.oidc_issuer or "").rstrip("/")
    found = await _cached(f"{issuer}/.well-known/openid-configuration")
    if str(found.get("issuer", "")).rstrip("/") != issuer:
        raise SsoRefused(f"the provider's metadata names issuer {found.get('issuer')!r}")
    return found


def _client(settings: ConsoleSettings, redirect_uri: str) -> AsyncOAuth2Client:
    secret = settings.oidc_client_secret
    return AsyncOAuth2Client(
        client_id=settings.oidc_client_id,
        client_secret=secret.get_secret_value() if secret else None,
        scope=settings.oidc_scopes,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=10,
    )


def _redirect_uri(request: Request, state: ConsoleState) -> str:
    base = state.services.settings.gateway.public_url
    if base is None:
        base = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
    return f"{base}{CALLBACK}"


@router.get(START)
async def start(request: Request, next: str | None = None) -> Response:
    state = console_state(request)
    if not state.settings.oidc_enabled:
        return Response(status_code=404)
    try:
        found = await metadata(state.settings)
    except (httpx.HTTPError, ValueError, SsoRefused) as exc:
        logger.warning("single sign-on: the provider's metadata: %r", exc)
        return _failed(request, "统一身份认证服务暂不可用，请稍后再试或使用账号密码登录。", 503)
    flow = {
        "state": secrets.token_urlsafe(24),
        "nonce": secrets.token_urlsafe(24),
        "verifier": secrets.token_urlsafe(48),
        "next": safe_next(next),
    }
    async with _client(state.settings, _redirect_uri(request, state)) as client:
        url, _ = client.create_authorization_url(
            found["authorization_endpoint"],
            state=flow["state"],
            nonce=flow["nonce"],
            code_verifier=flow["verifier"],
        )
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        FLOW_COOKIE,
        urllib.parse.quote(json.dumps(flow)),
        max_age=FLOW_S,
        path="/console/sso",
        httponly=True,
        samesite="lax",  # it must come back with the provider's top-level redirect
        secure=state.secure_cookies,
    )
    return response


@router.get(CALLBACK)
async def callback(
    request: Request, code: str = "", state: str = "", error: str | None = None
) -> Response:
    from gateway.api.console.signin import start_session  # (signin imports this module)

    console = console_state(request)
    if not console.settings.oidc_enabled:
        return Response(status_code=404)
    flow = _flow(request)
    if error or not code or flow is None or not hmac.compare_digest(state, flow["state"]):
        console.services.refusals.count("CONSOLE_SSO_REFUSED", 401)
        return _failed(request, "统一身份认证未完成或已失效，请重新登录。", 401)
    try:
        claims = await _id_token(request, console, code, flow)
        person = await _person(console, claims)
    except (httpx.HTTPError, JoseError, SsoRefused, PeopleError, ValueError, KeyError) as exc:
        logger.warning("single sign-on refused: %r", exc)
        console.services.refusals.count("CONSOLE_SSO_REFUSED", 401)
        return _failed(request, "统一身份认证未能确认您的身份或角色，请联系运维。", 401)
    response = await start_session(request, person, flow["next"], how="oidc")
    response.delete_cookie(FLOW_COOKIE, path="/console/sso")
    return response


def _flow(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLOW_COOKIE)
    if not raw or len(raw) > 2048:
        return None
    try:
        found = json.loads(urllib.parse.unquote(raw))
    except ValueError:
        return None
    keys = {"state", "nonce", "verifier", "next"}
    if not isinstance(found, dict) or set(found) != keys:
        return None
    if not all(isinstance(v, str) for v in found.values()):
        return None
    return found


async def _id_token(
    request: Request, console: ConsoleState, code: str, flow: dict[str, str]
) -> dict[str, Any]:
    """The id token's claims, once its signature, issuer, audience, times and nonce hold."""
    settings = console.settings
    found = await metadata(settings)
    async with _client(settings, _redirect_uri(request, console)) as client:
        token = await client.fetch_token(
            found["token_endpoint"],
            grant_type="authorization_code",
            code=code,
            code_verifier=flow["verifier"],
        )
    if "id_token" not in token:
        raise SsoRefused("the token answer has no id_token")
    algorithms = found.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [a for a in algorithms if a != "none"]
    registry = JWSRegistry(algorithms=algorithms)
    keys = _key_set(await _cached(found["jwks_uri"]))
    try:
        decoded = jwt.decode(token["id_token"], keys, registry=registry)
    except JoseError:  # perhaps a key rolled over since: read the keys once more
        keys = _key_set(await _cached(found["jwks_uri"], force=True))
        decoded = jwt.decode(token["id_token"], keys, registry=registry)
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        {"iss": {"essential": True, "values": [found["issuer"]]}},
        {
            "nonce": flow["nonce"],
            "client_id": settings.oidc_client_id,
            "access_token": token.get("access_token"),
        },
    )
    claims.validate(leeway=60)
    return dict(claims)


def _key_set(jwks: dict[str, Any]) -> KeySet:
    if not isinstance(jwks.get("keys"), list):
        raise SsoRefused("the provider's JWKS has no keys")
    return KeySet.import_key_set(cast(KeySetSerialization, jwks))


async def _person(console: ConsoleState, claims: dict[str, Any]) -> Person:
    """The account of the id token's subject (made at the first sign-in), with the role and
    department its claims give now."""
    settings = console.settings
    subject = f"{claims['iss']}#{claims['sub']}"[:255]
    role = _role(settings, claims.get(settings.oidc_role_claim))
    department = claims.get(settings.oidc_department_claim) if role == "officer" else None
    shown = str(claims.get("name") or claims.get("preferred_username") or claims["sub"])[:100]
    account = await console.people.by_sso_subject(subject)
    if account is None:
        account = await console.people.add(
            await _free_username(console, claims, subject),
            shown,
            role,
            department_code=str(department) if department else None,
            sso_subject=subject,
        )
    elif account.disabled:
        raise SsoRefused(f"the account {account.username!r} is disabled")
    else:
        account = await console.people.update_sso(
            account.username, shown, role, str(department) if department else None
        )
    return _checked(account)


def _checked(account: Account) -> Person:
    if account.disabled:
        raise SsoRefused(f"the account {account.username!r} is disabled")
    return account.person()


def _role(settings: ConsoleSettings, value: Any) -> str:
    values = value if isinstance(value, list) else [value]
    for item in values:
        text = str(item) if item is not None else ""
        role = settings.oidc_role_map.get(text) if settings.oidc_role_map else text
        if role in ROLES:
            return role
    raise SsoRefused(f"claim {settings.oidc_role_claim}={value!r} maps to no console role")


async def _free_username(console: ConsoleState, claims: dict[str, Any], subject: str) -> str:
    wanted = str(claims.get("preferred_username") or "").strip().lower()
    if USERNAME.fullmatch(wanted) and await console.people.get(wanted) is None:
        return wanted
    return "sso." + hashlib.sha256(subject.encode()).hexdigest()[:16]


def _failed(request: Request, message: str, status: int) -> Response:
    return render(request, "sso_failed.html", person=None, status_code=status, message=message)
