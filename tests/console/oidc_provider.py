"""A small, real OpenID Connect provider for the tests: discovery, JWKS, the authorization
endpoint (it signs in whoever the test says, at once) and the token endpoint (client secret,
PKCE S256), issuing id tokens signed RS256 with a real key. Not a mock of Authlib: the
console's client talks to it over HTTP like it would to the province's."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "govgate-console"
CLIENT_SECRET = "console-client-secret-0123456789"


@dataclass
class Provider:
    issuer: str = ""
    key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
    )
    user: dict[str, Any] = field(default_factory=dict)  # the claims of who signs in next
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tamper: str | None = None  # "key": sign with another key; "nonce": a wrong nonce; "aud"

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
            ]
        )

    async def discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != CLIENT_ID or q.get("response_type") != "code":
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return JSONResponse({"error": "invalid_request", "detail": "PKCE"}, status_code=400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "redirect_uri": q["redirect_uri"],
            "nonce": q.get("nonce"),
            "challenge": q["code_challenge"],
            "claims": dict(self.user),
        }
        target = (
            f"{q['redirect_uri']}?{urllib.parse.urlencode({'code': code, 'state': q['state']})}"
        )
        return RedirectResponse(target, status_code=302)

    async def token(self, request: Request) -> Response:
        form = await request.form()
        basic = request.headers.get("authorization", "")
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if basic != f"Basic {expected}":
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self.codes.pop(str(form.get("code")), None)
        if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        verifier = str(form.get("code_verifier", "")).encode()
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
        if challenge.decode() != grant["challenge"]:
            return JSONResponse({"error": "invalid_grant", "detail": "PKCE"}, status_code=400)
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": "someone-else" if self.tamper == "aud" else CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": "not-the-nonce" if self.tamper == "nonce" else grant["nonce"],
            **grant["claims"],
        }
        key = self.key
        if self.tamper == "key":
            key = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }  # fmt: skip
        )
