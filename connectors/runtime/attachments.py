"""Copy each material's file (附件) from the department's file share into govgate's file store.

A `Material` connector names, per source record, the path of the file on the department's
share (`file.path`, relative to `file.root`). Before a batch is mapped, each file is streamed
into the file store (hashed on the way; never held whole in memory) and its facts — SHA-256,
SM3 when the store addresses files by it (`files.hash = "sm3"`, else null), size, where it is
stored, content type from its first bytes — join the record as `@file.*` columns, which the
mapping reads like any other (`connectors.mapping.spec.FILE_FIELDS`).

A file that is missing, unreadable, outside the share, over the size limit, or whose bytes do
not match the hash the department recorded, becomes a dead letter with the reason; the
connector carries on. A share that is not mounted at all is the source being away
(`SourceUnavailable`), and a file store that is down is waited out, record by record, as the
runtime waits for the log.
"""

from __future__ import annotations

import asyncio
import dataclasses
import mimetypes
import os
import re
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from connectors.errors import RecordError, SourceUnavailable
from connectors.mapping.spec import FileSpec
from connectors.sources.base import SourceRecord
from gateway.backoff import Backoff
from gateway.files import (
    FileStore,
    FileStoreError,
    FileStoreUnavailable,
    FileTooLarge,
    HashMismatch,
    StoredFile,
)

CHUNK = 1 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")
_DRIVE = re.compile(r"^[A-Za-z]:")
# Magic numbers of what departments scan and export; the file's name is only a fallback.
_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"GIF8", "image/gif"),
)
Failed = tuple[SourceRecord, RecordError]
# The facts of a file not copied, for a record that fails its mapping anyway: conversion then
# dead-letters it for what is wrong with it, and no file is stored for nothing.
PLACEHOLDER = {
    "@file.sha256": "0" * 64,
    "@file.sm3": None,
    "@file.size": 0,
    "@file.uri": "about:blank",
    "@file.content_type": "application/octet-stream",
}


def sniff(head: bytes, name: str) -> str:
    """The content type from the first bytes, else from the name, else octet-stream."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


class AttachmentCopier:
    """Copies the files of a batch's records into the file store, one after another."""

    def __init__(
        self,
        spec: FileSpec,
        files: FileStore,
        *,
        max_bytes: int,
        waiting: Callable[[str], Awaitable[None]],
        stopping: asyncio.Event,
    ) -> None:
        self.spec = spec
        self.files = files
        self.root = Path(spec.root)
        self.max_bytes = spec.max_bytes or max_bytes
        self._waiting = waiting
        self._stopping = stopping

    async def copy(
        self, batch: Sequence[SourceRecord], maps: Callable[[SourceRecord], bool]
    ) -> tuple[list[SourceRecord], list[Failed]]:
        """The records with their file's facts added, and those whose file failed (and why).

        A record for which `maps` is false (with placeholder facts) keeps the placeholders:
        its file is not copied, and conversion dead-letters it for its own fault.
        """
        if not await asyncio.to_thread(self.root.is_dir):
            raise SourceUnavailable(f"the file share {self.root} is not there (not mounted?)")
        done: list[SourceRecord] = []
        failed: list[Failed] = []
        for record in batch:
            if record.deleted:  # gone at the source: nothing to copy
                done.append(record)
                continue
            placeholder = dataclasses.replace(record, data={**record.data, **PLACEHOLDER})
            if not maps(placeholder):
                done.append(placeholder)
                continue
            try:
                done.append(await self._copy_one(record))
            except RecordError as exc:
                failed.append((record, exc))
        return done, failed

    async def _copy_one(self, record: SourceRecord) -> SourceRecord:
        path = self._path(record)
        expected = self._recorded_hash(record)
        backoff = Backoff()
        while True:
            try:
                stored, content_type = await self._store(path, expected)
                break
            except FileStoreUnavailable as exc:
                if self._stopping.is_set():
                    raise
                await self._waiting(f"file store unavailable: {exc.detail}")
                await backoff.wait()
        facts = {
            "@file.sha256": stored.sha256,
            "@file.sm3": stored.sm3,
            "@file.size": stored.size,
            "@file.uri": stored.uri,
            "@file.content_type": content_type,
        }
        return dataclasses.replace(record, data={**record.data, **facts})

    def _path(self, record: SourceRecord) -> tuple[str, ...]:
        column = self.spec.path
        value = record.data.get(column)
        text = value.strip() if isinstance(value, str) else ""
        if not text:
            raise RecordError("MISSING_FIELD", column, f"{column}: no file path")
        relative = PurePosixPath(text.replace("\\", "/"))
        if relative.is_absolute() or _DRIVE.match(text) or ".." in relative.parts:
            raise RecordError(
                "FILE_PATH_OUTSIDE", column, f"{column}: {text!r} is not a path inside the share"
            )
        return relative.parts

    def _recorded_hash(self, record: SourceRecord) -> str | None:
        column = self.spec.sha256
        if column is None:
            return None
        value = record.data.get(column)
        text = value.strip().lower() if isinstance(value, str) else ""
        if not text:
            return None
        if not _SHA256.fullmatch(text):
            raise RecordError("BAD_SHA256", column, f"{column}: {text[:80]!r} is not a SHA-256")
        return text

    async def _store(self, parts: tuple[str, ...], expected: str | None) -> tuple[StoredFile, str]:
        column = self.spec.path
        path = await asyncio.to_thread(_find, self.root, parts)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise RecordError("FILE_MISSING", column, f"{column}: no file {path}") from None
        except OSError as exc:
            raise RecordError("FILE_UNREADABLE", column, f"{column}: {path}: {exc}") from exc
        head = bytearray()
        try:
            size = (await asyncio.to_thread(_fstat_size, handle)) or 0
            if size > self.max_bytes:
                raise FileTooLarge(f"{size} bytes")

            async def chunks() -> AsyncIterator[bytes]:
                while chunk := await asyncio.to_thread(handle.read, CHUNK):
                    if len(head) < 16:
                        head.extend(chunk[:16])
                    yield chunk

            stored = await self.files.put(
                chunks(), expected_sha256=expected, max_bytes=self.max_bytes
            )
        except FileTooLarge as exc:
            raise RecordError(
                "FILE_TOO_LARGE",
                column,
                f"{column}: {path.name} is larger than {self.max_bytes} bytes ({exc.detail})",
            ) from exc
        except HashMismatch as exc:
            raise RecordError("FILE_HASH_MISMATCH", column, f"{path.name}: {exc.detail}") from exc
        except FileStoreUnavailable:
            raise
        except FileStoreError as exc:  # the store refuses (access, bucket): not this record's
            raise SourceUnavailable(f"the file store refused {path.name}: {exc}") from exc
        except OSError as exc:
            raise RecordError("FILE_UNREADABLE", column, f"{column}: {path}: {exc}") from exc
        finally:
            await asyncio.to_thread(handle.close)
        return stored, sniff(bytes(head), path.name)


def _find(root: Path, parts: tuple[str, ...]) -> Path:
    """`root/parts…`, or the entry whose name has the same NFKC form: a file drop's index is
    read with full-width characters made ASCII (（副本） → (副本)), the file names are not."""
    current = root
    for part in parts:
        candidate = current / part
        if not candidate.exists() and current.is_dir():
            want = unicodedata.normalize("NFKC", part)
            for entry in current.iterdir():
                if unicodedata.normalize("NFKC", entry.name) == want:
                    candidate = entry
                    break
        current = candidate
    return current


def _fstat_size(handle: BinaryIO) -> int:
    return os.fstat(handle.fileno()).st_size
