"""The fast signature bases of `gateway.signatures.base` against the reference package.

For every message the fast path accepts, signing through it and through
`http-message-signatures` must give the same `Content-Digest`, `Signature-Input` and (Ed25519
is deterministic) `Signature`; verifying through either must accept the same messages with the
same result. Messages it does not accept must still be handled, by the package. SM2 signs with
a random k, so for `sm2-sm3` the two paths must give the same `Content-Digest` (SM3) and
`Signature-Input`, and each path must accept the other's signature.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.members.keys import generate_private_key, key_id
from gateway.signatures import (
    KnownKey,
    sign_request,
    sign_response,
    verify_request,
    verify_response,
)
from gateway.signatures import base as signature_base
from gateway.signatures import messages as signatures
from gateway.signatures.digests import DigestAlgorithm
from gateway.signatures.errors import SignatureError
from tests.gateway.signatures.test_messages import (
    RFC_BASE,
    RFC_HEADERS,
    RFC_SIGNATURE,
    RFC_SIGNATURE_INPUT,
    RFC_URL,
    rfc_request_headers,
    verify_rfc,
)

ED25519 = generate_private_key("ed25519")
P256 = generate_private_key("ecdsa-p256-sha256")
SM2 = generate_private_key("sm2-sm3")
GATEWAY = generate_private_key("ed25519")


@contextmanager
def package_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Within: every message goes to http-message-signatures, as before the fast path."""
    with monkeypatch.context() as patch:
        patch.setattr(signatures, "_sign_fast", lambda *args: False)
        patch.setattr(signature_base, "parse_signature", lambda fields: None)
        patch.setattr(signature_base, "signature_labels", lambda value: None)
        yield


segment = st.text(
    st.sampled_from(list("abcXYZ019-._~%!$&'()*+,;=:@ 张三证照/?#[]\"<>")), min_size=0, max_size=12
)
header_value = st.text(st.sampled_from(list("abcXYZ019-._ \t,;=\"'")), min_size=0, max_size=16)
request_parts = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["GET", "POST", "DELETE", "get"]),
        "path": st.lists(segment, max_size=4).map(lambda parts: "/" + "/".join(parts)),
        "query": st.one_of(st.none(), segment),
        "purpose": st.one_of(st.none(), header_value),
        "case": st.one_of(st.none(), header_value),
        "body": st.one_of(st.just(b""), st.binary(max_size=40)),
        "nonce": st.one_of(st.none(), st.text(st.sampled_from(list('ab-_.~"\\ ')), max_size=6)),
    }
)


def _request(
    parts: dict[str, Any], key: Any, digest: DigestAlgorithm = "sha-256"
) -> tuple[str, str, dict[str, str]]:
    url = "http://gateway" + parts["path"]
    if parts["query"] is not None:
        url += "?" + parts["query"]
    headers = {"Content-Type": "application/json"}
    if parts["purpose"] is not None:
        headers["Gov-Purpose"] = parts["purpose"]
    if parts["case"] is not None:
        headers["Gov-Case"] = parts["case"]
    signed = sign_request(
        parts["method"],
        url,
        headers,
        parts["body"],
        keyid=key_id(key),
        private_key=key,
        nonce=parts["nonce"] or "fixed-nonce",
        created=1_800_000_000,
        digest=digest,
    )
    return parts["method"], url, signed


def _outcome(call: Any) -> object:
    try:
        return call()
    except SignatureError as exc:
        return exc.code


@settings(max_examples=150, deadline=None)
@given(parts=request_parts)
def test_requests_sign_and_verify_as_the_package_does(parts: dict[str, Any]) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        ours = _outcome(lambda: _request(parts, ED25519))
        with package_only(monkeypatch):
            theirs = _outcome(lambda: _request(parts, ED25519))
    assert ours == theirs
    if isinstance(ours, str):
        return
    method, url, headers = ours  # type: ignore[misc]
    key = KnownKey(key_id(ED25519), "ed25519", ED25519.public_key(), "m")

    async def lookup(keyid: str) -> KnownKey | None:
        return key if keyid == key.keyid else None

    def verify() -> object:
        return asyncio.run(
            verify_request(method, url, headers, parts["body"], lookup=lookup, now=1_800_000_001)
        )

    with pytest.MonkeyPatch.context() as monkeypatch:
        fast = _outcome(verify)
        with package_only(monkeypatch):
            reference = _outcome(verify)
    assert fast == reference


@settings(max_examples=100, deadline=None)
@given(parts=request_parts, status=st.sampled_from([200, 404, 503]), body=st.binary(max_size=40))
def test_responses_sign_and_verify_as_the_package_does(
    parts: dict[str, Any], status: int, body: bytes
) -> None:
    try:
        method, url, request_headers = _request(parts, P256)
    except SignatureError:
        return

    def sign() -> dict[str, str]:
        return sign_response(
            status,
            {"content-type": "application/json"},
            body,
            request_method=method,
            request_url=url,
            request_headers=request_headers,
            keyid=key_id(GATEWAY),
            private_key=GATEWAY,
            created=1_800_000_002,
        )

    def verify(headers: Mapping[str, str]) -> object:
        return verify_response(
            status,
            headers,
            body,
            request_method=method,
            request_url=url,
            request_headers=request_headers,
            keys={key_id(GATEWAY): GATEWAY.public_key()},
            now=1_800_000_003,
        )

    with pytest.MonkeyPatch.context() as monkeypatch:
        ours = _outcome(sign)
        with package_only(monkeypatch):
            theirs = _outcome(sign)
            reference = _outcome(lambda: verify(ours)) if isinstance(ours, dict) else None
        fast = _outcome(lambda: verify(ours)) if isinstance(ours, dict) else None
    assert ours == theirs
    assert fast == reference


def _verify_sm2(method: str, url: str, headers: Mapping[str, str], body: bytes) -> object:
    key = KnownKey(key_id(SM2), "sm2-sm3", SM2.public_key(), "m")

    async def lookup(keyid: str) -> KnownKey | None:
        return key if keyid == key.keyid else None

    return _outcome(
        lambda: asyncio.run(
            verify_request(method, url, headers, body, lookup=lookup, now=1_800_000_001)
        )
    )


def _without_signature(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != "Signature"}


@settings(max_examples=40, deadline=None)
@given(parts=request_parts)
def test_sm2_requests_sign_and_verify_across_both_paths(parts: dict[str, Any]) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        ours = _outcome(lambda: _request(parts, SM2, "sm3"))
        with package_only(monkeypatch):
            theirs = _outcome(lambda: _request(parts, SM2, "sm3"))
    if isinstance(ours, str) or isinstance(theirs, str):
        assert ours == theirs
        return
    (method, url, fast_signed), (_, _, package_signed) = ours, theirs  # type: ignore[misc]
    assert _without_signature(fast_signed) == _without_signature(package_signed)
    assert fast_signed["Signature"] != package_signed["Signature"]  # a fresh k each time
    for headers in (fast_signed, package_signed):
        with pytest.MonkeyPatch.context() as monkeypatch:
            fast = _verify_sm2(method, url, headers, parts["body"])
            with package_only(monkeypatch):
                reference = _verify_sm2(method, url, headers, parts["body"])
        assert fast == reference
        assert not isinstance(fast, str), fast


def test_the_rfc_b26_base_is_built_by_the_fast_path() -> None:
    fields = signature_base.field_lines(rfc_request_headers())
    found = signature_base.parse_signature(fields)
    assert found is not None
    assert f"{found.label}={found.serialized}" == RFC_SIGNATURE_INPUT
    assert f"{found.label}={found.signature}" == RFC_SIGNATURE
    message = signature_base.Message("POST", RFC_URL, signature_base.field_lines(RFC_HEADERS))
    base = signature_base.signature_base(message, found.components, found.serialized)
    assert base == RFC_BASE.encode()


async def test_the_rfc_b26_vector_verifies_through_both_paths(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert await verify_rfc(rfc_request_headers()) == "test-key-ed25519"
    with package_only(monkeypatch):
        assert await verify_rfc(rfc_request_headers()) == "test-key-ed25519"


@pytest.mark.parametrize(
    ("signature_input", "fast", "expected"),
    [
        # a space after ';' is valid but not canonical: the package reads it, and verifies it
        (RFC_SIGNATURE_INPUT.replace(";keyid", "; keyid"), False, "test-key-ed25519"),
        # parameters in another order are canonical, and sign another base: refused by both
        (
            RFC_SIGNATURE_INPUT.replace(
                ';created=1618884473;keyid="test-key-ed25519"',
                ';keyid="test-key-ed25519";created=1618884473',
            ),
            True,
            "SIGNATURE_INVALID",
        ),
    ],
)
async def test_other_spellings_get_the_packages_verdict(
    monkeypatch: pytest.MonkeyPatch, signature_input: str, fast: bool, expected: str
) -> None:
    headers = rfc_request_headers() | {"Signature-Input": signature_input}
    parsed = signature_base.parse_signature(signature_base.field_lines(headers))
    assert (parsed is not None) is fast
    assert await _async_outcome(verify_rfc(headers)) == expected
    with package_only(monkeypatch):
        assert await _async_outcome(verify_rfc(headers)) == expected


async def _async_outcome(call: Any) -> object:
    try:
        return await call
    except SignatureError as exc:
        return exc.code


async def test_the_gateways_own_messages_never_reach_the_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unused(*args: object, **kwargs: object) -> None:
        raise AssertionError("the package was used")

    monkeypatch.setattr(signatures, "HTTPMessageSigner", unused)
    monkeypatch.setattr(signatures, "_verify_with_package", unused)
    url = "http://gateway/v1/materials?holder_id=张三&catalog_code=SFZ"
    method, url, headers = _request(
        {
            "method": "GET",
            "path": url.removeprefix("http://gateway").split("?")[0],
            "query": url.split("?")[1],
            "purpose": "11330802",
            "case": "SL-1",
            "body": b"{}",
            "nonce": None,
        },
        P256,
    )
    key = KnownKey(key_id(P256), "ecdsa-p256-sha256", P256.public_key(), "window")

    async def lookup(keyid: str) -> KnownKey | None:
        return key

    verified = await verify_request(method, url, headers, b"{}", lookup=lookup, now=1_800_000_001)
    assert verified.covered == (
        '"@method"',
        '"@authority"',
        '"@path"',
        '"@query"',
        '"gov-purpose"',
        '"gov-case"',
        '"content-digest"',
    )
    response = sign_response(
        200,
        {},
        b"[]",
        request_method=method,
        request_url=url,
        request_headers=headers,
        keyid=key_id(GATEWAY),
        private_key=GATEWAY,
        created=1_800_000_002,
    )
    proof = verify_response(
        200,
        response,
        b"[]",
        request_method=method,
        request_url=url,
        request_headers=headers,
        keys={key_id(GATEWAY): GATEWAY.public_key()},
        now=1_800_000_003,
    )
    assert '"signature";req;key="govgate"' in proof.covered
