"""Cross-implementation: a signature made by gateway.crypto (GmSSL) verifies with Tongsuo and
with gmalg, and theirs verify with gateway.crypto — both ways, over signature bases of the
shape govgate signs, with the default user id and (gmalg only: Tongsuo has no setting for it)
with others. Keys travel between the implementations as PEM files or as the raw point."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from tongsuopy.crypto import serialization as ts

from gateway.crypto.errors import BadSignature
from gateway.crypto.sm2 import DEFAULT_USER_ID, SM2PrivateKey, SM2PublicKey
from gateway.crypto.sm2_asn1 import der_to_raw, raw_to_der
from tests.gateway.crypto.others import (
    gmalg_sign,
    gmalg_verify,
    tongsuo_generate,
    tongsuo_sign,
    tongsuo_verify,
)
from tests.gateway.crypto.vectors import SIGNATURE_BASES

PKCS8 = (
    serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption(),
)
SPKI = (serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
USER_IDS = [DEFAULT_USER_ID, b"ALICE123@YAHOO.COM", "330802衢州市柯城区".encode()]


@pytest.fixture(scope="module")
def ours() -> SM2PrivateKey:
    return SM2PrivateKey.generate()


def _scalar(key: SM2PrivateKey) -> int:
    """d, read where the (canonical) PKCS#8 DER holds it: gmalg takes the bare scalar."""
    der = key.private_bytes(serialization.Encoding.DER, *PKCS8[1:])
    return int.from_bytes(der[36:68], "big")


def _xy(public: SM2PublicKey) -> bytes:
    return public.point()[1:]


@pytest.mark.parametrize("message", SIGNATURE_BASES)
def test_ours_verify_with_tongsuo(ours: SM2PrivateKey, message: bytes) -> None:
    public_pem = ours.public_key().public_bytes(*SPKI)
    assert tongsuo_verify(public_pem, ours.sign(message), message)
    assert tongsuo_verify(public_pem, raw_to_der(ours.sign(message, encoding="raw")), message)
    assert not tongsuo_verify(public_pem, ours.sign(message + b"!"), message)


@pytest.mark.parametrize("message", SIGNATURE_BASES)
def test_tongsuo_verify_with_ours(message: bytes) -> None:
    key = tongsuo_generate()
    private_pem = key.private_bytes(ts.Encoding.PEM, ts.PrivateFormat.PKCS8, ts.NoEncryption())
    public = SM2PrivateKey.from_pem(private_pem).public_key()
    signature = tongsuo_sign(private_pem, message)
    public.verify(signature, message)
    public.verify(der_to_raw(signature), message, encoding="raw")
    with pytest.raises(BadSignature):
        public.verify(signature, message + b"!")


@pytest.mark.parametrize("user_id", USER_IDS)
@pytest.mark.parametrize("message", SIGNATURE_BASES[:3])
def test_ours_verify_with_gmalg(ours: SM2PrivateKey, user_id: bytes, message: bytes) -> None:
    raw = ours.sign(message, user_id=user_id, encoding="raw")
    assert gmalg_verify(_xy(ours.public_key()), message, raw, user_id)
    assert not gmalg_verify(_xy(ours.public_key()), message + b"!", raw, user_id)


@pytest.mark.parametrize("user_id", USER_IDS)
@pytest.mark.parametrize("message", SIGNATURE_BASES[:3])
def test_gmalg_verify_with_ours(ours: SM2PrivateKey, user_id: bytes, message: bytes) -> None:
    raw = gmalg_sign(_scalar(ours), _xy(ours.public_key()), message, user_id)
    ours.public_key().verify(raw, message, user_id=user_id, encoding="raw")
    with pytest.raises(BadSignature):
        ours.public_key().verify(raw, message, user_id=user_id + b"!", encoding="raw")
