"""SM2 signatures (GB/T 32918.2-2016) with SM3 on the curve sm2p256v1 (GB/T 32918.5-2017).

To sign a message M as the user ID_A with key pair (d_A, P_A = (x_A, y_A)):

    Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A)
    e   = SM3(Z_A || M)
    (r, s) = SM2 signature of e under d_A, with a fresh random k   (GB/T 32918.2 §6.1)

ENTL_A is the bit length of ID_A as two bytes big-endian; a, b, x_G, y_G, x_A, y_A are 32 bytes
big-endian each. ID_A defaults to `1234567812345678` (GM/T 0009-2012 §10). The Z_A pre-hash is
computed here (it is only hashing); the curve arithmetic is GmSSL's, through `gmssl-pyx`.

Signatures come as DER (`SEQUENCE { r INTEGER, s INTEGER }`, GM/T 0009 §7.3) or raw (r || s,
32 bytes each); both are read strictly, r and s must lie in [1, n-1]. The key classes follow the
shape of `cryptography`'s (`sign(data)`, `verify(signature, data)`, `public_key()`,
`public_bytes(...)`, `private_bytes(...)`), so they sit beside Ed25519 and P-256 keys.

GmSSL writes two lines naming its source file to stderr for every signature that fails to
verify (its `error_print`); there is no switch for it. They carry no data from the message.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import gmssl_pyx
from cryptography.hazmat.primitives import serialization

from gateway.crypto import der as _der
from gateway.crypto import sm2_asn1 as _asn1
from gateway.crypto.errors import (
    BackendError,
    BadSignature,
    InvalidUserId,
    KeyFormatError,
    MalformedSignature,
)
from gateway.crypto.jwk import b64url, b64url_decode, thumbprint
from gateway.crypto.sm2_asn1 import (
    N,
    SignatureEncoding,
    decode_signature,
    encode_signature,
)
from gateway.crypto.sm3 import SM3, sm3

ALGORITHM = "sm2-sm3"  # govgate's RFC 9421 `alg` name for SM2 with the SM3 Z_A pre-hash
JOSE_ALGORITHM = "SM2SM3"  # the JWK `alg` value (jsrsasign's; JOSE registers none for SM2)
JWK_CURVE = "SM2"
DEFAULT_USER_ID = b"1234567812345678"
MAX_USER_ID_BYTES = 8191  # ENTL_A, the id's length in bits, must fit in two bytes
_SIZE = 32


@dataclass(frozen=True)
class CurveParameters:
    """The public parameters Z_A hashes (a, b and the base point G), 32 bytes each."""

    a: int
    b: int
    gx: int
    gy: int

    @functools.cached_property
    def encoded(self) -> bytes:
        """a || b || x_G || y_G, as Z_A hashes them."""
        return b"".join(v.to_bytes(_SIZE, "big") for v in (self.a, self.b, self.gx, self.gy))


SM2P256V1 = CurveParameters(  # GB/T 32918.5-2017 §2
    a=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC,
    b=0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93,
    gx=0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7,
    gy=0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0,
)


def check_user_id(user_id: bytes) -> bytes:
    if not isinstance(user_id, bytes) or not 1 <= len(user_id) <= MAX_USER_ID_BYTES:
        raise InvalidUserId(f"an SM2 user id is 1 to {MAX_USER_ID_BYTES} bytes")
    return user_id


@functools.lru_cache(maxsize=1024)  # a gateway verifies for a few hundred keys, ids configured
def z_a(xy: bytes, user_id: bytes = DEFAULT_USER_ID, curve: CurveParameters = SM2P256V1) -> bytes:
    """Z_A of the public key `xy` (x || y, 64 bytes) for `user_id` (GB/T 32918.2 §5.5)."""
    entl = (len(check_user_id(user_id)) * 8).to_bytes(2, "big")
    return sm3(entl + user_id + curve.encoded + xy)


class SM2PublicKey:
    """A point on sm2p256v1, checked on construction: it can verify signatures."""

    __slots__ = ("_xy",)

    def __init__(self, xy: bytes) -> None:
        """From x || y (64 bytes); `from_point`, `from_der`, `from_jwk` read the encodings."""
        if len(xy) != 2 * _SIZE:
            raise KeyFormatError("an SM2 public key is x || y, 64 bytes")
        try:  # GmSSL's check: both coordinates below p, and the point on the curve
            self._xy = bytes(gmssl_pyx.normalize_sm2_public_key(bytes(xy)))
        except gmssl_pyx.GmsslInnerError as exc:
            raise KeyFormatError("not a point on the SM2 curve") from exc

    @classmethod
    def from_point(cls, point: bytes) -> SM2PublicKey:
        """From the uncompressed point 04 || x || y (65 bytes)."""
        if len(point) != _asn1.POINT_SIZE or point[0] != 0x04:
            raise KeyFormatError("expected an uncompressed point 04 || x || y")
        return cls(point[1:])

    @classmethod
    def from_der(cls, der: bytes) -> SM2PublicKey:
        return cls.from_point(_asn1.point_from_spki(der))

    @classmethod
    def from_pem(cls, pem: bytes) -> SM2PublicKey:
        return cls.from_der(_der.pem_block(pem, ("PUBLIC KEY",)))

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, object]) -> SM2PublicKey:
        """From `{"kty": "EC", "crv": "SM2", "x": …, "y": …}`; private members are refused."""
        if jwk.get("kty") != "EC" or jwk.get("crv") != JWK_CURVE:
            raise KeyFormatError(f"not an SM2 JWK: kty={jwk.get('kty')!r} crv={jwk.get('crv')!r}")
        if "d" in jwk:
            raise KeyFormatError("a public JWK must not carry the private key (d)")
        x, y = jwk.get("x"), jwk.get("y")
        if not isinstance(x, str) or not isinstance(y, str):
            raise KeyFormatError("an SM2 JWK needs x and y")
        return cls(b64url_decode(x, _SIZE) + b64url_decode(y, _SIZE))

    @property
    def x(self) -> int:
        return int.from_bytes(self._xy[:_SIZE], "big")

    @property
    def y(self) -> int:
        return int.from_bytes(self._xy[_SIZE:], "big")

    def point(self) -> bytes:
        """04 || x || y."""
        return b"\x04" + self._xy

    def public_bytes(
        self, encoding: serialization.Encoding, format: serialization.PublicFormat
    ) -> bytes:
        """SubjectPublicKeyInfo as PEM or DER, or X9.62 uncompressed point (as `cryptography`)."""
        Encoding, Format = serialization.Encoding, serialization.PublicFormat
        if format is Format.SubjectPublicKeyInfo and encoding is Encoding.DER:
            return _asn1.spki(self.point())
        if format is Format.SubjectPublicKeyInfo and encoding is Encoding.PEM:
            return _der.pem_encode("PUBLIC KEY", _asn1.spki(self.point()))
        if format is Format.UncompressedPoint and encoding is Encoding.X962:
            return self.point()
        raise KeyFormatError(f"SM2 public keys are not written as {encoding}, {format}")

    def public_jwk(self) -> dict[str, str]:
        """The JWK with exactly its RFC 7638 required members."""
        return {
            "crv": JWK_CURVE,
            "kty": "EC",
            "x": b64url(self._xy[:_SIZE]),
            "y": b64url(self._xy[_SIZE:]),
        }

    def key_id(self) -> str:
        """The RFC 7638 thumbprint of `public_jwk()`, as govgate names every key."""
        return thumbprint(self.public_jwk())

    def digest(self, data: bytes, user_id: bytes = DEFAULT_USER_ID) -> bytes:
        """e = SM3(Z_A || data): what is signed for `data` under this key and `user_id`."""
        hasher = SM3(z_a(self._xy, user_id))
        hasher.update(data)
        return hasher.digest()

    def verify(
        self,
        signature: bytes,
        data: bytes,
        *,
        user_id: bytes = DEFAULT_USER_ID,
        encoding: SignatureEncoding = "der",
    ) -> None:
        """Return if `signature` is this key's over `data`; else `BadSignature` (or its
        subclass `MalformedSignature` when it is not a signature at all)."""
        der = encode_signature(*decode_signature(signature, encoding), "der")
        try:
            ok = gmssl_pyx.sm2_verify_sm3_digest(self._xy, self.digest(data, user_id), der)
        except gmssl_pyx.GmsslInnerError as exc:
            raise BackendError(f"GmSSL could not verify: {exc}") from exc
        if ok is not True:
            raise BadSignature("the SM2 signature does not verify")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SM2PublicKey) and other._xy == self._xy

    def __hash__(self) -> int:
        return hash(self._xy)

    def __repr__(self) -> str:
        return f"<SM2PublicKey {self.key_id()}>"


class SM2PrivateKey:
    """An SM2 key pair; signs. Built by `generate` or read from a file, never from a bare
    scalar: GmSSL's wrapper cannot derive the public point, so a file must carry it."""

    __slots__ = ("_scalar", "_public")

    def __init__(self, scalar: bytes, public: SM2PublicKey) -> None:
        """The pair (d, P); checked by signing once and verifying under `public` (~1 ms)."""
        if len(scalar) != _SIZE or not 1 <= int.from_bytes(scalar, "big") <= N - 2:
            raise KeyFormatError("an SM2 private key is an integer in [1, n-2]")
        self._scalar = bytes(scalar)
        self._public = public
        try:  # pairwise consistency: GmSSL signs with d alone, Z_A uses the stated point
            public.verify(self.sign(b"govgate pairwise check"), b"govgate pairwise check")
        except BadSignature as exc:
            raise KeyFormatError("the public key is not the private key's") from exc

    @classmethod
    def generate(cls) -> SM2PrivateKey:
        try:
            xy, scalar = gmssl_pyx.sm2_key_generate()
        except gmssl_pyx.GmsslInnerError as exc:
            raise BackendError(f"GmSSL could not generate a key: {exc}") from exc
        return cls(bytes(scalar), SM2PublicKey(bytes(xy)))

    @classmethod
    def from_der(cls, der: bytes) -> SM2PrivateKey:
        """From PKCS#8 PrivateKeyInfo or SEC 1 ECPrivateKey DER holding the public point."""
        scalar, point = _asn1.private_from_der(der)
        if point is None:
            raise KeyFormatError("the private key file lacks its public key; export it with it")
        return cls(scalar, SM2PublicKey.from_point(point))

    @classmethod
    def from_pem(cls, pem: bytes) -> SM2PrivateKey:
        return cls.from_der(_der.pem_block(pem, ("PRIVATE KEY", "EC PRIVATE KEY")))

    def public_key(self) -> SM2PublicKey:
        return self._public

    def private_bytes(
        self,
        encoding: serialization.Encoding,
        format: serialization.PrivateFormat,
        encryption_algorithm: serialization.KeySerializationEncryption,
    ) -> bytes:
        """PKCS#8, unencrypted, as PEM or DER (the file's permissions protect it)."""
        if not isinstance(encryption_algorithm, serialization.NoEncryption):
            raise KeyFormatError("encrypted SM2 private key files are not supported")
        if format is not serialization.PrivateFormat.PKCS8:
            raise KeyFormatError(f"SM2 private keys are written as PKCS8, not {format}")
        der = _asn1.pkcs8(self._scalar, self._public.point())
        if encoding is serialization.Encoding.DER:
            return der
        if encoding is serialization.Encoding.PEM:
            return _der.pem_encode("PRIVATE KEY", der)
        raise KeyFormatError(f"SM2 private keys are written as PEM or DER, not {encoding}")

    def sign(
        self, data: bytes, *, user_id: bytes = DEFAULT_USER_ID, encoding: SignatureEncoding = "der"
    ) -> bytes:
        """The SM2 signature of `data` for `user_id`, DER or raw r || s (random k each time)."""
        digest = self._public.digest(data, user_id)
        try:  # GmSSL's DER, read strictly: what leaves here is always canonical
            r, s = decode_signature(bytes(gmssl_pyx.sm2_sign_sm3_digest(self._scalar, digest)))
        except (gmssl_pyx.GmsslInnerError, MalformedSignature) as exc:
            raise BackendError(f"GmSSL could not sign: {exc}") from exc
        return encode_signature(r, s, encoding)

    def __repr__(self) -> str:
        return f"<SM2PrivateKey {self._public.key_id()}>"
