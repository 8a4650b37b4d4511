"""SM3 (GB/T 32905-2016, GM/T 0004-2012): a 256-bit hash, one-shot and incremental.

`SM3` behaves like a `hashlib` object (`update`, `digest`, `hexdigest`, `copy`, and `digest`
may be called more than once), so the audit chain and the file store can take either it or
`hashlib.sha256()` through the `Hasher` protocol and `new_hasher(name)`. The arithmetic is
OpenSSL's, reached through `cryptography`'s `hashes.SM3`, which govgate already depends on.
"""

from __future__ import annotations

import hashlib
from typing import Literal, Protocol, TypeAlias, get_args

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes

from gateway.crypto.errors import BackendError

DIGEST_SIZE = 32
BLOCK_SIZE = 64

HashName: TypeAlias = Literal["sha-256", "sm3"]  # as RFC 9530 names them in Content-Digest
HASH_NAMES: tuple[HashName, ...] = get_args(HashName)

Buffer: TypeAlias = bytes | bytearray | memoryview


class Hasher(Protocol):
    """What integrity code needs of a hash object; `hashlib.sha256()` and `SM3()` both fit."""

    @property
    def name(self) -> str: ...
    @property
    def digest_size(self) -> int: ...
    def update(self, data: Buffer, /) -> None: ...
    def digest(self) -> bytes: ...
    def hexdigest(self) -> str: ...


class SM3:
    """An incremental SM3 hash, `hashlib`-style: `SM3(b"abc").hexdigest()`."""

    name = "sm3"
    digest_size = DIGEST_SIZE
    block_size = BLOCK_SIZE
    __slots__ = ("_context",)

    def __init__(self, data: Buffer = b"") -> None:
        try:
            self._context = hashes.Hash(hashes.SM3())
        except UnsupportedAlgorithm as exc:  # an OpenSSL built without SM3
            raise BackendError(f"this build of OpenSSL has no SM3: {exc}") from exc
        if data:
            self._context.update(data)

    def update(self, data: Buffer, /) -> None:
        self._context.update(data)

    def digest(self) -> bytes:
        """The digest of everything so far; the hash stays usable (finalizes a copy)."""
        return self._context.copy().finalize()

    def hexdigest(self) -> str:
        return self.digest().hex()

    def copy(self) -> SM3:
        clone = SM3.__new__(SM3)
        clone._context = self._context.copy()
        return clone


def sm3(data: Buffer) -> bytes:
    """The SM3 digest of `data` (32 bytes)."""
    return SM3(data).digest()


def new_hasher(name: HashName) -> Hasher:
    """A fresh hash object for `name`: `sha-256` (hashlib) or `sm3`."""
    if name == "sm3":
        return SM3()
    if name == "sha-256":
        return hashlib.sha256()
    raise ValueError(f"unknown hash {name!r}; use one of {', '.join(HASH_NAMES)}")
