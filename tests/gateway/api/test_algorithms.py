"""Which algorithms the gateway takes and answers in: `GOVGATE_GATEWAY_ALGORITHMS` (an SM-only
gateway refuses Ed25519 and P-256 keys and SHA-2 digests, and signs with SM2), the response's
Content-Digest in the algorithm the caller asked for, and the response key checked at start."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from http_message_signatures import HTTPMessageSigner
from pydantic import ValidationError
from tongsuopy.crypto import serialization as ts

from gateway.api.services import load_signing_keys
from gateway.crypto.sm2_asn1 import der_to_raw, raw_to_der
from gateway.crypto.sm3 import sm3
from gateway.members.errors import AlgorithmNotAllowed, KeyFormatError
from gateway.members.keys import (
    algorithm_of,
    generate_private_key,
    key_id,
    keys_from_jwks,
    load_public_key,
    public_key_pem,
    write_key_pair,
)
from gateway.members.store import Grant
from gateway.settings import Settings
from gateway.signatures import base as fast
from gateway.signatures import verify_response
from gateway.signatures.algorithms import SM2_SM3, one_key
from gateway.signatures.digests import content_digest
from schemas.codec import to_jsonable
from tests.gateway.api.conftest import (
    PROFILES,
    PURPOSE,
    SM_ONLY,
    Gateway,
    Profile,
    gateway_settings,
)
from tests.gateway.api.test_auth import assert_problem, assert_refused_and_audited
from tests.gateway.crypto.others import tongsuo_generate, tongsuo_sign, tongsuo_verify
from tests.samples import certificate, company

HOLDER = company()["id_number"]
LIST = f"/v1/certificates?holder_id={HOLDER}"
SM = {p.name: p for p in PROFILES}


async def window(gw: Gateway) -> None:
    await gw.add_member("dept", "publisher")
    await gw.add_member("window", "consumer", grants=(Grant("certificate", "YYZZ"),))
    await gw.publish("Certificate", certificate())


def digest_of(response: httpx.Response) -> str:
    return response.headers["content-digest"].partition("=")[0]


async def published(gw: Gateway) -> dict[str, Any]:
    document: dict[str, Any] = (await gw.client.get("/.well-known/govgate-keys")).json()
    return document


async def verify(gw: Gateway, response: httpx.Response, **kw: Any) -> None:
    """The response verifies as a window system checks it, against the published keys."""
    request = response.request
    verify_response(
        response.status_code,
        response.headers,
        response.content,
        request_method=request.method,
        request_url=str(request.url),
        request_headers=request.headers,
        keys=keys_from_jwks(await published(gw)),
        **kw,
    )


class TestSMOnly:
    """A gateway run with GOVGATE_GATEWAY_ALGORITHMS='["sm2-sm3", "sm3"]'."""

    @pytest.fixture
    def profile(self) -> Profile:
        return SM["sm-only"]

    async def test_it_signs_with_sm2_and_publishes_only_that_key(self, gw: Gateway) -> None:
        await window(gw)
        assert algorithm_of(gw.services.keys.private_key) == "sm2-sm3"
        [key] = (await published(gw))["keys"]
        assert (key["kty"], key["crv"], key["alg"], key["kid"]) == (
            "EC",
            "SM2",
            "SM2SM3",
            gw.services.keys.keyid,
        )
        response = await gw.call("GET", LIST)
        assert response.status_code == 200
        assert 'alg="sm2-sm3"' in response.headers["signature-input"]
        assert digest_of(response) == "sm3"
        expected = base64.b64encode(sm3(response.content)).decode()
        assert response.headers["content-digest"] == f"sm3=:{expected}:"
        await verify(gw, response, digest="sm3")

    async def test_other_keys_are_refused_and_audited(self, gw: Gateway) -> None:
        await window(gw)
        for alg in ("ed25519", "ecdsa-p256-sha256"):
            await gw.add_member(f"old-{alg}", "consumer", alg=alg)  # kept in the store from before
            response = await gw.call("GET", LIST, member=f"old-{alg}", digest="sha-256")
            await assert_refused_and_audited(gw, response, 401, "ALGORITHM_NOT_ALLOWED")

    async def test_sha2_digests_are_refused(self, gw: Gateway) -> None:
        await window(gw)
        for digest in ("sha-256", "sha-512"):
            body = b'{"cert_id": "x"}'
            response = await gw.call(
                "POST", "/v1/events/certificates", "dept", purpose=None, body=body, digest=digest
            )
            assert_problem(response, 400, "DIGEST_NOT_ALLOWED")
            assert digest_of(response) == "sm3"  # the refusal, too, answers in SM3

    async def test_tongsuo_signs_the_request_and_verifies_the_gateways_answer(
        self, gw: Gateway
    ) -> None:
        """Cross-implementation through the running gateway: a member whose key and request
        signature are Tongsuo's (over the base the reference package built) is served, and
        Tongsuo verifies the gateway's SM2 response signature over the base it signed."""
        await window(gw)
        theirs = tongsuo_generate()
        public_pem = theirs.public_key().public_bytes(
            ts.Encoding.PEM, ts.PublicFormat.SubjectPublicKeyInfo
        )
        private_pem = theirs.private_bytes(
            ts.Encoding.PEM, ts.PrivateFormat.PKCS8, ts.NoEncryption()
        )
        public = load_public_key(public_pem)
        await gw.services.members.add_member(
            "ts-window", ["consumer"], keys=[public], grants=[Grant("certificate", "YYZZ")]
        )

        class Message:
            method, url = "GET", f"http://gateway{LIST}"
            headers = {"Gov-Purpose": PURPOSE, "Gov-Case": "SL-UNSEEN-0001"}

        message = Message()
        signer = HTTPMessageSigner(signature_algorithm=SM2_SM3, key_resolver=one_key("-"))
        prepared = signer.prepare(
            message,
            key_id=key_id(public),
            nonce="tongsuo-nonce-1",
            label="govgate",
            covered_component_ids=(
                "@method",
                "@authority",
                "@path",
                "@query",
                "gov-purpose",
                "gov-case",
            ),
        )
        signature = der_to_raw(tongsuo_sign(private_pem, prepared.signature_base))
        signer.apply(message, prepared, signature)
        response = await gw.client.get(LIST, headers=message.headers)
        assert response.status_code == 200, response.text
        assert response.json()["items"][0]["record"]["cert_id"] == "330802-YYZZ-0001"

        fields = fast.field_lines(dict(response.headers))
        found = fast.parse_signature(fields)
        assert found is not None and found.params["alg"] == "sm2-sm3"
        request = fast.Message("GET", Message.url, fast.field_lines(message.headers))
        base = fast.signature_base(
            fast.Message("", "", fields, 200, request), found.components, found.serialized
        )
        assert base is not None and b'"content-digest": sm3=:' in base
        gateway_pem = public_key_pem(gw.services.keys.private_key)
        r_s = base64.b64decode(found.signature[1:-1])
        assert tongsuo_verify(gateway_pem, raw_to_der(r_s), base)
        assert not tongsuo_verify(gateway_pem, raw_to_der(r_s), base.replace(b"200", b"201"))

    async def test_a_caller_wanting_sha256_still_gets_sm3(self, gw: Gateway) -> None:
        await window(gw)
        response = await gw.call("GET", LIST, headers={"Want-Content-Digest": "sha-256=10"})
        assert response.status_code == 200 and digest_of(response) == "sm3"


class TestDigestNegotiation:
    """A gateway that takes every algorithm answers in the digest the caller asked for."""

    @pytest.mark.parametrize(
        ("want", "expected"),
        [
            (None, "sha-256"),
            ("sm3=10", "sm3"),
            ("sha-512=3, sm3=1", "sha-512"),
            ("sm3=0, sha-512=1", "sha-512"),
            ("nonsense(", "sha-256"),
        ],
    )
    async def test_want_content_digest(self, gw: Gateway, want: str | None, expected: str) -> None:
        await window(gw)
        headers = {} if want is None else {"Want-Content-Digest": want}
        response = await gw.call("GET", LIST, headers=headers)
        assert response.status_code == 200 and digest_of(response) == expected
        await verify(gw, response)

    @pytest.mark.parametrize("digest", ["sm3", "sha-512", "sha-256"])
    async def test_a_body_digest_is_answered_in_kind(self, gw: Gateway, digest: str) -> None:
        await window(gw)
        body = json.dumps(to_jsonable(certificate("330802-YYZZ-0002"))).encode()
        response = await gw.call(
            "POST", "/v1/events/certificates", "dept", purpose=None, body=body, digest=digest
        )
        assert response.status_code == 202, response.text
        assert response.request.headers["content-digest"] == content_digest(body, digest)  # type: ignore[arg-type]
        assert digest_of(response) == digest
        await verify(gw, response)


def test_the_settings_name_the_same_algorithms_as_the_code() -> None:
    from gateway.members.keys import ALGORITHMS
    from gateway.settings import DIGEST_ALGORITHM_NAMES, SIGNATURE_ALGORITHM_NAMES
    from gateway.signatures.digests import DIGEST_ALGORITHMS

    assert SIGNATURE_ALGORITHM_NAMES == ALGORITHMS
    assert DIGEST_ALGORITHM_NAMES == DIGEST_ALGORITHMS


def test_the_allow_list_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVGATE_GATEWAY_ALGORITHMS", '["SM2", "sm3"]')
    gateway = Settings().gateway
    assert gateway.algorithms == ("sm2-sm3", "sm3") == (*SM_ONLY["algorithms"],)
    assert (gateway.generated_key_alg, gateway.digest_algorithms) == ("sm2-sm3", ("sm3",))
    for bad in ('["sm3"]', '["sm2"]', '["sm2", "sm3", "md5"]', '["sm2", "sm2-sm3", "sm3"]'):
        monkeypatch.setenv("GOVGATE_GATEWAY_ALGORITHMS", bad)
        with pytest.raises(ValidationError):
            Settings()
    monkeypatch.setenv("GOVGATE_GATEWAY_ALGORITHMS", '["sm2", "sm3"]')
    monkeypatch.setenv("GOVGATE_GATEWAY_RESPONSE_KEY_ALG", "ed25519")
    with pytest.raises(ValidationError, match="response_key_alg ed25519 is not in"):
        Settings()


def test_the_response_key_is_generated_in_the_algorithm_asked_for(data_dir: Path) -> None:
    keys = load_signing_keys(gateway_settings(data_dir, response_key_alg="sm2"))
    assert algorithm_of(keys.private_key) == "sm2-sm3"
    assert load_signing_keys(gateway_settings(data_dir)).keyid == keys.keyid  # kept


def test_a_response_key_the_operator_ruled_out_stops_the_start(
    data_dir: Path, tmp_path: Path
) -> None:
    load_signing_keys(gateway_settings(data_dir))  # an Ed25519 key from an earlier start
    with pytest.raises(AlgorithmNotAllowed, match=r"gateway\.private\.pem: ed25519 keys are not"):
        load_signing_keys(gateway_settings(data_dir, **SM_ONLY))
    with pytest.raises(KeyFormatError, match="is an ed25519 key, not sm2-sm3"):
        load_signing_keys(gateway_settings(data_dir, response_key_alg="sm2-sm3"))
    given = write_key_pair(tmp_path, generate_private_key("ecdsa-p256-sha256"), name="gw")
    with pytest.raises(AlgorithmNotAllowed):
        load_signing_keys(gateway_settings(data_dir, response_key=given.private_path, **SM_ONLY))
    old = write_key_pair(tmp_path, generate_private_key("ed25519"), name="old")
    sm2 = write_key_pair(tmp_path, generate_private_key("sm2-sm3"), name="new")
    keys = load_signing_keys(
        gateway_settings(
            data_dir, response_key=sm2.private_path, previous_keys=(old.public_path,), **SM_ONLY
        )
    )
    assert [algorithm_of(k) for k in keys.published] == ["sm2-sm3", "ed25519"]  # old proofs
