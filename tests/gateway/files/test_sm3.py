"""Files addressed by SM3 (国密, `files.hash = "sm3"`, issue #18), on a folder and on a real S3
server (SeaweedFS) alike: stored under their SM3, read and checked by it, corruption found and
set aside; files stored by SHA-256 before the switch stay readable. SM3 values are checked
with GmSSL (`gmssl_pyx`), not the OpenSSL SM3 the store computes with."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import gmssl_pyx
import pytest

from gateway.files import ContentCorrupted, ContentMissing, FileStore, InvalidDigest
from gateway.files.base import key_of
from gateway.files.verify import verified_chunks
from tests.gateway.files.conftest import chunked, fresh_prefix, open_store, read_all

DOC = b"%PDF-1.4\n" + os.urandom(300_000)
DOC_SHA = hashlib.sha256(DOC).hexdigest()
DOC_SM3 = gmssl_pyx.sm3_hash(DOC).hex()


@pytest.fixture(params=["directory", "s3"])
async def sm3_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[FileStore]:
    opened = await open_store(request.param, tmp_path, request, "sm3")
    try:
        yield opened
    finally:
        await opened.close()


async def _overwrite(store: FileStore, digest: str, data: bytes) -> None:
    """Replace the stored copy's bytes, as a disk fault or an intruder would."""
    from gateway.files.directory import DirectoryFileStore
    from gateway.files.s3 import S3FileStore

    if isinstance(store, DirectoryFileStore):
        (store.root / key_of(digest, "sm3")).write_bytes(data)
    else:
        assert isinstance(store, S3FileStore)
        await store.client.put_object(Bucket=store.bucket, Key=store._key(digest, "sm3"), Body=data)


async def test_put_under_sm3_then_read_back_and_verified(sm3_store: FileStore) -> None:
    stored = await sm3_store.put(chunked(DOC), expected_sha256=DOC_SHA)
    assert (stored.alg, stored.digest, stored.sm3, stored.sha256) == (
        "sm3",
        DOC_SM3,
        DOC_SM3,
        DOC_SHA,
    )
    assert stored.created and stored.size == len(DOC)
    assert stored.uri == sm3_store.uri(DOC_SM3, "sm3") and f"sm3/{DOC_SM3[:2]}/" in stored.uri
    assert await sm3_store.size(DOC_SM3, "sm3") == len(DOC)
    assert await read_all(sm3_store.chunks(DOC_SM3, alg="sm3")) == DOC
    assert not await sm3_store.exists(DOC_SHA)  # not under the SHA-256 address
    again = await sm3_store.put(chunked(DOC, 1000))
    assert not again.created and again.sm3 == DOC_SM3
    checked = verified_chunks(sm3_store, DOC_SM3, len(DOC), alg="sm3", also={"sha-256": DOC_SHA})
    assert await read_all(checked) == DOC


async def test_corrupted_sm3_content_is_cut_short_and_set_aside(sm3_store: FileStore) -> None:
    await sm3_store.put(chunked(DOC))
    bad = DOC[:1000] + bytes([DOC[1000] ^ 1]) + DOC[1001:]
    await _overwrite(sm3_store, DOC_SM3, bad)
    got: list[bytes] = []
    with pytest.raises(ContentCorrupted) as caught:
        async for chunk in verified_chunks(sm3_store, DOC_SM3, len(DOC), alg="sm3"):
            got.append(chunk)
    assert len(b"".join(got)) < len(DOC)  # the last chunk withheld
    assert gmssl_pyx.sm3_hash(bad).hex() in caught.value.detail and "(sm3)" in caught.value.detail
    reason = await sm3_store.quarantined(DOC_SM3, "sm3")
    assert reason is not None and DOC_SM3 in reason
    assert await sm3_store.quarantined(DOC_SHA) is None  # aside under its SM3 name only
    with pytest.raises(ContentMissing):
        await sm3_store.size(DOC_SM3, "sm3")
    assert (await sm3_store.put(chunked(DOC))).created  # the right bytes stored again


async def test_a_wrong_sha256_stated_beside_the_sm3_is_corruption(sm3_store: FileStore) -> None:
    """Every digest the answer states is checked: the record's SHA-256 as well as the SM3."""
    await sm3_store.put(chunked(DOC))
    wrong = hashlib.sha256(b"another").hexdigest()
    with pytest.raises(ContentCorrupted, match="sha-256"):
        await read_all(
            verified_chunks(sm3_store, DOC_SM3, len(DOC), alg="sm3", also={"sha-256": wrong})
        )


async def test_files_stored_by_sha256_stay_readable_after_the_switch(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    for kind in ("directory", "s3"):
        prefix = fresh_prefix()
        before = await open_store(kind, tmp_path / kind, request, "sha-256", prefix)
        try:
            old = await before.put(chunked(DOC))
        finally:
            await before.close()
        after = await open_store(kind, tmp_path / kind, request, "sm3", prefix)
        try:
            assert old.alg == "sha-256" and old.sm3 is None
            assert await read_all(verified_chunks(after, DOC_SHA, len(DOC))) == DOC
            assert not await after.exists(DOC_SM3, "sm3")
            new = await after.put(chunked(DOC))  # the same bytes put again: by SM3 now
            assert new.created and new.alg == "sm3"
            assert await after.exists(DOC_SHA) and await after.exists(DOC_SM3, "sm3")
        finally:
            await after.close()


async def test_an_address_must_be_hex_of_its_algorithm(sm3_store: FileStore) -> None:
    with pytest.raises(InvalidDigest, match="SM3"):
        await sm3_store.size("not-hex", "sm3")
    with pytest.raises(InvalidDigest):
        await sm3_store.size(DOC_SM3, "md5")  # type: ignore[arg-type]
