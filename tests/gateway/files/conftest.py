"""A file store per test on each backend: a folder in tmp_path, and a bucket of its own on the
session's SeaweedFS (`s3_server`)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path

import pytest

from gateway.crypto.sm3 import HashName
from gateway.files import FileStore
from gateway.files.directory import DirectoryFileStore
from gateway.files.s3 import S3FileStore
from tests.conftest import S3Server


def fresh_prefix() -> str:
    """A key prefix of its own for one test, in the session's bucket."""
    return f"t-{uuid.uuid4().hex[:16]}/"


async def open_store(
    kind: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    hash: HashName = "sha-256",
    prefix: str | None = None,
) -> FileStore:
    if kind == "directory":
        directory = DirectoryFileStore(tmp_path / "files", hash)
        await directory.start()
        return directory
    server: S3Server = request.getfixturevalue("s3_server")
    settings = server.settings(prefix or fresh_prefix()).model_copy(update={"hash": hash})
    s3 = S3FileStore(settings)
    await s3.start()
    return s3


@pytest.fixture(params=["directory", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[FileStore]:
    opened = await open_store(request.param, tmp_path, request)
    try:
        yield opened
    finally:
        await opened.close()


async def chunked(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def read_all(chunks: AsyncIterable[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])
