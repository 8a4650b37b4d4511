"""RFC 9421 request and response signatures, RFC 9530 digests, and key ids.

The RFC 9421 Appendix B.2.6 vector (key `test-key-ed25519` of B.1.4, the B.2 test request)
must verify with `verify_request`; every refusal is asserted by its stable code, for members'
and the gateway's keys of every algorithm (Ed25519, P-256, and govgate's SM2 `sm2-sm3`). The key
lookup and nonce check here are small in-memory callbacks; `tests/gateway/members` runs the
same verification against the real store on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from http_message_signatures import HTTPMessageSigner, MappingKeyResolver, algorithms

from gateway.members.errors import KeyFormatError
from gateway.members.keys import (
    ALGORITHMS,
    Algorithm,
    PrivateKey,
    algorithm_of,
    generate_private_key,
    jwks,
    key_id,
    keys_from_jwks,
    load_private_key,
    load_public_key,
    private_key_pem,
    public_jwk,
    public_key_from_jwk,
    public_key_pem,
)
from gateway.signatures import (
    KnownKey,
    content_digest,
    encode_url,
    sign_request,
    sign_response,
    verify_content_digest,
    verify_request,
    verify_response,
)
from gateway.signatures.algorithms import ALGORITHMS as SIGNERS
from gateway.signatures.algorithms import one_key
from gateway.signatures.errors import SignatureError

# --- RFC 9421 Appendix B.1.4 (test-key-ed25519) and B.2 / B.2.6, verbatim -------------------

RFC_ED25519_PUBLIC = b"""-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
"""
RFC_ED25519_PRIVATE = b"""-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
"""
RFC_URL = "https://example.com/foo?param=Value&Pet=dog"
RFC_BODY = b'{"hello": "world"}'
RFC_HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7"
    "BNNyealdVLvRwEmTHWXvJwew==:",
    "Content-Length": "18",
}
RFC_CREATED = 1618884473
RFC_BASE = (
    '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    '"@method": POST\n'
    '"@path": /foo\n'
    '"@authority": example.com\n'
    '"content-type": application/json\n'
    '"content-length": 18\n'
    '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
    '"content-length");created=1618884473;keyid="test-key-ed25519"'
)
RFC_SIGNATURE_INPUT = (
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
RFC_SIGNATURE = (
    "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPp"
    "BKRCw==:"
)
RFC_COVERED = ("date", "@method", "@path", "@authority", "content-type", "content-length")


class Keys:
    """An in-memory key lookup (the gateway passes `MembersStore.known_key`)."""

    def __init__(self, *known: KnownKey) -> None:
        self.known = {k.keyid: k for k in known}

    async def __call__(self, keyid: str) -> KnownKey | None:
        return self.known.get(keyid)


class Nonces:
    """An in-memory nonce check (the gateway passes `NonceStore.use`)."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()

    async def __call__(self, keyid: str, nonce: str, expires_at: float) -> bool:
        fresh = (keyid, nonce) not in self.seen
        self.seen.add((keyid, nonce))
        return fresh


def rfc_request_headers() -> dict[str, str]:
    return RFC_HEADERS | {"Signature-Input": RFC_SIGNATURE_INPUT, "Signature": RFC_SIGNATURE}


def rfc_keys() -> Keys:
    return Keys(KnownKey("test-key-ed25519", "ed25519", load_public_key(RFC_ED25519_PUBLIC)))


async def verify_rfc(headers: Mapping[str, str], now: float = RFC_CREATED + 5) -> str:
    verified = await verify_request(
        "POST",
        RFC_URL,
        headers,
        RFC_BODY,
        lookup=rfc_keys(),
        require=("@method", "@path", "@authority"),
        require_nonce=False,  # RFC 9421's examples carry no nonce
        require_digest=False,  # … and B.2.6 does not cover Content-Digest
        now=now,
    )
    return verified.keyid


async def test_rfc9421_b26_ed25519_vector_verifies() -> None:
    assert await verify_rfc(rfc_request_headers()) == "test-key-ed25519"


def test_rfc9421_b26_signature_base_and_value_are_reproduced() -> None:
    """The library builds the RFC's signature base byte for byte from the B.2 request, and
    Ed25519 (deterministic) over it with the B.1.4 private key gives the RFC's signature."""
    private = load_private_key(RFC_ED25519_PRIVATE)
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    assert public_key_pem(private) == RFC_ED25519_PUBLIC
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={}),
    )

    class Message:
        method, url, headers = "POST", RFC_URL, dict(RFC_HEADERS)

    prepared = signer.prepare(
        Message(),
        key_id="test-key-ed25519",
        created=datetime.fromtimestamp(RFC_CREATED, tz=UTC),
        include_alg=False,
        label="sig-b26",
        covered_component_ids=RFC_COVERED,
        use_existing_digest=True,
    )
    assert prepared.signature_base == RFC_BASE.encode()
    signature = base64.b64encode(private.sign(prepared.signature_base)).decode()
    assert f"sig-b26=:{signature}:" == RFC_SIGNATURE


async def test_rfc9421_b26_vector_altered_or_stale_is_refused() -> None:
    altered = rfc_request_headers() | {"Date": "Tue, 20 Apr 2021 02:07:56 GMT"}
    assert await code_of(verify_rfc(altered)) == "SIGNATURE_INVALID"
    assert await code_of(verify_rfc(rfc_request_headers(), now=time.time())) == (
        "SIGNATURE_EXPIRED"
    )


def test_rfc9530_content_digest() -> None:
    # RFC 9530 §2's example content, and the sha-512 digest of RFC 9421 B.2's test request.
    assert content_digest(RFC_BODY) == "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    verify_content_digest(RFC_HEADERS["Content-Digest"], RFC_BODY)
    with pytest.raises(SignatureError) as refused:
        verify_content_digest(RFC_HEADERS["Content-Digest"], RFC_BODY + b" ")
    assert refused.value.code == "DIGEST_MISMATCH"
    with pytest.raises(SignatureError) as refused:
        verify_content_digest("sha-256=not-a-digest", RFC_BODY)
    assert refused.value.code == "DIGEST_MISMATCH"


# --- key ids (gateway.members.keys) -----------------------------------------------------------


def test_key_id_is_the_rfc7638_thumbprint() -> None:
    # RFC 8037 Appendix A.3: the JWK thumbprint of the Appendix A.2 Ed25519 public key.
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert key_id(public_key_from_jwk(dict(jwk))) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_keys_round_trip_through_pem_and_jwk(alg: Algorithm) -> None:
    private = generate_private_key(alg)
    assert key_id(load_private_key(private_key_pem(private))) == key_id(private)
    public = load_public_key(public_key_pem(private))
    assert key_id(public) == key_id(private)
    assert key_id(public_key_from_jwk(dict(public_jwk(public)))) == key_id(private)
    assert list(keys_from_jwks(jwks([private]))) == [key_id(private)]
    assert algorithm_of(public) == algorithm_of(private) == alg


def test_jwks_with_a_kid_that_is_not_the_thumbprint_is_refused() -> None:
    document = jwks([generate_private_key()])
    document["keys"][0]["kid"] = key_id(generate_private_key())
    with pytest.raises(KeyFormatError) as refused:
        keys_from_jwks(document)
    assert refused.value.code == "KEY_FORMAT"


def test_rsa_and_other_curves_are_refused() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    for other in (rsa.generate_private_key(65537, 2048), ec.generate_private_key(ec.SECP384R1())):
        with pytest.raises(KeyFormatError):
            load_private_key(private_key_pem(other))  # type: ignore[arg-type]


# --- requests ---------------------------------------------------------------------------------

GW = "https://gw.example.gov.cn"
CN_URL = f"{GW}/v1/materials/营业执照?holder_id=张三&catalog_code=MC001"
CN_URL_ENCODED = (
    f"{GW}/v1/materials/%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7"
    "?holder_id=%E5%BC%A0%E4%B8%89&catalog_code=MC001"
)


@pytest.fixture(params=ALGORITHMS)
def member_key(request: pytest.FixtureRequest) -> PrivateKey:
    key: PrivateKey = generate_private_key(request.param)
    return key


@pytest.fixture(params=ALGORITHMS)
def gateway_key(request: pytest.FixtureRequest) -> PrivateKey:
    key: PrivateKey = generate_private_key(request.param)
    return key


def known(key: PrivateKey, inactive: str | None = None) -> KnownKey:
    return KnownKey(key_id(key), algorithm_of(key), key.public_key(), "kecheng-window", inactive)


def signed(
    key: PrivateKey,
    method: str = "GET",
    url: str = CN_URL,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    **kwargs: object,
) -> dict[str, str]:
    headers = {"Gov-Purpose": "330100-000-XK-0001"} if headers is None else headers
    return sign_request(method, url, headers, body, keyid=key_id(key), private_key=key, **kwargs)  # type: ignore[arg-type]


async def code_of(awaitable: object) -> str:
    try:
        await awaitable  # type: ignore[misc]
    except SignatureError as exc:
        return exc.code
    return "accepted"


async def check(
    key: PrivateKey,
    headers: Mapping[str, str],
    method: str = "GET",
    url: str = CN_URL_ENCODED,
    body: bytes = b"",
    *,
    lookup: Keys | None = None,
    nonces: Nonces | None = None,
    now: float | None = None,
) -> str:
    return await code_of(
        verify_request(
            method,
            url,
            headers,
            body,
            lookup=lookup or Keys(known(key)),
            nonces=nonces or Nonces(),
            now=now,
        )
    )


async def test_chinese_path_and_query_round_trip(member_key: PrivateKey) -> None:
    headers = signed(member_key)
    assert encode_url(CN_URL) == CN_URL_ENCODED == encode_url(CN_URL_ENCODED)
    assert await check(member_key, headers, url=CN_URL_ENCODED) == "accepted"
    assert await check(member_key, headers, url=CN_URL) == "accepted"  # encoded alike
    other_query = CN_URL_ENCODED.replace("%E5%BC%A0%E4%B8%89", "%E6%9D%8E%E5%9B%9B")  # 李四
    assert await check(member_key, headers, url=other_query) == "SIGNATURE_INVALID"


async def test_verified_request_names_key_owner_and_coverage(member_key: PrivateKey) -> None:
    body = '{"case_no": "受理-2026-001"}'.encode()
    headers = signed(member_key, "POST", f"{GW}/v1/events/case", body, nonce="n-1", created=None)
    verified = await verify_request(
        "POST", f"{GW}/v1/events/case", headers, body, lookup=Keys(known(member_key))
    )
    assert (verified.keyid, verified.owner, verified.nonce) == (
        key_id(member_key),
        "kecheng-window",
        "n-1",
    )
    assert verified.covered == (
        '"@method"',
        '"@authority"',
        '"@path"',
        '"@query"',
        '"gov-purpose"',
        '"content-digest"',
    )
    assert headers["Content-Digest"] == content_digest(body)


async def test_no_signature_is_refused(member_key: PrivateKey) -> None:
    assert await check(member_key, {"Gov-Purpose": "x"}) == "SIGNATURE_MISSING"


async def test_bad_signatures_are_refused(member_key: PrivateKey) -> None:
    headers = signed(member_key)
    assert await check(member_key, headers, method="DELETE") == "SIGNATURE_INVALID"
    assert await check(member_key, headers | {"Gov-Purpose": "other"}) == "SIGNATURE_INVALID"
    sig = headers["Signature"]
    flipped = sig[:12] + ("A" if sig[12] != "A" else "B") + sig[13:]
    assert await check(member_key, headers | {"Signature": flipped}) == "SIGNATURE_INVALID"
    assert await check(member_key, headers | {"Signature": "govgate=("}) == "SIGNATURE_INVALID"
    only_input = {k: v for k, v in headers.items() if k != "Signature"}
    assert await check(member_key, only_input) == "SIGNATURE_INVALID"
    two = headers | {
        "Signature-Input": headers["Signature-Input"] + ", b=()",
        "Signature": sig + ", b=:AA==:",
    }
    assert await check(member_key, two) == "SIGNATURE_INVALID"


@pytest.mark.parametrize("registered", ALGORITHMS)
async def test_a_key_registered_for_another_algorithm_is_refused(
    member_key: PrivateKey, registered: Algorithm
) -> None:
    """The key id is known, but as a key of another algorithm: whatever signed, it is refused."""
    if registered == algorithm_of(member_key):
        return  # covered by every other test: the right algorithm is accepted
    impostor = KnownKey(
        key_id(member_key), registered, generate_private_key(registered).public_key()
    )
    assert await check(member_key, signed(member_key), lookup=Keys(impostor)) == (
        "SIGNATURE_INVALID"
    )
    # the right public key, but registered under another algorithm's name
    mislabelled = KnownKey(key_id(member_key), registered, member_key.public_key())
    assert await check(member_key, signed(member_key), lookup=Keys(mislabelled)) == (
        "SIGNATURE_INVALID"
    )


async def test_unknown_and_revoked_keys_are_refused(member_key: PrivateKey) -> None:
    headers = signed(member_key)
    assert await check(member_key, headers, lookup=Keys()) == "KEY_UNKNOWN"
    revoked = Keys(known(member_key, inactive="revoked"))
    assert await check(member_key, headers, lookup=revoked) == "KEY_REVOKED"


async def test_old_and_future_signatures_are_refused(member_key: PrivateKey) -> None:
    now = time.time()
    assert (
        await check(member_key, signed(member_key, created=int(now) - 400)) == "SIGNATURE_EXPIRED"
    )
    assert await check(member_key, signed(member_key, created=int(now) - 320)) == "accepted"  # skew
    assert await check(member_key, signed(member_key, created=int(now) + 60)) == "SIGNATURE_EXPIRED"
    assert await check(member_key, signed(member_key, created=int(now) + 20)) == "accepted"
    headers = signed(member_key)
    assert await check(member_key, headers, now=now + 331) == "SIGNATURE_EXPIRED"


async def test_replayed_nonce_is_refused(member_key: PrivateKey) -> None:
    nonces = Nonces()
    headers = signed(member_key)
    assert await check(member_key, headers, nonces=nonces) == "accepted"
    assert await check(member_key, headers, nonces=nonces) == "NONCE_REPLAYED"
    assert await check(member_key, signed(member_key), nonces=nonces) == "accepted"  # new nonce


async def test_a_forged_request_does_not_use_up_the_nonce(member_key: PrivateKey) -> None:
    nonces = Nonces()
    headers = signed(member_key)
    assert await check(member_key, headers, method="POST", nonces=nonces) == "SIGNATURE_INVALID"
    assert await check(member_key, headers, nonces=nonces) == "accepted"


async def test_altered_body_is_a_digest_mismatch(member_key: PrivateKey) -> None:
    url = f"{GW}/v1/events/case"
    headers = signed(member_key, "POST", url, b'{"a": 1}')
    assert await check(member_key, headers, "POST", url, b'{"a": 1}') == "accepted"
    assert await check(member_key, headers, "POST", url, b'{"a": 2}') == "DIGEST_MISMATCH"


def library_signed(
    key: PrivateKey, components: tuple[str, ...], nonce: str | None = "n"
) -> dict[str, str]:
    """Signed by another RFC 9421 client, covering only `components`."""

    class Message:
        method, url, headers = "GET", CN_URL_ENCODED, {"Gov-Purpose": "330100-000-XK-0001"}

    message = Message()
    HTTPMessageSigner(
        signature_algorithm=SIGNERS[algorithm_of(key)],
        key_resolver=one_key(key_id(key), private_key=key),
    ).sign(message, key_id=key_id(key), nonce=nonce, covered_component_ids=components)
    return message.headers


async def test_required_components_must_be_covered(member_key: PrivateKey) -> None:
    full = ("@method", "@authority", "@path", "@query", "gov-purpose")
    assert await check(member_key, library_signed(member_key, full)) == "accepted"
    for missing in full:
        partial = tuple(c for c in full if c != missing)
        assert await check(member_key, library_signed(member_key, partial)) == "COMPONENT_MISSING"
    no_nonce = library_signed(member_key, full, nonce=None)
    assert await check(member_key, no_nonce) == "COMPONENT_MISSING"
    case_added = signed(member_key) | {"Gov-Case": "330100-2026-000123"}  # not signed
    assert await check(member_key, case_added) == "COMPONENT_MISSING"
    url = f"{GW}/v1/events/case"
    no_digest = signed(member_key, "POST", url)  # signed without a body, sent with one
    assert await check(member_key, no_digest, "POST", url, b"{}") == "COMPONENT_MISSING"


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_signing_with_the_wrong_alg_fails(member_key: PrivateKey, alg: Algorithm) -> None:
    if alg == algorithm_of(member_key):
        return
    with pytest.raises(SignatureError) as refused:
        signed(member_key, alg=alg)
    assert refused.value.code == "SIGNING_FAILED"


# --- responses --------------------------------------------------------------------------------


def respond(
    gateway_key: PrivateKey,
    request_headers: Mapping[str, str],
    status: int = 200,
    body: bytes = b'{"certificates": []}',
    url: str = CN_URL,
) -> dict[str, str]:
    return sign_response(
        status,
        {"Content-Type": "application/json"},
        body,
        request_method="GET",
        request_url=url,
        request_headers=request_headers,
        keyid=key_id(gateway_key),
        private_key=gateway_key,
    )


def response_code(
    gateway_key: PrivateKey,
    headers: Mapping[str, str],
    request_headers: Mapping[str, str],
    status: int = 200,
    body: bytes = b'{"certificates": []}',
    url: str = CN_URL_ENCODED,
    keys: Mapping[str, object] | None = None,
    max_age: float | None = 300,
) -> str:
    try:
        verify_response(
            status,
            headers,
            body,
            request_method="GET",
            request_url=url,
            request_headers=request_headers,
            keys=keys_from_jwks(jwks([gateway_key])) if keys is None else keys,  # type: ignore[arg-type]
            max_age=max_age,
        )
    except SignatureError as exc:
        return exc.code
    return "verified"


def test_response_signature_is_bound_to_the_request(
    member_key: PrivateKey, gateway_key: PrivateKey
) -> None:
    request = signed(member_key)
    response = respond(gateway_key, request)
    assert '"signature";req;key="govgate"' in response["Signature-Input"]
    assert response_code(gateway_key, response, request) == "verified"
    assert response_code(gateway_key, response, request, status=500) == "SIGNATURE_INVALID"
    assert response_code(gateway_key, response, request, body=b'{"certificates": [1]}') == (
        "DIGEST_MISMATCH"
    )
    another = signed(member_key)  # same method, path and query; another signature
    assert response_code(gateway_key, response, another) == "SIGNATURE_INVALID"
    other_path = CN_URL_ENCODED.replace("materials", "certificates")
    assert response_code(gateway_key, response, request, url=other_path) == "SIGNATURE_INVALID"


def test_response_refusals(member_key: PrivateKey, gateway_key: PrivateKey) -> None:
    request = signed(member_key)
    response = respond(gateway_key, request)
    assert response_code(gateway_key, response, request, keys={}) == "KEY_UNKNOWN"
    assert response_code(gateway_key, {"Content-Type": "x"}, request) == "SIGNATURE_MISSING"
    unbound = respond(gateway_key, {})  # answers an unsigned request
    assert response_code(gateway_key, unbound, {}) == "verified"
    assert response_code(gateway_key, unbound, request) == "COMPONENT_MISSING"
    old = sign_response(
        200,
        {},
        b"",
        request_method="GET",
        request_url=CN_URL,
        request_headers=request,
        keyid=key_id(gateway_key),
        private_key=gateway_key,
        created=int(time.time()) - 3600,
    )
    assert response_code(gateway_key, old, request, body=b"") == "SIGNATURE_EXPIRED"
    assert response_code(gateway_key, old, request, body=b"", max_age=None) == "verified"  # archive


async def test_a_request_is_bound_to_the_gateway_it_was_signed_for(member_key: PrivateKey) -> None:
    """Issue #12, finding 13: `@authority` is covered, so a request replayed to another gateway
    (another host or port) that knows the same member key does not verify there."""
    headers = signed(member_key)
    assert await check(member_key, headers) == "accepted"
    for elsewhere in ("https://gw2.example.gov.cn", "https://gw.example.gov.cn:8443"):
        moved = CN_URL_ENCODED.replace(GW, elsewhere)
        assert await check(member_key, signed(member_key), url=moved) == "SIGNATURE_INVALID"
    assert (
        await check(
            member_key,
            signed(member_key),
            url=CN_URL_ENCODED.replace(
                "https://gw.example.gov.cn", "https://GW.example.gov.cn:443"
            ),
        )
        == "accepted"
    )  # the same authority, spelled otherwise
