"""The file store's interface: contents kept by their SHA-256, two backends behind it.

Like the event log, the interface is small and the backends interchangeable: a directory under
the data dir for one machine (`directory.py`), S3-compatible object storage for a city
(`s3.py`). A file is stored under the hex SHA-256 of its bytes, so the same document sent with
two cases (the applicant's 营业执照 scan, say) is kept once, and a reader can check every byte
it is given against the name it asked for.

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

from gateway.files.errors import ContentMissing, FileTooLarge, HashMismatch, InvalidDigest

READ_CHUNK = 512 * 1024  # bytes per chunk handed to readers: bounded memory per download
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class StoredFile:
    """What `put` stored: the content's hash, its size, where it lives, whether it was new."""

    sha256: str
    size: int
    uri: str
    created: bool  # False: the same bytes were already there (stored once)


def check_sha256(value: str) -> str:
    """`value` if it is a SHA-256 in lowercase hex, else `InvalidDigest`."""
    if not _SHA256.fullmatch(value):
        raise InvalidDigest(f"{value[:80]!r} is not a SHA-256 in lowercase hex")
    return value


def key_of(sha256: str) -> str:
    """Where a content lives inside a backend: `sha256/ab/abcdef…`, fanned out by two hex
    characters so no folder (or object listing) grows past a few thousand entries."""
    return f"sha256/{sha256[:2]}/{sha256}"


class Hashing:
    """A running SHA-256 and size of the bytes being put, and the checks made at the end."""

    def __init__(self, expected_sha256: str | None, max_bytes: int | None) -> None:
        self.expected = None if expected_sha256 is None else check_sha256(expected_sha256)
        self.max_bytes = max_bytes
        self.size = 0
        self._digest = hashlib.sha256()

    def update(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.max_bytes is not None and self.size > self.max_bytes:
            raise FileTooLarge(f"more than {self.max_bytes} bytes")
        self._digest.update(chunk)

    def finish(self) -> str:
        """The hex SHA-256; `HashMismatch` if the caller expected another."""
        found = self._digest.hexdigest()
        if self.expected is not None and found != self.expected:
            raise HashMismatch(f"the bytes hash to {found}, the source recorded {self.expected}")
        return found


class FileStore(abc.ABC):
    """Contents by SHA-256. Every method may raise `FileStoreUnavailable` (retriable)."""

    backend: str

    @abc.abstractmethod
    async def put(
        self,
        chunks: AsyncIterable[bytes],
        *,
        expected_sha256: str | None = None,
        max_bytes: int | None = None,
    ) -> StoredFile:
        """Store the bytes under their SHA-256, once; `HashMismatch` or `FileTooLarge` (and
        nothing stored) when they are not what `expected_sha256` says or exceed `max_bytes`."""

    @abc.abstractmethod
    async def size(self, sha256: str) -> int:
        """The stored content's size in bytes; `ContentMissing` if there is none."""

    @abc.abstractmethod
    def chunks(self, sha256: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The stored bytes `start` to `end` (exclusive; default: all), in bounded chunks;
        `ContentMissing` on the first step if there is no such content."""

    @abc.abstractmethod
    async def quarantine(self, sha256: str, reason: str) -> None:
        """Set the content aside: no longer served, kept for an operator with the reason."""

    @abc.abstractmethod
    async def quarantined(self, sha256: str) -> str | None:
        """Why the content was set aside, or None if it was not."""

    @abc.abstractmethod
    def uri(self, sha256: str) -> str:
        """Where the content lives, for the `storage_uri` of a material record."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise `FileStoreUnavailable` unless the store answers now."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    async def exists(self, sha256: str) -> bool:
        try:
            await self.size(sha256)
        except ContentMissing:
            return False
        return True
