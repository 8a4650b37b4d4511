"""Delivery signatures: what `sign_delivery` makes, `verify_delivery` accepts, and nothing else."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping

import pytest

from gateway.members.keys import Algorithm, generate_private_key, key_id, public_key_of
from gateway.signatures.deliveries import VerifiedDelivery, sign_delivery, verify_delivery
from gateway.signatures.digests import DigestAlgorithm
from gateway.signatures.errors import SignatureError

URL = "https://dzjc.example.gov.cn/%E5%9B%9E%E8%B0%83?token=t1"
BODY = json.dumps([{"id": "e1", "data": {"case_no": "SL1", "handler": "李娜"}}]).encode()
KEY = generate_private_key("ed25519")
KEYS = {key_id(KEY): public_key_of(KEY)}


def signed(url: str = URL, body: bytes = BODY, created: int | None = None) -> dict[str, str]:
    return sign_delivery(
        url,
        body,
        subscription_id="sub-1",
        delivery_id="d-1",
        keyid=key_id(KEY),
        private_key=KEY,
        created=created,
    )


async def verify(
    headers: Mapping[str, str], url: str = URL, body: bytes = BODY, **kw: object
) -> VerifiedDelivery:
    return await verify_delivery(url, headers, body, keys=KEYS, **kw)  # type: ignore[arg-type]


async def test_a_delivery_verifies_and_covers_what_it_must() -> None:
    headers = signed()
    found = await verify(headers)
    assert (found.subscription_id, found.delivery_id, found.keyid) == ("sub-1", "d-1", key_id(KEY))
    assert found.events[0]["data"]["handler"] == "李娜"
    assert headers["Content-Type"] == "application/cloudevents-batch+json"
    assert headers["Content-Digest"].startswith("sha-256=:")
    sig_input = headers["Signature-Input"]
    for component in ("@method", "@target-uri", "content-type", "content-digest"):
        assert f'"{component}"' in sig_input
    for param in ("created=", "keyid=", "nonce=", 'tag="govgate-webhook"'):
        assert param in sig_input


async def test_non_ascii_urls_sign_percent_encoded() -> None:
    raw = "https://dzjc.example.gov.cn/回调?token=t1"
    headers = signed(url=raw)
    await verify(headers, url=URL)  # the same URL, as the receiver sees it on the wire
    await verify(headers, url=raw)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"body": BODY + b" "}, "DIGEST_MISMATCH"),
        ({"url": URL.replace("t1", "t2")}, "SIGNATURE_INVALID"),
        ({"url": URL.replace("https://dzjc", "https://evil")}, "SIGNATURE_INVALID"),
        ({"method": "PUT"}, "SIGNATURE_INVALID"),
    ],
)
async def test_any_change_is_refused(change: dict[str, object], code: str) -> None:
    with pytest.raises(SignatureError) as caught:
        await verify(signed(), **change)
    assert caught.value.code == code


async def test_headers_tampered_old_replayed_or_unknown_are_refused() -> None:
    for name, value in (
        ("Govgate-Subscription", "sub-2"),
        ("Content-Type", "application/json"),
        ("Govgate-Delivery", "d-2"),
    ):
        with pytest.raises(SignatureError) as caught:
            await verify(signed() | {name: value})
        assert caught.value.code == "SIGNATURE_INVALID"
    with pytest.raises(SignatureError) as caught:
        await verify(signed(created=int(time.time()) - 3600))
    assert caught.value.code == "SIGNATURE_EXPIRED"
    with pytest.raises(SignatureError) as caught:
        await verify({"Content-Type": "application/json"})
    assert caught.value.code == "SIGNATURE_MISSING"
    other = generate_private_key("ed25519")
    with pytest.raises(SignatureError) as caught:
        await verify_delivery(URL, signed(), BODY, keys={key_id(other): public_key_of(other)})
    assert caught.value.code == "KEY_UNKNOWN"
    used: set[str] = set()

    async def fresh(_keyid: str, nonce: str, _expires: float) -> bool:
        if nonce in used:
            return False
        used.add(nonce)
        return True

    headers = signed()
    await verify(headers, nonces=fresh)
    with pytest.raises(SignatureError) as caught:
        await verify(headers, nonces=fresh)
    assert caught.value.code == "NONCE_REPLAYED"
    await verify(signed(), nonces=fresh)  # a retried delivery is signed anew


@pytest.mark.parametrize(("alg", "digest"), [("ecdsa-p256-sha256", "sha-256"), ("sm2-sm3", "sm3")])
async def test_p256_and_sm2_gateway_keys_work_too(alg: Algorithm, digest: DigestAlgorithm) -> None:
    key = generate_private_key(alg)
    headers = sign_delivery(
        URL,
        BODY,
        subscription_id="s",
        delivery_id="d",
        keyid=key_id(key),
        private_key=key,
        digest=digest,
    )
    assert headers["Content-Digest"].startswith(f"{digest}=:")
    assert f'alg="{alg}"' in headers["Signature-Input"]
    keys = {key_id(key): public_key_of(key)}
    found = await verify_delivery(URL, headers, BODY, keys=keys)
    assert found.subscription_id == "s"
    with pytest.raises(SignatureError) as caught:
        await verify_delivery(URL, headers, BODY + b" ", keys=keys)
    assert caught.value.code == "DIGEST_MISMATCH"
    with pytest.raises(SignatureError) as caught:
        await verify_delivery(URL, headers | {"Govgate-Delivery": "d2"}, BODY, keys=keys)
    assert caught.value.code == "SIGNATURE_INVALID"
