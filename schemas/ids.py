"""Deterministic event ids: the same source row at the same version always gets the same id."""

from __future__ import annotations

import hashlib
import uuid

# Fixed namespace for govgate event ids (uuid5 of the DNS name "events.govgate"): never change it,
# or re-delivered events stop being recognisable as duplicates.
EVENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "events.govgate")
_NAMESPACE_BYTES = EVENT_NAMESPACE.bytes
_VARIANT = {f"{n:x}": f"{(n & 0x3) | 0x8:x}" for n in range(16)}


def event_id(source_system: str, source_table: str, source_key: str, source_version: str) -> str:
    """UUIDv5 over where a record came from and which version of it this is.

    The table is included beside the design's (system, key, version) because two tables of one
    department system may share primary-key values.
    """
    name = "\x1f".join((source_system, source_table, source_key, source_version))
    # uuid.uuid5, computed directly (this runs once per event on the connectors' hot path):
    # the version nibble set to 5, the variant bits of the 17th hex digit to 10xx
    h = hashlib.sha1(_NAMESPACE_BYTES + name.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"
