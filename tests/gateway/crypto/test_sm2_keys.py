"""SM2 key files and JWKs: the standard encodings, byte-identical with Tongsuo's, round trips,
the key id, and every kind of wrong key material refused with `KeyFormatError`."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from tongsuopy.crypto import serialization as tongsuo_serialization

from gateway.crypto.der import (
    EXPLICIT_0,
    OBJECT_IDENTIFIER,
    OCTET_STRING,
    SEQUENCE,
    encode,
    encode_small_int,
    pem_encode,
)
from gateway.crypto.errors import KeyFormatError
from gateway.crypto.sm2 import SM2PrivateKey, SM2PublicKey
from gateway.crypto.sm2_asn1 import SM2P256V1, N, pkcs8, spki
from tests.gateway.crypto.others import tongsuo_generate
from tests.gateway.crypto.vectors import PART5

PEM, DER = serialization.Encoding.PEM, serialization.Encoding.DER
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo
PKCS8 = serialization.PrivateFormat.PKCS8
PLAIN = serialization.NoEncryption()
# The DER an SM2 public key must have (GB/T 35276 / RFC 5480): id-ecPublicKey, sm2p256v1, point
SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d034200")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _tongsuo_pems() -> tuple[bytes, bytes]:
    key = tongsuo_generate()
    private = key.private_bytes(
        tongsuo_serialization.Encoding.PEM,
        tongsuo_serialization.PrivateFormat.PKCS8,
        tongsuo_serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        tongsuo_serialization.Encoding.PEM, tongsuo_serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def test_public_key_der_is_the_standard_structure() -> None:
    public = SM2PublicKey(PART5.xy)
    assert public.public_bytes(DER, SPKI) == SPKI_PREFIX + b"\x04" + PART5.xy
    point = (serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    assert public.public_bytes(*point) == b"\x04" + PART5.xy
    assert SM2PublicKey.from_der(SPKI_PREFIX + b"\x04" + PART5.xy) == public


def test_tongsuo_files_read_and_written_byte_for_byte() -> None:
    private_pem, public_pem = _tongsuo_pems()
    key = SM2PrivateKey.from_pem(private_pem)
    assert key.private_bytes(PEM, PKCS8, PLAIN) == private_pem
    assert key.public_key().public_bytes(PEM, SPKI) == public_pem
    assert SM2PublicKey.from_pem(public_pem) == key.public_key()


def test_tongsuo_reads_ours() -> None:
    key = SM2PrivateKey.generate()
    loaded = tongsuo_serialization.load_pem_private_key(key.private_bytes(PEM, PKCS8, PLAIN), None)
    public = tongsuo_serialization.load_pem_public_key(key.public_key().public_bytes(PEM, SPKI))
    numbers = loaded.public_key().public_numbers()
    assert (numbers.x, numbers.y) == (key.public_key().x, key.public_key().y)
    assert public.public_numbers() == numbers


def test_sec1_ec_private_key_is_read() -> None:
    key = tongsuo_generate()
    sec1 = key.private_bytes(
        tongsuo_serialization.Encoding.PEM,
        tongsuo_serialization.PrivateFormat.TraditionalOpenSSL,
        tongsuo_serialization.NoEncryption(),
    )
    assert b"BEGIN EC PRIVATE KEY" in sec1
    # as `openssl ecparam -genkey -name SM2` writes it: the curve's block first
    params = pem_encode("EC PARAMETERS", encode(OBJECT_IDENTIFIER, SM2P256V1))
    ours = SM2PrivateKey.from_pem(params + sec1)
    assert ours.public_key().x == key.public_key().public_numbers().x


def test_round_trips_keep_the_key_and_its_id() -> None:
    key = SM2PrivateKey.generate()
    for encoding in (PEM, DER):
        data = key.private_bytes(encoding, PKCS8, PLAIN)
        again = SM2PrivateKey.from_pem(data) if encoding is PEM else SM2PrivateKey.from_der(data)
        assert again.public_key() == key.public_key()
        assert again.private_bytes(encoding, PKCS8, PLAIN) == data
    public = SM2PublicKey.from_jwk(key.public_key().public_jwk())
    assert public == key.public_key() and public.key_id() == key.public_key().key_id()


def test_jwk_and_key_id_of_the_standards_key() -> None:
    x, y = _b64url(PART5.xy[:32]), _b64url(PART5.xy[32:])
    public = SM2PublicKey(PART5.xy)
    assert public.public_jwk() == {"crv": "SM2", "kty": "EC", "x": x, "y": y}
    canonical = f'{{"crv":"SM2","kty":"EC","x":"{x}","y":"{y}"}}'.encode()
    assert public.key_id() == _b64url(hashlib.sha256(canonical).digest())


def _ed25519_pem() -> bytes:
    return ed25519.Ed25519PrivateKey.generate().private_bytes(PEM, PKCS8, PLAIN)


def _p256_public_pem() -> bytes:
    return ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(PEM, SPKI)


def _pkcs8_pem(scalar: bytes, point: bytes) -> bytes:
    return pem_encode("PRIVATE KEY", pkcs8(scalar, point))


OTHER_POINT = SM2PrivateKey.generate().public_key().point()
PART5_D = PART5.d.to_bytes(32, "big")


@pytest.mark.parametrize(
    ("load", "data", "reason"),
    [
        (SM2PrivateKey.from_pem, _ed25519_pem(), "algorithm 1.3.101.112"),
        (SM2PublicKey.from_pem, _p256_public_pem(), "curve 1.2.840.10045.3.1.7 is not SM2"),
        (SM2PrivateKey.from_pem, _pkcs8_pem(PART5_D, OTHER_POINT), "not the private key's"),
        (SM2PrivateKey.from_pem, _pkcs8_pem(bytes(32), OTHER_POINT), "[1, n-2]"),
        (SM2PrivateKey.from_pem, _pkcs8_pem((N - 1).to_bytes(32, "big"), OTHER_POINT), "[1, n-2]"),
        (SM2PrivateKey.from_pem, _pkcs8_pem(PART5_D[1:], OTHER_POINT), "32 bytes"),
        (SM2PublicKey.from_der, SPKI_PREFIX + b"\x04" + PART5.xy[:-1] + b"\x00", "not a point"),
        (SM2PublicKey.from_der, SPKI_PREFIX + b"\x04" + PART5.xy + b"\x00", "DER"),
        (SM2PublicKey.from_der, spki(b"\x02" + PART5.xy[:32]), "uncompressed"),  # compressed
        (SM2PublicKey.from_der, b"\x30\x80" + SPKI_PREFIX[2:] + b"\x04" + PART5.xy, "DER"),
        (
            SM2PublicKey.from_pem,
            b"-----BEGIN PUBLIC KEY-----\nMF*=\n-----END PUBLIC KEY-----\n",
            "base64",
        ),
        (SM2PublicKey.from_pem, b"no pem here", "no PEM block"),
        (SM2PublicKey.from_pem, _ed25519_pem(), "expected a PEM PUBLIC KEY"),
        (
            SM2PrivateKey.from_pem,
            b"-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n"
            b"AAAA\n-----END EC PRIVATE KEY-----\n",
            "encrypted",
        ),
    ],
)
def test_wrong_key_material_refused(
    load: Callable[[bytes], object], data: bytes, reason: str
) -> None:
    with pytest.raises(KeyFormatError) as refused:
        load(data)
    assert reason in refused.value.detail
    assert refused.value.code == "KEY_FORMAT"


def test_a_pair_is_checked_however_it_is_built() -> None:
    with pytest.raises(KeyFormatError, match="not the private key's"):
        SM2PrivateKey(PART5_D, SM2PrivateKey.generate().public_key())
    assert SM2PrivateKey(PART5_D, SM2PublicKey(PART5.xy)).public_key() == SM2PublicKey(PART5.xy)
    for wrong_size in (b"\x04" + PART5.xy, b"\x02" + PART5.xy[:32]):
        with pytest.raises(KeyFormatError, match="64 bytes"):
            SM2PublicKey(wrong_size)  # `from_point` reads 04 || x || y


def test_encrypted_pkcs8_refused() -> None:
    encrypted = tongsuo_generate().private_bytes(
        tongsuo_serialization.Encoding.PEM,
        tongsuo_serialization.PrivateFormat.PKCS8,
        tongsuo_serialization.BestAvailableEncryption(b"secret"),
    )
    with pytest.raises(KeyFormatError, match="encrypted"):
        SM2PrivateKey.from_pem(encrypted)


def test_private_key_without_its_public_point_refused() -> None:
    curve = encode(EXPLICIT_0, encode(OBJECT_IDENTIFIER, SM2P256V1))
    sec1 = encode(SEQUENCE, encode_small_int(1) + encode(OCTET_STRING, PART5_D) + curve)
    with pytest.raises(KeyFormatError, match="lacks its public key"):
        SM2PrivateKey.from_der(sec1)
    without_curve = encode(SEQUENCE, encode_small_int(1) + encode(OCTET_STRING, PART5_D))
    with pytest.raises(KeyFormatError, match="without its curve"):
        SM2PrivateKey.from_der(without_curve)


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"},
        {"kty": "OKP", "crv": "SM2", "x": "AA"},
        {"kty": "EC", "crv": "SM2", "x": _b64url(PART5.xy[:32])},
        {"kty": "EC", "crv": "SM2", "x": _b64url(PART5.xy[:31]), "y": _b64url(PART5.xy[32:])},
        {"kty": "EC", "crv": "SM2", "x": _b64url(PART5.xy[:32]) + "=", "y": _b64url(PART5.xy[32:])},
        {"kty": "EC", "crv": "SM2", "x": _b64url(PART5.xy[:32]), "y": _b64url(bytes(32))},
        {**SM2PublicKey(PART5.xy).public_jwk(), "d": _b64url(PART5_D)},
    ],
)
def test_bad_jwks_refused(jwk: dict[str, str]) -> None:
    with pytest.raises(KeyFormatError):
        SM2PublicKey.from_jwk(jwk)


def test_unsupported_serializations_refused() -> None:
    key = SM2PrivateKey.generate()
    with pytest.raises(KeyFormatError):
        key.private_bytes(PEM, PKCS8, serialization.BestAvailableEncryption(b"pw"))
    with pytest.raises(KeyFormatError):
        key.private_bytes(PEM, serialization.PrivateFormat.Raw, PLAIN)
    with pytest.raises(KeyFormatError):
        key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def test_private_key_repr_does_not_show_the_scalar() -> None:
    key = SM2PrivateKey.from_pem(_pkcs8_pem(PART5_D, b"\x04" + PART5.xy))
    assert PART5_D.hex() not in repr(key).lower() and repr(key).startswith("<SM2PrivateKey ")
