"""Key ids: the RFC 7638 thumbprint, computed for SM2 exactly as gateway.members.keys does for
Ed25519 and P-256, and strict base64url."""

from __future__ import annotations

import pytest

from gateway.crypto.errors import KeyFormatError
from gateway.crypto.jwk import b64url, b64url_decode, thumbprint
from gateway.crypto.sm2 import SM2PrivateKey
from gateway.members.keys import generate_private_key, key_id, public_jwk

# RFC 7638 §3.1: the RSA key of RFC 7517 Appendix A.1 and its published thumbprint
RFC7638_JWK = {
    "kty": "RSA",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_B"
    "JECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_F"
    "DW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4"
    "vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    "e": "AQAB",
    "alg": "RS256",
    "kid": "2011-04-29",
}


def test_rfc7638_example() -> None:
    assert thumbprint(RFC7638_JWK) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


@pytest.mark.parametrize("alg", ["ed25519", "ecdsa-p256-sha256"])
def test_same_computation_as_the_members_key_ids(alg: str) -> None:
    key = generate_private_key(alg)  # type: ignore[arg-type]
    assert thumbprint(public_jwk(key)) == key_id(key)


def test_sm2_key_id_ignores_optional_members() -> None:
    public = SM2PrivateKey.generate().public_key()
    decorated = {**public.public_jwk(), "kid": "x", "alg": "SM2SM3", "use": "sig"}
    assert thumbprint(decorated) == public.key_id() == thumbprint(public.public_jwk())


@pytest.mark.parametrize(
    "jwk", [{"kty": "oct", "k": "AA"}, {"kty": "EC", "crv": "SM2", "x": "AA"}, {"crv": "SM2"}]
)
def test_thumbprint_needs_the_required_members(jwk: dict[str, str]) -> None:
    with pytest.raises(KeyFormatError):
        thumbprint(jwk)


def test_base64url_is_strict() -> None:
    assert b64url_decode(b64url(b"\xff\xfe"), 2) == b"\xff\xfe"
    for text in ["", "//8", "__8=", "A", "__9", "_ _8"]:  # std alphabet, padding, bad bits
        with pytest.raises(KeyFormatError):
            b64url_decode(text)
    with pytest.raises(KeyFormatError):
        b64url_decode(b64url(b"abc"), 4)
