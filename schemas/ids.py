"""Deterministic event ids: the same source row at the same version always gets the same id."""

from __future__ import annotations

import hashlib
import uuid

# Fixed namespace for govgate event ids (uuid5 of the DNS name "events.govgate"): never change it,
# or re-delivered events stop being recognisable as duplicates.
EVENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "events.govgate")
_NAMESPACE_BYTES = EVENT_NAMESPACE.bytes


def event_id(source_system: str, source_table: str, source_key: str, source_version: str) -> str:
    """UUIDv5 over where a record came from and which version of it this is.

    The table is included beside the design's (system, key, version) because two tables of one
    department system may share primary-key values.
    """
    name = "\x1f".join((source_system, source_table, source_key, source_version))
    # uuid.uuid5, computed directly (this runs once per event on the connectors' hot path)
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
