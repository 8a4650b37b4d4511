"""JWK helpers (RFC 7517, RFC 7638): base64url and the thumbprint govgate uses as key id.

A key id is the RFC 7638 thumbprint: SHA-256 over the JSON object of the key's required
members only, keys sorted, no whitespace, base64url without padding. `gateway.members.keys`
computes it so for Ed25519 (`OKP`) and P-256 (`EC`) keys; `thumbprint` is the same computation
over any JWK, so an SM2 key (`{"crv": "SM2", "kty": "EC", "x": …, "y": …}`) gets its id the
same way. SHA-256 rather than SM3 keeps one key-id scheme for every algorithm: the id names a
key, the signature (SM2 with SM3) is what protects the message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping

from gateway.crypto.errors import KeyFormatError

REQUIRED_MEMBERS = {  # RFC 7638 §3.2 and RFC 8037 §2
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
    "RSA": ("e", "kty", "n"),
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, size: int | None = None) -> bytes:
    """Strict base64url without padding (RFC 7515 §2); exactly `size` bytes when given."""
    if not text or "=" in text or len(text) % 4 == 1:
        raise KeyFormatError("JWK: not unpadded base64url")
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyFormatError(f"JWK: bad base64url: {exc}") from exc
    if b64url(data) != text:  # unused low bits set: another text for the same bytes
        raise KeyFormatError("JWK: base64url not in canonical form")
    if size is not None and len(data) != size:
        raise KeyFormatError(f"JWK: expected {size} bytes, got {len(data)}")
    return data


def thumbprint(jwk: Mapping[str, object]) -> str:
    """The RFC 7638 SHA-256 thumbprint of `jwk`, base64url: govgate's key id."""
    required = REQUIRED_MEMBERS.get(str(jwk.get("kty")))
    if required is None:
        raise KeyFormatError(f"JWK: no thumbprint rule for kty={jwk.get('kty')!r}")
    try:
        members = {name: jwk[name] for name in required}
    except KeyError as exc:
        raise KeyFormatError(f"JWK: missing required member {exc}") from exc
    if not all(isinstance(value, str) for value in members.values()):
        raise KeyFormatError("JWK: required members must be strings")
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode("utf-8")).digest())
