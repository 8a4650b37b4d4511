"""Whether a publisher may put one record on the log (deny by default).

Used by the HTTP edge for `POST /v1/events/{kind}` (through `gateway.api.policy`). Connectors
apply the same scopes per record (`connectors.runtime.convert`, with the codes their publisher
is registered for); their times are their own clock's, and ownership is the lookup store's
rule (`gateway.lookup.versions`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.publishing.errors import FutureTime, SourceMismatch
from gateway.publishing.scopes import PublishScope, check_scope, record_source


def check_publish(
    scopes: list[PublishScope],
    kind: str,
    record: dict[str, Any],
    *,
    now_ms: int,
    skew_s: float,
    owner: str | None,
) -> None:
    """Refuse a pushed record: PUBLISH_NOT_REGISTERED outside the member's scopes; FUTURE_TIME
    for a provenance time past now (and the allowed clock skew); SOURCE_MISMATCH when the
    record (a certificate, a material, a case) is owned by another source system (`owner`)."""
    check_scope(scopes, kind, record)
    provenance = record.get("provenance") or {}
    fetched = provenance.get("fetched_at")
    if isinstance(fetched, datetime) and fetched.timestamp() * 1000 > now_ms + skew_s * 1000:
        raise FutureTime(
            f"provenance.fetched_at {fetched.isoformat()}: later than the gateway's clock; a "
            "record is published once fetched"
        )
    source = record_source(record)
    if owner is not None and owner != source:
        raise SourceMismatch(
            f"provenance.source_system {source!r}: this record belongs to another source "
            "system and may be replaced only from it"
        )
