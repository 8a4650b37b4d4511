"""The file store's interface: contents kept by their hash, two backends behind it.

Like the event log, the interface is small and the backends interchangeable: a directory under
the data dir for one machine (`directory.py`), S3-compatible object storage for a city
(`s3.py`). A file is stored under the hex hash of its bytes, so the same document sent with
two cases (the applicant's 营业执照 scan, say) is kept once, and a reader can check every byte
it is given against the name it asked for.

The hash is SHA-256 (`sha256/ab/<hex>`), or SM3 (国密, `sm3/ab/<hex>`) in a store configured
with `files.hash = "sm3"`: such a store puts new files under their SM3, and still reads the
ones put under their SHA-256 before, since every read names the algorithm of the address it
asks for (`alg`, default SHA-256). Whatever the address, `put` also computes the SHA-256 (the
Material record's `sha256` is required by every released schema), in the same pass.

Nothing here holds a file whole in memory: `put` takes an async iterable of chunks and hashes
while it writes to a temporary place, then moves the bytes under their hash only if they
match what the caller expected and fit the limit; `chunks` yields bounded chunks. Bytes found
not to match their hash by a reader are set aside with `quarantine`, so the next reader is
told (`ContentCorrupted`) instead of being served them, and a later `put` of the right bytes
stores them again.
"""

from __future__ import annotations

import abc
import hashlib
import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

from gateway.crypto.sm3 import Hasher, HashName, new_hasher
from gateway.files.errors import ContentMissing, FileTooLarge, HashMismatch, InvalidDigest

READ_CHUNK = 512 * 1024  # bytes per chunk handed to readers: bounded memory per download
_HEX256 = re.compile(r"[0-9a-f]{64}")  # SHA-256 and SM3 are both 256 bits
_FOLDER: dict[HashName, str] = {"sha-256": "sha256", "sm3": "sm3"}
_LABEL: dict[HashName, str] = {"sha-256": "SHA-256", "sm3": "SM3"}


@dataclass(frozen=True, slots=True)
class StoredFile:
    """What `put` stored: the content's hashes, its size, where it lives, whether it was new.

    `sm3` is set when the store addresses files by SM3 (then the address is it, else
    `sha256`)."""

    sha256: str
    size: int
    uri: str
    created: bool  # False: the same bytes were already there (stored once)
    sm3: str | None = None

    @property
    def alg(self) -> HashName:
        """The algorithm of the address the content is stored under."""
        return "sha-256" if self.sm3 is None else "sm3"

    @property
    def digest(self) -> str:
        """The address: the hex hash the content is stored under."""
        return self.sha256 if self.sm3 is None else self.sm3


def check_digest(value: str, alg: HashName = "sha-256") -> str:
    """`value` if it is a hash of `alg` in lowercase hex, else `InvalidDigest`."""
    if alg not in _FOLDER:
        raise InvalidDigest(f"{alg!r} is not a content hash (sha-256, sm3)")
    if not _HEX256.fullmatch(value):
        raise InvalidDigest(f"{value[:80]!r} is not a {_LABEL[alg]} in lowercase hex")
    return value


def check_sha256(value: str) -> str:
    """`value` if it is a SHA-256 in lowercase hex, else `InvalidDigest`."""
    return check_digest(value, "sha-256")


def key_of(digest: str, alg: HashName = "sha-256") -> str:
    """Where a content lives inside a backend: `sha256/ab/abcdef…` (or `sm3/ab/…`), fanned
    out by two hex characters so no folder (or object listing) grows past a few thousand
    entries."""
    return f"{_FOLDER[alg]}/{digest[:2]}/{digest}"


def aside_name(digest: str, alg: HashName = "sha-256") -> str:
    """The name of a quarantined content: its hex SHA-256, or `sm3-<hex>` for an SM3 one."""
    return digest if alg == "sha-256" else f"{_FOLDER[alg]}-{digest}"


class Hashing:
    """The running hashes and size of the bytes being put, and the checks made at the end:
    SHA-256 always, SM3 too when the store addresses by it."""

    def __init__(
        self, expected_sha256: str | None, max_bytes: int | None, alg: HashName = "sha-256"
    ) -> None:
        self.expected = None if expected_sha256 is None else check_sha256(expected_sha256)
        self.max_bytes = max_bytes
        self.alg = alg
        self.size = 0
        self._digest = hashlib.sha256()
        self._address: Hasher | None = None if alg == "sha-256" else new_hasher(alg)

    def update(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.max_bytes is not None and self.size > self.max_bytes:
            raise FileTooLarge(f"more than {self.max_bytes} bytes")
        self._digest.update(chunk)
        if self._address is not None:
            self._address.update(chunk)

    def finish(self) -> str:
        """The hex SHA-256; `HashMismatch` if the caller expected another."""
        found = self._digest.hexdigest()
        if self.expected is not None and found != self.expected:
            raise HashMismatch(f"the bytes hash to {found}, the source recorded {self.expected}")
        return found

    @property
    def sm3(self) -> str | None:
        """The hex SM3, when the store addresses by it (call after `finish`)."""
        return None if self._address is None else self._address.hexdigest()

    def stored(self, uri: str, created: bool) -> StoredFile:
        """What was put, once `finish` passed."""
        return StoredFile(self.finish(), self.size, uri, created, self.sm3)

    @property
    def address(self) -> str:
        """The hex hash the content goes under (call after `finish`)."""
        return self.sm3 or self.finish()


class FileStore(abc.ABC):
    """Contents by hash. Every method may raise `FileStoreUnavailable` (retriable).

    `hash`: the address of contents put from now on; reads name their own (`alg`)."""

    backend: str
    hash: HashName = "sha-256"

    @abc.abstractmethod
    async def put(
        self,
        chunks: AsyncIterable[bytes],
        *,
        expected_sha256: str | None = None,
        max_bytes: int | None = None,
    ) -> StoredFile:
        """Store the bytes under their hash (`self.hash`), once; `HashMismatch` or
        `FileTooLarge` (and nothing stored) when they are not what `expected_sha256` says or
        exceed `max_bytes`."""

    @abc.abstractmethod
    async def size(self, digest: str, alg: HashName = "sha-256") -> int:
        """The stored content's size in bytes; `ContentMissing` if there is none."""

    @abc.abstractmethod
    def chunks(
        self, digest: str, start: int = 0, end: int | None = None, *, alg: HashName = "sha-256"
    ) -> AsyncIterator[bytes]:
        """The stored bytes `start` to `end` (exclusive; default: all), in bounded chunks;
        `ContentMissing` on the first step if there is no such content."""

    @abc.abstractmethod
    async def quarantine(self, digest: str, reason: str, alg: HashName = "sha-256") -> None:
        """Set the content aside: no longer served, kept for an operator with the reason."""

    @abc.abstractmethod
    async def quarantined(self, digest: str, alg: HashName = "sha-256") -> str | None:
        """Why the content was set aside, or None if it was not."""

    @abc.abstractmethod
    def uri(self, digest: str, alg: HashName = "sha-256") -> str:
        """Where the content lives, for the `storage_uri` of a material record."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise `FileStoreUnavailable` unless the store answers now."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    async def exists(self, digest: str, alg: HashName = "sha-256") -> bool:
        try:
            await self.size(digest, alg)
        except ContentMissing:
            return False
        return True
