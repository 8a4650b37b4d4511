"""The file store (文件存储): the contents of materials (申请材料), kept by SHA-256 or SM3.

`open_file_store(settings)` opens the configured backend — a folder under the data dir, or
S3-compatible object storage when `files.s3_endpoint` is set — behind `FileStore` (base.py).
Connectors put files in; the gateway streams them out, checked against their hash.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from gateway.files.base import READ_CHUNK, FileStore, StoredFile, check_digest, check_sha256
from gateway.files.errors import (
    ContentCorrupted,
    ContentMissing,
    FileStoreError,
    FileStoreUnavailable,
    FileTooLarge,
    HashMismatch,
    InvalidDigest,
)
from gateway.files.verify import verified_chunks
from gateway.settings import Settings

__all__ = [
    "READ_CHUNK",
    "ContentCorrupted",
    "ContentMissing",
    "FileStore",
    "FileStoreError",
    "FileStoreUnavailable",
    "FileTooLarge",
    "HashMismatch",
    "InvalidDigest",
    "StoredFile",
    "check_digest",
    "check_sha256",
    "open_file_store",
    "verified_chunks",
]


@asynccontextmanager
async def open_file_store(settings: Settings) -> AsyncIterator[FileStore]:
    """The configured file store, started; closed on exit."""
    store: FileStore
    if settings.files.s3_endpoint:
        from gateway.files.s3 import S3FileStore

        s3 = S3FileStore(settings.files)
        await s3.start()
        store = s3
    else:
        from gateway.files.directory import DirectoryFileStore

        directory = DirectoryFileStore(settings.files_dir, settings.files.hash)
        await directory.start()
        store = directory
    try:
        yield store
    finally:
        await store.close()
