"""The file store as a folder (embedded default): `DATA_DIR/files/sha256/ab/<sha256>` (or
`sm3/ab/<sm3>` for files put with `files.hash = "sm3"`).

A put writes `incoming/<random>.part` while hashing, flushes it to disk, then renames it under
its hash (atomic on one file system); an existing content is kept and the new copy dropped.
Quarantined contents move to `quarantine/<sha256>` (`quarantine/sm3-<sm3>`) beside a
`.reason.txt`. Blocking file calls
run in threads, one bounded chunk at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import BinaryIO

from gateway.crypto.sm3 import HashName
from gateway.files.base import (
    READ_CHUNK,
    FileStore,
    Hashing,
    StoredFile,
    aside_name,
    check_digest,
    key_of,
)
from gateway.files.errors import ContentMissing, FileStoreUnavailable

_DIR_MODE = 0o700
_FILE_MODE = 0o600


class DirectoryFileStore(FileStore):
    backend = "directory"

    def __init__(self, root: Path, hash: HashName = "sha-256") -> None:
        self.root = root.resolve()
        self.hash = hash

    async def start(self) -> None:
        """Create the folders (owner-only); `FileStoreUnavailable` if they cannot be made."""
        try:
            await asyncio.to_thread(self._make_dirs)
        except OSError as exc:
            raise FileStoreUnavailable(f"file store folder {self.root}: {exc}") from exc

    def _make_dirs(self) -> None:
        for sub in ("sha256", "sm3", "incoming", "quarantine"):
            (self.root / sub).mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)

    def _path(self, digest: str, alg: HashName = "sha-256") -> Path:
        return self.root / key_of(check_digest(digest, alg), alg)

    async def put(
        self,
        chunks: AsyncIterable[bytes],
        *,
        expected_sha256: str | None = None,
        max_bytes: int | None = None,
    ) -> StoredFile:
        hashing = Hashing(expected_sha256, max_bytes, self.hash)
        temp = self.root / "incoming" / f"{uuid.uuid4().hex}.part"
        try:
            out = await asyncio.to_thread(_create, temp)
            try:
                async for chunk in chunks:
                    hashing.update(chunk)
                    await asyncio.to_thread(out.write, chunk)
                await asyncio.to_thread(_sync, out)
            finally:
                await asyncio.to_thread(out.close)
            hashing.finish()
            address = hashing.address
            created = await asyncio.to_thread(_place, temp, self._path(address, self.hash))
        except OSError as exc:
            raise FileStoreUnavailable(f"file store folder {self.root}: {exc}") from exc
        finally:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(temp.unlink, missing_ok=True)
        return hashing.stored(self.uri(address, self.hash), created)

    async def size(self, digest: str, alg: HashName = "sha-256") -> int:
        path = self._path(digest, alg)
        try:
            return (await asyncio.to_thread(path.stat)).st_size
        except FileNotFoundError:
            raise ContentMissing(f"no content {digest}") from None
        except OSError as exc:
            raise FileStoreUnavailable(f"{path}: {exc}") from exc

    async def chunks(
        self, digest: str, start: int = 0, end: int | None = None, *, alg: HashName = "sha-256"
    ) -> AsyncIterator[bytes]:
        path = self._path(digest, alg)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise ContentMissing(f"no content {digest}") from None
        except OSError as exc:
            raise FileStoreUnavailable(f"{path}: {exc}") from exc
        try:
            if start:
                await asyncio.to_thread(handle.seek, start)
            left = None if end is None else end - start
            while left is None or left > 0:
                want = READ_CHUNK if left is None else min(READ_CHUNK, left)
                try:
                    chunk = await asyncio.to_thread(handle.read, want)
                except OSError as exc:
                    raise FileStoreUnavailable(f"{path}: {exc}") from exc
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)

    async def quarantine(self, digest: str, reason: str, alg: HashName = "sha-256") -> None:
        path = self._path(digest, alg)
        aside = self.root / "quarantine" / aside_name(digest, alg)
        try:
            await asyncio.to_thread(_set_aside, path, aside, reason)
        except OSError as exc:
            raise FileStoreUnavailable(f"{path}: {exc}") from exc

    async def quarantined(self, digest: str, alg: HashName = "sha-256") -> str | None:
        name = aside_name(check_digest(digest, alg), alg)
        note = self.root / "quarantine" / f"{name}.reason.txt"
        try:
            return await asyncio.to_thread(note.read_text, encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise FileStoreUnavailable(f"{note}: {exc}") from exc

    def uri(self, digest: str, alg: HashName = "sha-256") -> str:
        return self._path(digest, alg).as_uri()

    async def ping(self) -> None:
        if not await asyncio.to_thread(os.access, self.root / "sha256", os.W_OK | os.X_OK):
            raise FileStoreUnavailable(f"the file store folder {self.root} is not writable")

    async def close(self) -> None:
        """Nothing held open between calls."""


# Everything below blocks: it runs in a worker thread.


def _create(path: Path) -> BinaryIO:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    return os.fdopen(fd, "wb")


def _sync(out: BinaryIO) -> None:
    out.flush()
    os.fsync(out.fileno())


def _place(temp: Path, final: Path) -> bool:
    """Move `temp` to `final` unless the content is there already; True if it was new."""
    if final.exists():
        return False
    final.parent.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
    os.replace(temp, final)
    return True


def _set_aside(path: Path, aside: Path, reason: str) -> None:
    note = aside.with_name(f"{aside.name}.reason.txt")
    note.write_text(reason, encoding="utf-8")
    with contextlib.suppress(FileNotFoundError):  # another reader set it aside first
        os.replace(path, aside)
