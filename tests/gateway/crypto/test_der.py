"""The strict DER reader under key files: one encoding per value, nothing outside the structure."""

from __future__ import annotations

import pytest

from gateway.crypto.der import (
    OCTET_STRING,
    SEQUENCE,
    children,
    encode,
    oid_text,
    pem_blocks,
    pem_encode,
    read,
    read_small_int,
    read_whole,
)
from gateway.crypto.errors import KeyFormatError


@pytest.mark.parametrize("size", [0, 1, 127, 128, 255, 256, 1000])
def test_encode_read_round_trip(size: int) -> None:
    data = encode(OCTET_STRING, bytes(size))
    assert read(data) == (OCTET_STRING, bytes(size), len(data))
    assert len(data) == 2 + size + (0 if size < 128 else 1 if size < 256 else 2)


@pytest.mark.parametrize(
    "data",
    [
        b"\x04",  # no length
        b"\x04\x02\x00",  # short contents
        b"\x04\x80\x00\x00",  # indefinite length
        b"\x04\x81\x01\x00",  # long form for a short length
        b"\x04\x82\x00\x81" + bytes(0x81),  # two length bytes where one fits
        b"\x04\x83\x00\x00\x01\x00",  # three length bytes
        b"\x1f\x01\x00",  # multi-byte tag
    ],
)
def test_non_der_refused(data: bytes) -> None:
    with pytest.raises(KeyFormatError):
        read(data)


def test_read_whole_refuses_trailing_data_and_wrong_tags() -> None:
    value = encode(SEQUENCE, encode(OCTET_STRING, b"x"))
    assert children(read_whole(value, SEQUENCE)) == [(OCTET_STRING, b"x")]
    with pytest.raises(KeyFormatError):
        read_whole(value + b"\x00", SEQUENCE)
    with pytest.raises(KeyFormatError):
        read_whole(value, OCTET_STRING)


@pytest.mark.parametrize("contents", [b"", b"\x80", b"\x00\x01"])
def test_small_integers_must_be_minimal_and_non_negative(contents: bytes) -> None:
    with pytest.raises(KeyFormatError):
        read_small_int(contents)


def test_oid_text() -> None:
    assert oid_text(bytes.fromhex("2a811ccf5501822d")) == "1.2.156.10197.1.301"
    assert oid_text(bytes.fromhex("2a8648ce3d030107")) == "1.2.840.10045.3.1.7"


def test_pem_blocks_skip_text_and_keep_order() -> None:
    text = b"comment\n" + pem_encode("A", b"\x01" * 100) + b"between\n" + pem_encode("B", b"\x02")
    assert pem_blocks(text) == [("A", b"\x01" * 100), ("B", b"\x02")]
    assert max(len(line) for line in pem_encode("A", bytes(300)).splitlines()) == 64
