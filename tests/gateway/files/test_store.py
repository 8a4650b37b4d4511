"""The file store's contract, on a folder and on a real S3 server (SeaweedFS) alike."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from gateway.files import (
    READ_CHUNK,
    ContentMissing,
    FileStore,
    FileStoreUnavailable,
    FileTooLarge,
    HashMismatch,
    InvalidDigest,
)
from gateway.files.s3 import S3FileStore
from tests.conftest import S3Server
from tests.gateway.files.conftest import chunked, fresh_prefix, read_all
from tests.tcp_proxy import TcpProxy

DOC = b"%PDF-1.4\n" + os.urandom(200_000)
DOC_SHA = hashlib.sha256(DOC).hexdigest()


async def test_put_then_read_back_by_hash(store: FileStore) -> None:
    stored = await store.put(chunked(DOC), expected_sha256=DOC_SHA)
    assert (stored.sha256, stored.size, stored.created) == (DOC_SHA, len(DOC), True)
    assert stored.uri == store.uri(DOC_SHA) and DOC_SHA in stored.uri
    assert await store.size(DOC_SHA) == len(DOC)
    pieces = [chunk async for chunk in store.chunks(DOC_SHA)]
    assert b"".join(pieces) == DOC
    assert max(len(p) for p in pieces) <= READ_CHUNK


async def test_the_same_bytes_are_stored_once(store: FileStore) -> None:
    first = await store.put(chunked(DOC))
    again = await store.put(chunked(DOC, 1000))
    assert first.created and not again.created
    assert again.sha256 == first.sha256 == DOC_SHA


async def test_bytes_not_matching_the_recorded_hash_are_not_stored(store: FileStore) -> None:
    wrong = hashlib.sha256(b"another document").hexdigest()
    with pytest.raises(HashMismatch) as caught:
        await store.put(chunked(DOC), expected_sha256=wrong)
    assert DOC_SHA in caught.value.detail and wrong in caught.value.detail
    assert not await store.exists(DOC_SHA)


async def test_a_file_over_the_limit_is_refused_and_not_stored(store: FileStore) -> None:
    with pytest.raises(FileTooLarge):
        await store.put(chunked(DOC), max_bytes=len(DOC) - 1)
    assert not await store.exists(DOC_SHA)
    assert (await store.put(chunked(DOC), max_bytes=len(DOC))).size == len(DOC)


async def test_a_range_of_the_bytes(store: FileStore) -> None:
    await store.put(chunked(DOC))
    assert await read_all(store.chunks(DOC_SHA, 10, 5000)) == DOC[10:5000]
    assert await read_all(store.chunks(DOC_SHA, len(DOC) - 7)) == DOC[-7:]


async def test_missing_content_and_bad_hashes(store: FileStore) -> None:
    with pytest.raises(ContentMissing):
        await store.size(DOC_SHA)
    with pytest.raises(ContentMissing):
        await read_all(store.chunks(DOC_SHA))
    assert await store.quarantined(DOC_SHA) is None
    with pytest.raises(InvalidDigest):
        await store.size("../../etc/passwd")
    with pytest.raises(InvalidDigest):
        await store.size(DOC_SHA.upper())


async def test_quarantined_content_is_not_served_until_put_again(store: FileStore) -> None:
    await store.put(chunked(DOC))
    await store.quarantine(DOC_SHA, "bytes hash to 00ff…, not to their name")
    await store.quarantine(DOC_SHA, "again")  # a second reader finding the same: no error
    assert not await store.exists(DOC_SHA)
    assert await store.quarantined(DOC_SHA) in ("bytes hash to 00ff…, not to their name", "again")
    assert (await store.put(chunked(DOC))).created  # the department's copy restores it
    assert await read_all(store.chunks(DOC_SHA)) == DOC


@pytest.mark.parametrize("store", ["s3"], indirect=True)
async def test_a_large_file_goes_up_in_parts(store: FileStore) -> None:
    assert isinstance(store, S3FileStore)
    part = store.settings.s3_part_bytes
    big = os.urandom(2 * part + 12345)
    stored = await store.put(chunked(big, 1 << 20))
    assert stored.size == len(big) and stored.sha256 == hashlib.sha256(big).hexdigest()
    assert hashlib.sha256(await read_all(store.chunks(stored.sha256))).hexdigest() == stored.sha256


async def test_an_object_store_that_is_down_is_retriable(s3_server: S3Server) -> None:
    host, port = s3_server.endpoint.removeprefix("http://").split(":")
    proxy = TcpProxy(host, int(port))
    await proxy.start()
    settings = s3_server.settings(fresh_prefix(), timeout_s=3)
    s3 = S3FileStore(settings.model_copy(update={"s3_endpoint": f"http://127.0.0.1:{proxy.port}"}))
    await s3.start()
    try:
        proxy.cut()
        with pytest.raises(FileStoreUnavailable) as caught:
            await s3.put(chunked(DOC))
        assert caught.value.retriable
        with pytest.raises(FileStoreUnavailable):
            await s3.ping()
        proxy.restore()
        assert (await s3.put(chunked(DOC))).sha256 == DOC_SHA
    finally:
        await s3.close()
        await proxy.close()


async def test_a_folder_that_cannot_be_written_is_unavailable(tmp_path: Path) -> None:
    from gateway.files.directory import DirectoryFileStore

    store = DirectoryFileStore(tmp_path / "files")
    await store.start()
    (tmp_path / "files" / "incoming").rename(tmp_path / "elsewhere")
    with pytest.raises(FileStoreUnavailable):
        await store.put(chunked(DOC))
