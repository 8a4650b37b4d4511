"""SM2 keys and signatures in the standard encodings (GB/T 35276-2017, GM/T 0009-2012 §7).

- Public key: SubjectPublicKeyInfo with algorithm id-ecPublicKey (1.2.840.10045.2.1) and the
  named curve sm2p256v1 (1.2.156.10197.1.301) as its parameters; the key is the uncompressed
  point `04 || x || y` (GM/T 0009's SM2PublicKey), 91 bytes of DER in all.
- Private key: PKCS#8 PrivateKeyInfo with the same algorithm identifier, holding an RFC 5915
  ECPrivateKey (version 1, the 32-byte scalar, [1] the public point) — what OpenSSL, Tongsuo
  and GmSSL write. A bare SEC 1 ECPrivateKey (`EC PRIVATE KEY`, as `openssl ecparam -genkey
  -name SM2` writes) is read too, when it names the curve.

- Signature: DER `SEQUENCE { r INTEGER, s INTEGER }` (GM/T 0009's SM2Signature), or raw
  r || s, 32 bytes each big-endian (as RFC 9421 and JWS carry ECDSA). Both are read strictly:
  one encoding per signature, r and s in [1, n-1].

The key functions only move bytes: the point and the scalar are checked in `gateway.crypto.sm2`.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from gateway.crypto.der import (
    BIT_STRING,
    EXPLICIT_0,
    EXPLICIT_1,
    INTEGER,
    OBJECT_IDENTIFIER,
    OCTET_STRING,
    SEQUENCE,
    children,
    encode,
    encode_small_int,
    oid_text,
    read_small_int,
    read_whole,
)
from gateway.crypto.errors import KeyFormatError, MalformedSignature

ID_EC_PUBLIC_KEY = bytes.fromhex("2a8648ce3d0201")  # 1.2.840.10045.2.1
SM2P256V1 = bytes.fromhex("2a811ccf5501822d")  # 1.2.156.10197.1.301
POINT_SIZE = 65  # 04 || x || y
SCALAR_SIZE = 32
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123  # order of G (sm2p256v1)
RAW_SIGNATURE_SIZE = 64
SignatureEncoding: TypeAlias = Literal["der", "raw"]
_ALGORITHM = encode(
    SEQUENCE, encode(OBJECT_IDENTIFIER, ID_EC_PUBLIC_KEY) + encode(OBJECT_IDENTIFIER, SM2P256V1)
)


def spki(point: bytes) -> bytes:
    """The SubjectPublicKeyInfo DER of an uncompressed point."""
    return encode(SEQUENCE, _ALGORITHM + encode(BIT_STRING, b"\x00" + point))


def pkcs8(scalar: bytes, point: bytes) -> bytes:
    """The PKCS#8 PrivateKeyInfo DER of a key pair, as OpenSSL writes it."""
    ec_private_key = encode(
        SEQUENCE,
        encode_small_int(1)
        + encode(OCTET_STRING, scalar)
        + encode(EXPLICIT_1, encode(BIT_STRING, b"\x00" + point)),
    )
    return encode(SEQUENCE, encode_small_int(0) + _ALGORITHM + encode(OCTET_STRING, ec_private_key))


def point_from_spki(der: bytes) -> bytes:
    """The uncompressed point of a SubjectPublicKeyInfo on sm2p256v1."""
    items = children(read_whole(der, SEQUENCE))
    if [tag for tag, _ in items] != [SEQUENCE, BIT_STRING]:
        raise KeyFormatError("not a SubjectPublicKeyInfo")
    _check_algorithm(items[0][1])
    return _point(items[1][1])


def private_from_der(der: bytes) -> tuple[bytes, bytes | None]:
    """(scalar, point or None) of a PKCS#8 PrivateKeyInfo or SEC 1 ECPrivateKey on sm2p256v1."""
    items = children(read_whole(der, SEQUENCE))
    if not items or items[0][0] != INTEGER:
        raise KeyFormatError("not a private key structure")
    version = read_small_int(items[0][1])
    if version == 1:  # SEC 1 ECPrivateKey on its own: it must name its curve
        return _ec_private_key(der, curve_required=True)
    tags = [tag for tag, _ in items]
    if version != 0 or tags[:3] != [INTEGER, SEQUENCE, OCTET_STRING] or len(tags) > 4:
        raise KeyFormatError("not a PKCS#8 PrivateKeyInfo (version 0) or SEC 1 ECPrivateKey")
    if len(tags) == 4 and tags[3] != 0xA0:  # [0] IMPLICIT attributes, ignored
        raise KeyFormatError("PKCS#8: unexpected element after the private key")
    _check_algorithm(items[1][1])
    return _ec_private_key(items[2][1], curve_required=False)


def _check_algorithm(contents: bytes) -> None:
    items = children(contents)
    if not items or items[0] != (OBJECT_IDENTIFIER, ID_EC_PUBLIC_KEY):
        name = oid_text(items[0][1]) if items and items[0][0] == OBJECT_IDENTIFIER else "?"
        raise KeyFormatError(f"not an elliptic-curve key (algorithm {name})")
    if len(items) != 2 or items[1][0] != OBJECT_IDENTIFIER:
        raise KeyFormatError("the curve must be named by its OID")
    _check_curve(items[1][1])


def _check_curve(oid: bytes) -> None:
    if oid != SM2P256V1:
        raise KeyFormatError(f"curve {oid_text(oid)} is not SM2 (1.2.156.10197.1.301)")


def _point(bit_string: bytes) -> bytes:
    if bit_string[:1] != b"\x00":
        raise KeyFormatError("public key BIT STRING must have no unused bits")
    point = bit_string[1:]
    if len(point) != POINT_SIZE or point[0] != 0x04:
        raise KeyFormatError("the public key must be an uncompressed point (04 || x || y)")
    return point


def _ec_private_key(der: bytes, *, curve_required: bool) -> tuple[bytes, bytes | None]:
    items = children(read_whole(der, SEQUENCE))
    if len(items) < 2 or [tag for tag, _ in items[:2]] != [INTEGER, OCTET_STRING]:
        raise KeyFormatError("not an ECPrivateKey")
    if read_small_int(items[0][1]) != 1:
        raise KeyFormatError("ECPrivateKey version must be 1")
    scalar = items[1][1]
    if len(scalar) != SCALAR_SIZE:
        raise KeyFormatError(f"the private scalar must be {SCALAR_SIZE} bytes, not {len(scalar)}")
    rest = items[2:]
    curve_named = False
    point: bytes | None = None
    if rest and rest[0][0] == EXPLICIT_0:
        _check_curve(read_whole(rest.pop(0)[1], OBJECT_IDENTIFIER))
        curve_named = True
    if rest and rest[0][0] == EXPLICIT_1:
        point = _point(read_whole(rest.pop(0)[1], BIT_STRING))
    if rest:
        raise KeyFormatError("ECPrivateKey: unexpected element")
    if curve_required and not curve_named:
        raise KeyFormatError("EC PRIVATE KEY without its curve: cannot tell it is SM2")
    return scalar, point


def decode_signature(signature: bytes, encoding: SignatureEncoding = "der") -> tuple[int, int]:
    """(r, s) of a signature in `encoding`, or `MalformedSignature`."""
    if encoding == "raw":
        if len(signature) != RAW_SIGNATURE_SIZE:
            raise MalformedSignature(f"a raw SM2 signature is {RAW_SIGNATURE_SIZE} bytes")
        r = int.from_bytes(signature[:SCALAR_SIZE], "big")
        s = int.from_bytes(signature[SCALAR_SIZE:], "big")
    elif encoding == "der":
        try:
            r, s = decode_dss_signature(signature)
        except ValueError as exc:
            raise MalformedSignature(f"not a DER SM2 signature: {exc}") from exc
        if encode_dss_signature(r, s) != signature:
            raise MalformedSignature("SM2 signature not in strict DER")
    else:
        raise MalformedSignature(f"unknown signature encoding {encoding!r}")
    if not (0 < r < N and 0 < s < N):
        raise MalformedSignature("r and s must lie in [1, n-1]")
    return r, s


def encode_signature(r: int, s: int, encoding: SignatureEncoding) -> bytes:
    if encoding == "raw":
        return r.to_bytes(SCALAR_SIZE, "big") + s.to_bytes(SCALAR_SIZE, "big")
    if encoding == "der":
        return encode_dss_signature(r, s)
    raise ValueError(f"unknown signature encoding {encoding!r}")


def der_to_raw(signature: bytes) -> bytes:
    """A strict-DER signature as r || s (64 bytes)."""
    return encode_signature(*decode_signature(signature, "der"), "raw")


def raw_to_der(signature: bytes) -> bytes:
    """An r || s signature (64 bytes) as DER."""
    return encode_signature(*decode_signature(signature, "raw"), "der")
