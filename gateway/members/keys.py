"""Members' signing keys: Ed25519, ECDSA P-256 or SM2 pairs, PEM files, and stable key ids.

A key id is the RFC 7638 JWK thumbprint of the public key (SHA-256, base64url without
padding): it is derived from the key itself, so the same key always has the same id on every
machine and nobody has to invent or coordinate names. Algorithms are named as in the RFC 9421
registry (`ed25519`, `ecdsa-p256-sha256`), the names that travel in the `alg` parameter; SM2
(国密, GB/T 32918) has no registered name, and govgate calls it `sm2-sm3` (SM2 signature over
the SM3 Z_A pre-hash, see `gateway.crypto.sm2` and the README). `sm2` is accepted as an alias
wherever an operator types an algorithm (`parse_algorithm`).

Ed25519 and P-256 keys are `cryptography`'s; SM2 keys are `gateway.crypto.sm2`'s, which have
the same shape (`sign`, `verify`, `public_key`, `public_bytes`, `private_bytes`). Errors of the
crypto layer are translated here into this package's `KeyFormatError` (same code, KEY_FORMAT).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias, TypeVar, get_args

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from gateway.crypto import der as _der
from gateway.crypto import sm2
from gateway.crypto.errors import CryptoError
from gateway.crypto.sm2_asn1 import SM2P256V1
from gateway.members.errors import AlgorithmNotAllowed, KeyFileExists, KeyFormatError

Algorithm: TypeAlias = Literal["ed25519", "ecdsa-p256-sha256", "sm2-sm3"]
ALGORITHMS: tuple[Algorithm, ...] = get_args(Algorithm)
ALIASES: dict[str, Algorithm] = {"sm2": "sm2-sm3"}  # what an operator may type for the name
PrivateKey: TypeAlias = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | sm2.SM2PrivateKey
PublicKey: TypeAlias = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | sm2.SM2PublicKey

_P256_BYTES = 32
_JOSE_ALG = {"ed25519": "EdDSA", "ecdsa-p256-sha256": "ES256", "sm2-sm3": sm2.JOSE_ALGORITHM}
_KINDS = "use Ed25519, P-256 or SM2"
T = TypeVar("T")


def check_algorithm(alg: str) -> Algorithm:
    """`alg` as an `Algorithm`, or `KeyFormatError` naming the accepted ones."""
    for known in ALGORITHMS:
        if alg == known:
            return known
    raise KeyFormatError(f"unsupported algorithm {alg!r}; use one of {', '.join(ALGORITHMS)}")


def parse_algorithm(text: str) -> Algorithm:
    """An algorithm as an operator names it: the RFC 9421 name, or an alias (`sm2`)."""
    return ALIASES.get(text.strip().lower()) or check_algorithm(text.strip().lower())


def check_allowed(key: PrivateKey | PublicKey, allowed: Collection[str]) -> Algorithm:
    """The key's algorithm if `allowed` lists it (`gateway.algorithms`); else
    `AlgorithmNotAllowed`, so an SM-only gateway never takes an Ed25519 or P-256 key."""
    alg = algorithm_of(key)
    if alg not in allowed:
        raise AlgorithmNotAllowed(
            f"{alg} keys are not allowed here (GOVGATE_GATEWAY_ALGORITHMS allows "
            f"{', '.join(a for a in ALGORITHMS if a in allowed) or 'none'})"
        )
    return alg


def generate_private_key(alg: Algorithm = "ed25519") -> PrivateKey:
    """A fresh private key for `alg`."""
    alg = check_algorithm(alg)
    if alg == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if alg == "sm2-sm3":
        return _crypto(sm2.SM2PrivateKey.generate)
    return ec.generate_private_key(ec.SECP256R1())


def algorithm_of(key: PrivateKey | PublicKey) -> Algorithm:
    """The RFC 9421 algorithm a key signs with; `KeyFormatError` for any other kind of key."""
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "ed25519"
    if isinstance(key, sm2.SM2PrivateKey | sm2.SM2PublicKey):
        return "sm2-sm3"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if isinstance(key.curve, ec.SECP256R1):
            return "ecdsa-p256-sha256"
        raise KeyFormatError(f"unsupported elliptic curve {key.curve.name}; use P-256 or SM2")
    raise KeyFormatError(f"unsupported key type {type(key).__name__}; {_KINDS}")


def public_key_of(key: PrivateKey | PublicKey) -> PublicKey:
    if isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | sm2.SM2PrivateKey):
        return key.public_key()
    return key


def private_key_pem(key: PrivateKey) -> bytes:
    """PKCS#8 PEM, unencrypted: the file's 0600 permissions are what protect it."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key: PrivateKey | PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM of `key` (or of a private key's public half)."""
    return public_key_of(key).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _crypto(make: Callable[..., T], *args: Any) -> T:
    """`make(*args)` with the crypto layer's errors as this package's `KeyFormatError`."""
    try:
        return make(*args)
    except CryptoError as exc:
        raise KeyFormatError(f"SM2: {exc.detail or exc.code}") from exc


def _names_sm2(pem: bytes) -> bool:
    """True if a PEM block of `pem` names the SM2 curve (1.2.156.10197.1.301): `cryptography`
    refuses that curve, so such a key is read by `gateway.crypto.sm2` instead."""
    try:
        return any(SM2P256V1 in der for _, der in _der.pem_blocks(pem))
    except CryptoError:
        return False


def load_private_key(pem: bytes) -> PrivateKey:
    """A private key from unencrypted PEM (PKCS#8, or SEC 1 `EC PRIVATE KEY` for SM2);
    `KeyFormatError` if unreadable or unsupported."""
    if _names_sm2(pem):
        return _crypto(sm2.SM2PrivateKey.from_pem, pem)
    try:
        found = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFormatError(f"not a readable unencrypted PEM private key: {exc}") from exc
    if not isinstance(found, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        raise KeyFormatError(f"unsupported key type {type(found).__name__}; {_KINDS}")
    algorithm_of(found)
    return found


def load_public_key(pem: bytes) -> PublicKey:
    """A public key from SubjectPublicKeyInfo PEM; `KeyFormatError` if unreadable or
    unsupported."""
    if _names_sm2(pem):
        return _crypto(sm2.SM2PublicKey.from_pem, pem)
    try:
        found = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFormatError(f"not a readable PEM public key: {exc}") from exc
    if not isinstance(found, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise KeyFormatError(f"unsupported key type {type(found).__name__}; {_KINDS}")
    algorithm_of(found)
    return found


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise KeyFormatError(f"bad base64url in JWK: {exc}") from exc


def public_jwk(key: PrivateKey | PublicKey) -> dict[str, str]:
    """The JWK of the public key with exactly its required members (RFC 7638 §3.2)."""
    public = public_key_of(key)
    if isinstance(public, sm2.SM2PublicKey):
        return public.public_jwk()
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"crv": "Ed25519", "kty": "OKP", "x": _b64url(raw)}
    algorithm_of(public)
    numbers = public.public_numbers()
    return {
        "crv": "P-256",
        "kty": "EC",
        "x": _b64url(numbers.x.to_bytes(_P256_BYTES, "big")),
        "y": _b64url(numbers.y.to_bytes(_P256_BYTES, "big")),
    }


def public_key_from_jwk(jwk: dict[str, object]) -> PublicKey:
    """The public key a JWK describes (OKP Ed25519, EC P-256 or EC SM2)."""
    if jwk.get("kty") == "EC" and jwk.get("crv") == sm2.JWK_CURVE:
        return _crypto(sm2.SM2PublicKey.from_jwk, jwk)
    try:
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            return ed25519.Ed25519PublicKey.from_public_bytes(_b64url_decode(str(jwk["x"])))
        if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
            x = int.from_bytes(_b64url_decode(str(jwk["x"])), "big")
            y = int.from_bytes(_b64url_decode(str(jwk["y"])), "big")
            return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    except (KeyError, ValueError) as exc:
        raise KeyFormatError(f"unusable JWK: {exc!r}") from exc
    raise KeyFormatError(f"unsupported JWK kty={jwk.get('kty')!r} crv={jwk.get('crv')!r}")


def key_id(key: PrivateKey | PublicKey) -> str:
    """RFC 7638 JWK thumbprint of the public key: SHA-256 of its canonical JWK, base64url."""
    canonical = json.dumps(public_jwk(key), separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def jwks(keys: Iterable[PrivateKey | PublicKey]) -> dict[str, list[dict[str, str]]]:
    """Public keys as a JWK Set (the gateway's, for `/.well-known/govgate-keys`).

    `kid` is the key id the keys sign with; `alg` is the JOSE name of the key's algorithm.
    """
    return {
        "keys": [
            {
                **public_jwk(key),
                "kid": key_id(key),
                "alg": _JOSE_ALG[algorithm_of(key)],
                "use": "sig",
            }
            for key in keys
        ]
    }


def keys_from_jwks(document: Mapping[str, Any]) -> dict[str, PublicKey]:
    """Public keys of a JWK Set by key id. A `kid` that is not the key's thumbprint is refused,
    so a tampered set cannot pass one key off under another's id."""
    found: dict[str, PublicKey] = {}
    for jwk in document.get("keys", []):
        public = public_key_from_jwk(dict(jwk))
        kid = key_id(public)
        if jwk.get("kid", kid) != kid:
            raise KeyFormatError(f"JWK kid {jwk.get('kid')!r} is not its thumbprint {kid}")
        found[kid] = public
    return found


@dataclass(frozen=True)
class KeyFiles:
    """Where `write_key_pair` put a pair, and the pair's key id."""

    keyid: str
    alg: Algorithm
    private_path: Path
    public_path: Path


def write_key_pair(directory: Path, key: PrivateKey, *, name: str | None = None) -> KeyFiles:
    """Write `NAME.private.pem` (mode 0600, created exclusively) and `NAME.public.pem`.

    NAME defaults to the key id. An existing file is never overwritten: losing a private key
    that a member still signs with would lock that member out.
    """
    keyid = key_id(key)
    stem = name or keyid
    if not stem or "/" in stem or stem.startswith("."):
        raise KeyFormatError(f"bad key file name {stem!r}")
    directory.mkdir(parents=True, exist_ok=True)
    private_path = directory / f"{stem}.private.pem"
    public_path = directory / f"{stem}.public.pem"
    for path in (private_path, public_path):
        if path.exists():
            raise KeyFileExists(f"{path} exists; choose another --name or directory")
    try:
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise KeyFileExists(f"{private_path} exists") from exc
    with os.fdopen(fd, "wb") as out:
        out.write(private_key_pem(key))
    os.chmod(private_path, 0o600)  # whatever the umask said
    public_path.write_bytes(public_key_pem(key))
    return KeyFiles(keyid, algorithm_of(key), private_path, public_path)


def read_private_key(path: Path) -> PrivateKey:
    return load_private_key(path.read_bytes())


def read_public_key(path: Path) -> PublicKey:
    """The public key in a PEM file. A private key is refused: it should never leave its owner."""
    data = path.read_bytes()
    if b"PRIVATE KEY" in data:
        raise KeyFormatError(f"{path} holds a private key; give the member's public key file")
    return load_public_key(data)
