"""SM3: the standard's examples, incremental use, and agreement with three other implementations
(GmSSL through gmssl-pyx, Tongsuo through tongsuopy, gmalg in pure Python)."""

from __future__ import annotations

import hashlib

import gmalg
import gmssl_pyx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tongsuopy.crypto import hashes as tongsuo_hashes

from gateway.crypto.sm3 import SM3, Hasher, new_hasher, sm3
from tests.gateway.crypto.vectors import SM3_ABC, SM3_ABCD16

ABCD16 = b"abcd" * 16


def test_standard_examples() -> None:
    assert sm3(b"abc") == SM3_ABC
    assert sm3(ABCD16) == SM3_ABCD16
    assert SM3(b"abc").hexdigest() == SM3_ABC.hex()


@pytest.mark.parametrize("split", range(len(ABCD16) + 1))
def test_incremental_at_every_split(split: int) -> None:
    hasher = SM3()
    hasher.update(ABCD16[:split])
    hasher.update(memoryview(ABCD16)[split:])
    assert hasher.digest() == SM3_ABCD16


def test_digest_leaves_the_hash_usable_and_copy_is_independent() -> None:
    hasher = SM3(b"ab")
    fork = hasher.copy()
    assert hasher.digest() == hasher.digest()  # finalizes a copy, not the hash
    hasher.update(b"c")
    fork.update(bytearray(b"x"))
    assert hasher.digest() == SM3_ABC
    assert fork.digest() == sm3(b"abx")
    assert (hasher.name, hasher.digest_size, hasher.block_size) == ("sm3", 32, 64)


def test_new_hasher_gives_sm3_or_sha256() -> None:
    hashers: list[Hasher] = [new_hasher("sm3"), new_hasher("sha-256")]
    for hasher in hashers:
        hasher.update(b"abc")
    assert [h.digest() for h in hashers] == [SM3_ABC, hashlib.sha256(b"abc").digest()]
    with pytest.raises(ValueError):
        new_hasher("md5")  # type: ignore[arg-type]


def _tongsuo(data: bytes) -> bytes:
    context = tongsuo_hashes.Hash(tongsuo_hashes.SM3())
    context.update(data)
    return bytes(context.finalize())


def _gmalg(data: bytes) -> bytes:
    hasher = gmalg.SM3()
    hasher.update(data)
    return bytes(hasher.value())


@pytest.mark.parametrize("data", [b"", b"abc", ABCD16, b"a" * 55, b"a" * 56, b"a" * 1_000_000])
def test_agrees_with_other_implementations_at_padding_edges(data: bytes) -> None:
    expected = sm3(data)
    assert bytes(gmssl_pyx.sm3_hash(data)) == expected
    assert _tongsuo(data) == expected
    if len(data) < 10_000:  # gmalg is pure Python
        assert _gmalg(data) == expected


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=0, max_value=300))
def test_agrees_with_other_implementations(data: bytes, cut: int) -> None:
    hasher = SM3(data[:cut])
    hasher.update(data[cut:])
    expected = hasher.digest()
    assert expected == bytes(gmssl_pyx.sm3_hash(data)) == _tongsuo(data) == _gmalg(data)
