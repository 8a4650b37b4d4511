"""Members' signing keys: Ed25519 or ECDSA P-256 pairs, PEM files, and stable key ids.

A key id is the RFC 7638 JWK thumbprint of the public key (SHA-256, base64url without
padding): it is derived from the key itself, so the same key always has the same id on every
machine and nobody has to invent or coordinate names. Algorithms are named as in the RFC 9421
registry (`ed25519`, `ecdsa-p256-sha256`), the names that travel in the `alg` parameter.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias, get_args

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from gateway.members.errors import KeyFileExists, KeyFormatError

Algorithm: TypeAlias = Literal["ed25519", "ecdsa-p256-sha256"]
ALGORITHMS: tuple[Algorithm, ...] = get_args(Algorithm)
PrivateKey: TypeAlias = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey: TypeAlias = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey

_P256_BYTES = 32
_JOSE_ALG = {"ed25519": "EdDSA", "ecdsa-p256-sha256": "ES256"}


def check_algorithm(alg: str) -> Algorithm:
    """`alg` as an `Algorithm`, or `KeyFormatError` naming the accepted ones."""
    for known in ALGORITHMS:
        if alg == known:
            return known
    raise KeyFormatError(f"unsupported algorithm {alg!r}; use one of {', '.join(ALGORITHMS)}")


def generate_private_key(alg: Algorithm = "ed25519") -> PrivateKey:
    """A fresh private key for `alg`."""
    if check_algorithm(alg) == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def algorithm_of(key: PrivateKey | PublicKey) -> Algorithm:
    """The RFC 9421 algorithm a key signs with; `KeyFormatError` for any other kind of key."""
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "ed25519"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if isinstance(key.curve, ec.SECP256R1):
            return "ecdsa-p256-sha256"
        raise KeyFormatError(f"unsupported elliptic curve {key.curve.name}; use P-256")
    raise KeyFormatError(f"unsupported key type {type(key).__name__}; use Ed25519 or P-256")


def public_key_of(key: PrivateKey | PublicKey) -> PublicKey:
    if isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
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


def load_private_key(pem: bytes) -> PrivateKey:
    """A private key from unencrypted PEM; `KeyFormatError` if unreadable or unsupported."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFormatError(f"not a readable unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        raise KeyFormatError(f"unsupported key type {type(key).__name__}; use Ed25519 or P-256")
    algorithm_of(key)
    return key


def load_public_key(pem: bytes) -> PublicKey:
    """A public key from PEM; `KeyFormatError` if unreadable or unsupported."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFormatError(f"not a readable PEM public key: {exc}") from exc
    if not isinstance(key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise KeyFormatError(f"unsupported key type {type(key).__name__}; use Ed25519 or P-256")
    algorithm_of(key)
    return key


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
    """The public key a JWK describes (OKP Ed25519 or EC P-256)."""
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
