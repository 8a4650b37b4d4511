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

SM3 chains (国密, `gateway.audit_hash = "sm3"`). The same, with SM3 in place of SHA-256 in
both places: the row hash is HMAC-SM3 (RFC 2104 over SM3: 64-byte blocks, 32-byte digest) and
the chain key HKDF-SM3 of the audit secret with the same salt and info. One chain is hashed
with one algorithm from its first row to its last: the algorithm is recorded in `audit_head`
(`hash_alg`, migration 0009_audit_sm3; NULL on a chain with rows means SHA-256), chosen by the
first row written, and the writer refuses to append to a chain of the other algorithm
(`AuditHashConflict`), so switching the setting never mixes a chain. `verify` hashes with the
algorithm recorded for the chain, whatever the setting says now, so older SHA-256 chains keep
verifying; a head whose algorithm was changed makes every row a finding (ALTERED), since no row
hashes to its stored value under the other algorithm. An SM3 chain has no legacy v1 rows.

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
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, TypeAlias, get_args

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import RowMapping

from gateway.crypto.sm3 import SM3

AuditHash: TypeAlias = Literal["sha-256", "sm3"]  # the names of gateway.crypto.sm3.HashName
AUDIT_HASHES: tuple[AuditHash, ...] = get_args(AuditHash)
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


def check_alg(alg: str) -> AuditHash:
    """`alg` if it names an audit hash (sha-256, sm3), else `ValueError`."""
    for known in AUDIT_HASHES:
        if alg == known:
            return known
    raise ValueError(f"unknown audit hash {alg!r}; use one of {', '.join(AUDIT_HASHES)}")


def chain_key(secret: bytes, alg: AuditHash = "sha-256") -> bytes:
    """The key of the row MAC, derived from the audit secret (see the module for why): with
    HKDF-SHA256 for a SHA-256 chain, HKDF-SM3 for an SM3 one."""
    algorithm: hashes.HashAlgorithm = hashes.SM3() if alg == "sm3" else hashes.SHA256()
    return HKDF(algorithm, 32, salt=b"", info=CHAIN_KEY_INFO).derive(secret)


def chain_keys(secret: bytes) -> dict[AuditHash, bytes]:
    """The chain key of each algorithm, for `verify` to use the one the chain records."""
    return {alg: chain_key(secret, alg) for alg in AUDIT_HASHES}


def _digestmod(alg: AuditHash) -> str | Callable[[], Any]:
    """What `hmac.new` takes: OpenSSL's by name when hashlib has it (fast path), else the
    `gateway.crypto.sm3.SM3` object (hashlib-like; pure-Python HMAC around OpenSSL's SM3)."""
    if alg == "sha-256":
        return "sha256"
    return "sm3" if "sm3" in hashlib.algorithms_available else SM3


class RowHasher:
    """Computes v2 row hashes with one chain key (the HMAC's key schedule done once)."""

    def __init__(self, key: bytes, alg: AuditHash = "sha-256") -> None:
        if len(key) < 16:
            raise ValueError("the chain key must be at least 16 bytes")
        self.alg = check_alg(alg)
        self._base = hmac.new(key, V2_LABEL, _digestmod(self.alg))

    def __call__(self, row: Row) -> str:
        """The v2 (keyed) hash of `row`, a mapping holding every name of `V2_FIELDS`."""
        mac = self._base.copy()
        mac.update(encode(row[name] for name in V2_FIELDS))
        return mac.hexdigest()


def row_hash(row: Row) -> str:
    """The legacy v1 (unkeyed) hash of `row`, a mapping holding every name of `V1_FIELDS`."""
    return hashlib.sha256(V1_LABEL + encode(row[name] for name in V1_FIELDS)).hexdigest()
