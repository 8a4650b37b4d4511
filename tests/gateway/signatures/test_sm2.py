"""`sm2-sm3` in HTTP message signatures: the interoperability vector, the strict encoding, and
signatures that cross implementations both ways over real signature bases.

The vector is the README's (GB/T 32918.5-2017 Appendix A); the other implementation is Tongsuo
(`tongsuopy`, test-only), which takes and gives DER signatures, so r || s is converted with
`gateway.crypto.sm2_asn1`. The bases are the ones govgate builds for its own requests and
responses, and the ones the `http-message-signatures` package builds for another client.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from http_message_signatures import HTTPMessageSigner
from http_message_signatures.exceptions import InvalidSignature
from tongsuopy.crypto import serialization as ts

from gateway.crypto.sm2 import SM2PublicKey
from gateway.crypto.sm2_asn1 import N, der_to_raw, raw_to_der
from gateway.members.keys import (
    generate_private_key,
    key_id,
    load_private_key,
    load_public_key,
    public_key_pem,
)
from gateway.signatures import KnownKey, sign_request, sign_response, verify_request
from gateway.signatures import base as fast
from gateway.signatures.algorithms import SM2_SM3, one_key
from gateway.signatures.digests import content_digest, digest_class
from gateway.signatures.errors import SignatureError
from tests.gateway.crypto.others import (
    gmalg_sign,
    tongsuo_generate,
    tongsuo_sign,
    tongsuo_verify,
)
from tests.gateway.crypto.vectors import PART5

README = Path(__file__).resolve().parents[3] / "README.md"
URL = "http://gateway/v1/certificates?holder_id=%E5%BC%A0%E4%B8%89&type_code=YYZZ"
PURPOSE = "11330802002493025K3330111703000"
CREATED = 1_800_000_000
_SPKI = (serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def raw(r: int, s: int) -> bytes:
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


# --- the interoperability vector ---------------------------------------------------------------


def test_the_part5_vector_verifies_as_sm2_sm3() -> None:
    """GB/T 32918.5 Appendix A: the key, M = "message digest", ID_A = 1234567812345678."""
    algorithm = SM2_SM3(public_key=SM2PublicKey(PART5.xy))
    algorithm.verify(raw(PART5.r, PART5.s), b"message digest")
    with pytest.raises(InvalidSignature):
        algorithm.verify(raw(PART5.r, PART5.s), b"message digesT")
    with pytest.raises(InvalidSignature):
        algorithm.verify(raw(PART5.r, PART5.s ^ 1), b"message digest")


def test_the_readme_documents_the_vector_as_the_tests_check_it() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### `sm2-sm3`") :]
    for value in (PART5.d, PART5.x, PART5.y, PART5.r, PART5.s):
        assert f"{value:064X}" in section
    assert PART5.e.hex().upper() in section and PART5.z_a.hex().upper() in section


# The README's request signed by the Part 5 key with the standard's k (gmalg can fix k).
HTTP_VECTOR = {
    "Gov-Purpose": "11330802002493025K3330111703000",
    "Signature-Input": 'govgate=("@method" "@authority" "@path" "@query" "gov-purpose")'
    ";created=1732345678"
    ';keyid="lgVsnVqdKsFLJ2q4y2l6gACWaCOEQcWQb1t30j4Q6fU";alg="sm2-sm3"'
    ';nonce="Vh3mJ0b0QX2s1nq9yq3d2Wf1"',
    "Signature": "govgate=:lDPXr2W8pUDc3glXSc6l5lzWrRY+WnAV2/XhgLb44uO3e9vG9nM1nMt/BJAEIYL7hiblTO"
    "1UNtBOwh/3VqBMag==:",
}
HTTP_VECTOR_URL = "http://gateway/v1/certificates?holder_id=91330802MA2D4K7X09&type_code=YYZZ"
HTTP_VECTOR_E = "8F47DB3DD72F8DA87AD9D730BB56A7301B787E38305334068C91D2B388E44870"


async def test_the_readmes_http_vector_is_exact_and_verifies() -> None:
    public = SM2PublicKey(PART5.xy)
    assert public.key_id() == "lgVsnVqdKsFLJ2q4y2l6gACWaCOEQcWQb1t30j4Q6fU"
    fields = fast.field_lines(HTTP_VECTOR)
    base, signature = _base_of(fields, fast.Message("GET", HTTP_VECTOR_URL, fields))
    assert public.digest(base).hex().upper() == HTTP_VECTOR_E
    user_id = b"1234567812345678"
    assert gmalg_sign(PART5.d, PART5.xy, base, user_id, k=PART5.k) == signature  # r, s exact
    known = KnownKey(public.key_id(), "sm2-sm3", public, "vector")

    async def lookup(keyid: str) -> KnownKey | None:
        return known if keyid == known.keyid else None

    verified = await verify_request(
        "GET", HTTP_VECTOR_URL, HTTP_VECTOR, lookup=lookup, now=1732345678 + 5
    )
    assert verified.keyid == public.key_id()
    assert tongsuo_verify(public.public_bytes(*_SPKI), raw_to_der(signature), base)
    section = README.read_text(encoding="utf-8")
    for text in (*HTTP_VECTOR.values(), HTTP_VECTOR_E, signature.hex().upper()[:64]):
        assert text in section
    assert signature.hex().upper()[64:] in section


@pytest.mark.parametrize(
    "signature",
    [
        raw(PART5.r, PART5.s)[:63],  # 63 bytes
        raw(PART5.r, PART5.s) + b"\x00",  # 65 bytes
        raw_to_der(raw(PART5.r, PART5.s)),  # DER is not the HTTP encoding
        raw(0, PART5.s),  # r, s must lie in [1, n-1]
        raw(PART5.r, N),
        raw(N, PART5.s),
    ],
)
def test_anything_but_64_bytes_with_r_s_in_range_is_refused(signature: bytes) -> None:
    with pytest.raises(InvalidSignature):
        SM2_SM3(public_key=SM2PublicKey(PART5.xy)).verify(signature, b"message digest")


async def test_a_request_with_a_malformed_sm2_signature_is_refused() -> None:
    key = generate_private_key("sm2-sm3")
    headers = sign_request("GET", URL, {"Gov-Purpose": PURPOSE}, keyid=key_id(key), private_key=key)
    label, _, value = headers["Signature"].partition("=")
    good = base64.b64decode(value.strip(":"))
    known = KnownKey(key_id(key), "sm2-sm3", key.public_key(), "window")

    async def lookup(keyid: str) -> KnownKey | None:
        return known

    await verify_request("GET", URL, headers, lookup=lookup)
    r = int.from_bytes(good[:32], "big")
    for bad in (good[:63], good + b"\x00", raw(r, 0), raw(r, N)):
        encoded = base64.b64encode(bad).decode()
        with pytest.raises(SignatureError) as refused:
            await verify_request(
                "GET", URL, headers | {"Signature": f"{label}=:{encoded}:"}, lookup=lookup
            )
        assert refused.value.code == "SIGNATURE_INVALID"


# --- across implementations, over real signature bases ---------------------------------------


def _base_of(fields: dict[str, str], message: fast.Message) -> tuple[bytes, bytes]:
    """The signature base a signed message's own Signature-Input describes, and its r || s."""
    found = fast.parse_signature(fields)
    assert found is not None and found.params["alg"] == "sm2-sm3"
    base = fast.signature_base(message, found.components, found.serialized)
    assert base is not None
    return base, base64.b64decode(found.signature[1:-1])


def test_tongsuo_verifies_the_gateways_request_and_response_signatures() -> None:
    member, gateway = generate_private_key("sm2-sm3"), generate_private_key("sm2-sm3")
    body = '{"case_no": "SL330802202611230001", "handler": "李娜"}'.encode()
    request = sign_request(
        "POST",
        "http://gateway/v1/events/case",
        {"Gov-Purpose": PURPOSE, "Content-Type": "application/json"},
        body,
        keyid=key_id(member),
        private_key=member,
        digest="sm3",
        created=CREATED,
    )
    assert request["Content-Digest"] == content_digest(body, "sm3")
    request_fields = fast.field_lines(request)
    message = fast.Message("POST", "http://gateway/v1/events/case", request_fields)
    base, signature = _base_of(request_fields, message)
    assert b'"content-digest": sm3=:' in base and b';alg="sm2-sm3"' in base
    assert tongsuo_verify(public_key_pem(member), raw_to_der(signature), base)
    assert not tongsuo_verify(public_key_pem(member), raw_to_der(signature), base + b" ")

    answer = b'{"stream": "case-events"}'
    response = sign_response(
        202,
        {"Content-Type": "application/json"},
        answer,
        request_method="POST",
        request_url="http://gateway/v1/events/case",
        request_headers=request,
        keyid=key_id(gateway),
        private_key=gateway,
        digest="sm3",
    )
    response_fields = fast.field_lines(response)
    base, signature = _base_of(response_fields, fast.Message("", "", response_fields, 202, message))
    assert b'"signature";req;key="govgate": :' in base  # bound to the member's request
    assert tongsuo_verify(public_key_pem(gateway), raw_to_der(signature), base)


def test_the_package_builds_the_same_base_the_gateway_signed() -> None:
    """The base Tongsuo checked above is the reference package's too, byte for byte."""
    member = generate_private_key("sm2-sm3")
    request = sign_request(
        "GET",
        URL,
        {"Gov-Purpose": PURPOSE},
        keyid=key_id(member),
        private_key=member,
        nonce="n-1",
        created=CREATED,
    )
    fields = fast.field_lines(request)
    ours, _ = _base_of(fields, fast.Message("GET", URL, fields))

    class Message:
        method, url, headers = "GET", URL, {"Gov-Purpose": PURPOSE}

    prepared = HTTPMessageSigner(signature_algorithm=SM2_SM3, key_resolver=one_key("k")).prepare(
        Message(),
        key_id=key_id(member),
        created=datetime.fromtimestamp(CREATED, tz=UTC),
        nonce="n-1",
        label="govgate",
        covered_component_ids=("@method", "@authority", "@path", "@query", "gov-purpose"),
    )
    assert prepared.signature_base == ours


async def test_the_gateway_verifies_what_tongsuo_signs() -> None:
    """A member whose key pair Tongsuo made, signing with Tongsuo over the base another
    RFC 9421 client (the package) built, body and sm3 digest included."""
    tongsuo_key = tongsuo_generate()
    private_pem = tongsuo_key.private_bytes(
        ts.Encoding.PEM, ts.PrivateFormat.PKCS8, ts.NoEncryption()
    )
    public_pem = tongsuo_key.public_key().public_bytes(
        ts.Encoding.PEM, ts.PublicFormat.SubjectPublicKeyInfo
    )
    public = load_public_key(public_pem)  # as `govgate members add --public-key` reads it
    assert key_id(public) == key_id(load_private_key(private_pem))
    keyid = key_id(public)
    body = '{"holder": "张三"}'.encode()

    class Message:
        method, url = "POST", "http://gateway/v1/events/certificates"
        headers = {"Gov-Purpose": PURPOSE, "Content-Type": "application/json"}

    message = Message()
    signer = HTTPMessageSigner(signature_algorithm=SM2_SM3, key_resolver=one_key(keyid))
    signer.content_digest_class = digest_class("sm3")
    prepared = signer.prepare(
        message,
        key_id=keyid,
        nonce="tongsuo-1",
        label="govgate",
        covered_component_ids=("@method", "@authority", "@path", "@query", "gov-purpose"),
        body=body,
    )
    signer.apply(message, prepared, der_to_raw(tongsuo_sign(private_pem, prepared.signature_base)))
    assert re.fullmatch(r"sm3=:[A-Za-z0-9+/]{43}=:", message.headers["Content-Digest"])
    known = KnownKey(keyid, "sm2-sm3", public, "window")

    async def lookup(wanted: str) -> KnownKey | None:
        return known if wanted == keyid else None

    verified = await verify_request(
        "POST", Message.url, message.headers, body, lookup=lookup, algorithms=("sm2-sm3", "sm3")
    )
    assert (verified.keyid, verified.alg) == (keyid, "sm2-sm3")
    assert '"content-digest"' in verified.covered
    with pytest.raises(SignatureError) as refused:
        await verify_request("POST", Message.url, message.headers, body + b" ", lookup=lookup)
    assert refused.value.code == "DIGEST_MISMATCH"
