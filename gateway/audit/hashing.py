"""How an audit row is hashed: the field encoding, the keyed v2 row MAC and the legacy v1 hash.

Encoding. A row is serialised as a format label followed by its fields in a fixed order, each
encoded by its value:

- null (None):  the byte 0x00;
- integer:      0x01, then 8 bytes big-endian two's complement (seq, at_ms, status, requests);
- text:         0x02, then the length of its UTF-8 bytes as 4 bytes big-endian, then those bytes.

The encoding is length-prefixed and typed, so no two different rows serialize alike (no
separator or escaping to get wrong), and it can be re-implemented in a few lines in any language.

Row hash v2 (keyed; every row written since issue #12). For the fields `V2_FIELDS`
(`seq, at_ms, member_id, keyid, method, path, route, holder, holder_type, purpose, case_no,
decision, code, status, requests, content_sha256, prev_hash`; `content_sha256` names the file a
material's content request served, null otherwise), the hash is the lowercase hex

    HMAC-SHA256(chain_key, b"govgate-audit-v2\\x00" + enc(seq) + … + enc(prev_hash))

with `chain_key = HKDF-SHA256(audit secret, salt = b"", info = b"govgate audit chain v2", 32)`.
Without the audit secret (which is not in the database) nobody can compute a row's hash, so a
database writer cannot forge, alter or re-chain a row unnoticed.

Why a key derived from the audit secret rather than the secret itself or a second secret: the
secret already keys the holder pseudonyms (HMAC of the holder's id); deriving a separate key
with its own label keeps the two uses apart (no value computed for one purpose is ever valid for
the other), while the operator still keeps and backs up one secret. A second, independent
secret would buy no separation of custody: both would sit in the same place
(`DATA_DIR/keys/` or the same secret store), and whoever may read the holder pseudonyms to
answer a data subject also runs `govgate audit verify`.

Row hash v1 (legacy, unkeyed: rows written before issue #12). SHA-256 of
`b"govgate-audit-v1\\x00"` + the encoding of `V1_FIELDS` (the v2 fields without `requests`).
`gateway.audit.chain.verify` accepts a v1 row only below the first keyed row that signed
anchors vouch for, so a writer cannot downgrade rows to the unkeyed format.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import RowMapping

GENESIS = "0" * 64
V1_LABEL = b"govgate-audit-v1\x00"
V2_LABEL = b"govgate-audit-v2\x00"
CHAIN_KEY_INFO = b"govgate audit chain v2"
V1_FIELDS = (
    "seq",
    "at_ms",
    "member_id",
    "keyid",
    "method",
    "path",
    "route",
    "holder",
    "holder_type",
    "purpose",
    "case_no",
    "decision",
    "code",
    "status",
    "prev_hash",
)
V2_FIELDS = (*V1_FIELDS[:-1], "requests", "content_sha256", "prev_hash")
_INT = struct.Struct(">q")
_LEN = struct.Struct(">I")

Row = Mapping[str, Any] | RowMapping


def encode(values: Iterable[object]) -> bytes:
    """The typed, length-prefixed encoding of `values` (see the module)."""
    parts = []
    for value in values:
        if value is None:
            parts.append(b"\x00")
        elif isinstance(value, int):
            parts.append(b"\x01" + _INT.pack(value))
        else:
            data = str(value).encode("utf-8")
            parts.append(b"\x02" + _LEN.pack(len(data)) + data)
    return b"".join(parts)


def chain_key(secret: bytes) -> bytes:
    """The key of the row MAC, derived from the audit secret (see the module for why)."""
    return HKDF(hashes.SHA256(), 32, salt=b"", info=CHAIN_KEY_INFO).derive(secret)


class RowHasher:
    """Computes v2 row hashes with one chain key (the HMAC's key schedule done once)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the chain key must be at least 16 bytes")
        self._base = hmac.new(key, V2_LABEL, hashlib.sha256)

    def __call__(self, row: Row) -> str:
        """The v2 (keyed) hash of `row`, a mapping holding every name of `V2_FIELDS`."""
        mac = self._base.copy()
        mac.update(encode(row[name] for name in V2_FIELDS))
        return mac.hexdigest()


def row_hash(row: Row) -> str:
    """The legacy v1 (unkeyed) hash of `row`, a mapping holding every name of `V1_FIELDS`."""
    return hashlib.sha256(V1_LABEL + encode(row[name] for name in V1_FIELDS)).hexdigest()
