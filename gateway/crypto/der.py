"""Strict DER and PEM for the few ASN.1 structures SM2 key files are made of.

`cryptography` cannot parse a key on the SM2 curve (it refuses the curve OID) and GmSSL's
wrapper has no key-file API, so govgate reads and writes SubjectPublicKeyInfo (RFC 5280),
PKCS#8 (RFC 5208) and SEC 1 ECPrivateKey (RFC 5915) itself. Only DER is accepted: definite,
minimal lengths, one-byte tags, nothing after the outer structure. Anything else is a
`KeyFormatError`, so a key has exactly one encoding and a file is either read whole or refused.
"""

from __future__ import annotations

import base64
import binascii
import re

from gateway.crypto.errors import KeyFormatError

INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
OBJECT_IDENTIFIER = 0x06
SEQUENCE = 0x30
EXPLICIT_0 = 0xA0  # [0] constructed: ECPrivateKey parameters
EXPLICIT_1 = 0xA1  # [1] constructed: ECPrivateKey publicKey

_MAX_LENGTH = 0xFFFF  # key files are a few hundred bytes
_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.DOTALL)


def read(data: bytes, offset: int = 0) -> tuple[int, bytes, int]:
    """The element at `offset`: its tag, its contents, and the offset just after it."""
    if offset + 2 > len(data):
        raise KeyFormatError("DER: truncated element")
    tag, first = data[offset], data[offset + 1]
    if tag & 0x1F == 0x1F:
        raise KeyFormatError("DER: multi-byte tags are not used in key files")
    start = offset + 2
    if first < 0x80:
        length = first
    elif first in (0x81, 0x82):
        size = first - 0x80
        if start + size > len(data):
            raise KeyFormatError("DER: truncated length")
        length = int.from_bytes(data[start : start + size], "big")
        if length < 0x80 or (size == 2 and length < 0x100) or length > _MAX_LENGTH:
            raise KeyFormatError("DER: length not in its shortest form")
        start += size
    else:
        raise KeyFormatError("DER: indefinite or oversized length")
    end = start + length
    if end > len(data):
        raise KeyFormatError("DER: element runs past the end of its container")
    return tag, data[start:end], end


def read_whole(data: bytes, tag: int) -> bytes:
    """The contents of the one element of `tag` that `data` consists of, and nothing else."""
    found, contents, end = read(data)
    if found != tag or end != len(data):
        raise KeyFormatError(f"DER: expected exactly one element of tag 0x{tag:02x}")
    return contents


def children(contents: bytes) -> list[tuple[int, bytes]]:
    """The elements, in order, that a SEQUENCE's (or [n]'s) contents hold."""
    found: list[tuple[int, bytes]] = []
    offset = 0
    while offset < len(contents):
        tag, value, offset = read(contents, offset)
        found.append((tag, value))
    return found


def read_small_int(contents: bytes) -> int:
    """A non-negative INTEGER's contents in minimal form (versions: 0 and 1)."""
    if not contents or contents[0] & 0x80 or (len(contents) > 1 and contents[0] == 0):
        raise KeyFormatError("DER: INTEGER not a minimal non-negative encoding")
    return int.from_bytes(contents, "big")


def encode(tag: int, contents: bytes) -> bytes:
    length = len(contents)
    if length < 0x80:
        return bytes((tag, length)) + contents
    size = 1 if length < 0x100 else 2
    return bytes((tag, 0x80 | size)) + length.to_bytes(size, "big") + contents


def encode_small_int(value: int) -> bytes:
    return encode(INTEGER, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big"))


def oid_text(contents: bytes) -> str:
    """An OBJECT IDENTIFIER's contents in dotted form, for error messages."""
    arcs: list[int] = []
    value = 0
    for byte in contents:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if not arcs:
        return "(empty)"
    first = min(arcs[0] // 40, 2)
    return ".".join(str(arc) for arc in (first, arcs[0] - 40 * first, *arcs[1:]))


def pem_encode(label: str, der: bytes) -> bytes:
    """`der` as a PEM block with 64-character lines, as OpenSSL writes it."""
    text = base64.b64encode(der).decode("ascii")
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----", ""]).encode()


def pem_blocks(data: bytes) -> list[tuple[str, bytes]]:
    """Every PEM block in `data` as (label, DER); other text around the blocks is ignored."""
    blocks: list[tuple[str, bytes]] = []
    for match in _PEM.finditer(data):
        label, body = match.group(1).decode("ascii"), match.group(2)
        if b":" in body:  # RFC 1421 headers: a legacy encrypted key (Proc-Type, DEK-Info)
            raise KeyFormatError(f"PEM {label} has headers: encrypted keys are not supported")
        try:
            blocks.append((label, base64.b64decode(b"".join(body.split()), validate=True)))
        except (binascii.Error, ValueError) as exc:
            raise KeyFormatError(f"PEM {label}: bad base64: {exc}") from exc
    if not blocks:
        raise KeyFormatError("no PEM block found")
    return blocks


def pem_block(pem: bytes, labels: tuple[str, ...]) -> bytes:
    """The DER of the first block in `pem` labelled one of `labels` (others are skipped)."""
    blocks = pem_blocks(pem)
    for label, der in blocks:
        if label in labels:
            return der
    found = ", ".join(label for label, _ in blocks)
    if "ENCRYPTED PRIVATE KEY" in found:
        raise KeyFormatError("encrypted private key files are not supported")
    raise KeyFormatError(f"expected a PEM {' or '.join(labels)} block, found {found}")
