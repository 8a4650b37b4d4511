"""SM2 with the SM3 Z_A pre-hash: the standards' examples byte for byte, signing and verifying
in both encodings, and every refusal by its error class and code.

The primary library (GmSSL) draws k itself, so the fixed-k examples are reproduced byte for
byte by gmalg, and the primary verifies the standard's signature; cross-implementation checks of
fresh signatures, both ways, are in test_interop.py.
"""

from __future__ import annotations

import pytest

from gateway.crypto.errors import (
    BadSignature,
    CryptoError,
    InvalidUserId,
    KeyFormatError,
    MalformedSignature,
)
from gateway.crypto.sm2 import (
    DEFAULT_USER_ID,
    MAX_USER_ID_BYTES,
    CurveParameters,
    SM2PrivateKey,
    SM2PublicKey,
    z_a,
)
from gateway.crypto.sm2_asn1 import N, der_to_raw, raw_to_der
from gateway.crypto.sm3 import sm3
from tests.gateway.crypto.others import gmalg_sign, gmalg_sign_on_part2_curve
from tests.gateway.crypto.vectors import PART2, PART2_CURVE, PART5, SIGNATURE_BASES

PART5_RAW = bytes.fromhex(f"{PART5.r:064X}{PART5.s:064X}")
# r and s both have their top bit set: each INTEGER takes a leading 00 (DER, X.690 §8.3)
PART5_DER = bytes.fromhex(f"3046022100{PART5.r:064X}022100{PART5.s:064X}")


@pytest.fixture(scope="module")
def key() -> SM2PrivateKey:
    return SM2PrivateKey.generate()


# --- the standards' examples -------------------------------------------------------------------


def test_default_user_id_is_the_standards() -> None:
    assert DEFAULT_USER_ID == b"1234567812345678" == PART5.user_id


def test_part5_z_a_and_e() -> None:
    public = SM2PublicKey(PART5.xy)
    assert z_a(PART5.xy) == PART5.z_a
    assert public.digest(PART5.message) == PART5.e == sm3(PART5.z_a + PART5.message)


def test_part2_z_a_and_e_on_the_example_curve() -> None:
    curve = CurveParameters(
        a=PART2_CURVE["a"], b=PART2_CURVE["b"], gx=PART2_CURVE["gx"], gy=PART2_CURVE["gy"]
    )
    assert z_a(PART2.xy, PART2.user_id, curve) == PART2.z_a
    assert sm3(PART2.z_a + PART2.message) == PART2.e


def test_part5_signature_verifies_in_both_encodings() -> None:
    public = SM2PublicKey(PART5.xy)
    public.verify(PART5_DER, PART5.message)
    public.verify(PART5_RAW, PART5.message, encoding="raw")
    assert raw_to_der(PART5_RAW) == PART5_DER
    assert der_to_raw(PART5_DER) == PART5_RAW


def test_part5_fixed_k_signature_reproduced_byte_for_byte() -> None:
    raw = gmalg_sign(PART5.d, PART5.xy, PART5.message, PART5.user_id, k=PART5.k)
    assert raw == PART5_RAW
    assert raw_to_der(raw) == PART5_DER


def test_part2_fixed_k_signature_reproduced_by_the_cross_check_library() -> None:
    # the test library is faithful on the standard's own example curve too
    found = gmalg_sign_on_part2_curve(PART2.d, PART2.xy, PART2.message, PART2.user_id, PART2.k)
    assert found == (PART2.r, PART2.s)


def test_part5_signature_refused_for_another_message_or_user_id() -> None:
    public = SM2PublicKey(PART5.xy)
    with pytest.raises(BadSignature):
        public.verify(PART5_DER, b"message digesT")
    with pytest.raises(BadSignature):
        public.verify(PART5_DER, PART5.message, user_id=b"ALICE123@YAHOO.COM")


# --- signing and verifying ---------------------------------------------------------------------


@pytest.mark.parametrize("message", SIGNATURE_BASES)
def test_sign_verify_round_trip(key: SM2PrivateKey, message: bytes) -> None:
    der = key.sign(message)
    raw = key.sign(message, encoding="raw")
    # DER drops an integer's leading zero bytes (r or s below 2**248 about 1 time in 128), so a
    # valid signature can be shorter than 70 bytes: check its shape, not a minimum length.
    assert len(raw) == 64 and len(der) <= 72 and der[0] == 0x30 and der[1] == len(der) - 2
    key.public_key().verify(der, message)
    key.public_key().verify(raw, message, encoding="raw")
    key.public_key().verify(der_to_raw(der), message, encoding="raw")


def test_signatures_are_randomized(key: SM2PrivateKey) -> None:
    first, second = key.sign(b"m"), key.sign(b"m")
    assert first != second  # a fresh k each time; both verify
    key.public_key().verify(first, b"m")
    key.public_key().verify(second, b"m")


@pytest.mark.parametrize(
    "user_id", [b"1", b"ALICE123@YAHOO.COM", "衢州市大数据局".encode(), b"x" * MAX_USER_ID_BYTES]
)
def test_user_id_is_configurable_and_binding(key: SM2PrivateKey, user_id: bytes) -> None:
    signature = key.sign(b"m", user_id=user_id)
    key.public_key().verify(signature, b"m", user_id=user_id)
    with pytest.raises(BadSignature):
        key.public_key().verify(signature, b"m")  # the default id gives another Z_A


@pytest.mark.parametrize("user_id", [b"", b"x" * (MAX_USER_ID_BYTES + 1)])
def test_user_id_length_limits(key: SM2PrivateKey, user_id: bytes) -> None:
    with pytest.raises(InvalidUserId):
        key.sign(b"m", user_id=user_id)
    with pytest.raises(InvalidUserId):
        key.public_key().verify(PART5_DER, b"m", user_id=user_id)


def test_wrong_key_refused(key: SM2PrivateKey) -> None:
    with pytest.raises(BadSignature) as refused:
        SM2PrivateKey.generate().public_key().verify(key.sign(b"m"), b"m")
    assert type(refused.value) is BadSignature  # well-formed, it just does not verify
    assert (refused.value.code, refused.value.retriable) == ("BAD_SIGNATURE", False)


def test_every_flipped_bit_of_a_raw_signature_refused(key: SM2PrivateKey) -> None:
    raw = key.sign(b"m", encoding="raw")
    for bit in range(0, 512, 7):
        tampered = bytearray(raw)
        tampered[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(BadSignature):  # or MalformedSignature, if r or s left [1, n-1]
            key.public_key().verify(bytes(tampered), b"m", encoding="raw")


def test_tampered_message_refused(key: SM2PrivateKey) -> None:
    signature = key.sign(SIGNATURE_BASES[0])
    with pytest.raises(BadSignature):
        key.public_key().verify(signature, SIGNATURE_BASES[0].replace(b"GET", b"PUT"))


def _der_int(value: bytes) -> bytes:
    return bytes((0x02, len(value))) + value


R, S = PART5.r.to_bytes(32, "big"), PART5.s.to_bytes(32, "big")


@pytest.mark.parametrize(
    ("signature", "encoding"),
    [
        (PART5_DER + b"\x00", "der"),  # trailing byte
        (PART5_DER[:-1], "der"),  # truncated
        (b"\x30\x81\x46" + PART5_DER[2:], "der"),  # long-form length where short form fits
        (b"\x30\x47" + _der_int(b"\x00\x00" + R) + _der_int(b"\x00" + S), "der"),  # padded r
        (b"\x30\x44" + _der_int(R) + _der_int(b"\x00" + S), "der"),  # r read as negative
        (PART5_RAW, "der"),  # raw where DER is expected
        (PART5_DER, "raw"),  # DER where raw is expected
        (PART5_RAW[:-1], "raw"),
        (bytes(32) + S, "raw"),  # r = 0
        (R + bytes(32), "raw"),  # s = 0
        (N.to_bytes(32, "big") + S, "raw"),  # r = n
        (R + (N + 1).to_bytes(32, "big"), "raw"),  # s > n
        (b"", "der"),
        (PART5_DER, "pem"),  # no such encoding
    ],
)
def test_malformed_signatures_refused(signature: bytes, encoding: str) -> None:
    with pytest.raises(MalformedSignature) as refused:
        SM2PublicKey(PART5.xy).verify(signature, PART5.message, encoding=encoding)  # type: ignore[arg-type]
    assert refused.value.code == "MALFORMED_SIGNATURE"
    assert isinstance(refused.value, BadSignature)  # callers may catch the one class


def test_errors_carry_code_retriable_detail() -> None:
    for error in (KeyFormatError("x"), InvalidUserId("x"), MalformedSignature("x")):
        assert isinstance(error, CryptoError)
        assert error.retriable is False and error.detail == "x"
        assert str(error) == f"{error.code}: x"
