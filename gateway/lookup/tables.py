"""Lookup tables: the projection of the log that window systems query, and how a canonical
record becomes a row of each (SQLAlchemy Core).

They live on `gateway.store.tables.metadata`; migration `0003_lookup` creates them. Every
row can be rebuilt by replaying the log (`govgate rebuild`), so nothing here is a source of
truth. Each row carries the canonical record as JSON text (dates and times ISO 8601, sorted
keys), so the gateway can serve and mask any field without a schema change here; the other
columns exist to be filtered, ordered or shown in a list.

Times are integer milliseconds since the epoch (UTC): exact, and ordered alike on SQLite and
PostgreSQL. `updated_ms` is the log timestamp of the record that wrote the row, not the clock
of the materializer, so a rebuild writes exactly the rows the live materializer wrote.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Date, Index, Integer, String, Table, Text

from gateway.store.tables import metadata
from schemas.codec import to_jsonable
from schemas.validators import normalize

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

# Electronic certificates (电子证照): the newest version of each, by certificate id.
lk_certificates = Table(
    "lk_certificates",
    metadata,
    Column("cert_id", String, primary_key=True),
    Column("type_code", String, nullable=False),
    Column("holder_id_type", String, nullable=False),
    Column("holder_id", String, nullable=False),
    Column("holder_name", String, nullable=False),
    Column("status", String, nullable=False),
    Column("sharing_class", String, nullable=False),
    Column("issuer_code", String, nullable=False),
    Column("region_code", String, nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("valid_until", Date, nullable=True),
    Column("record", Text, nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("source_version", String, nullable=False),
    Column("fetched_ms", BigInteger, nullable=False),  # provenance.fetched_at: decides "newer"
    Column("updated_ms", BigInteger, nullable=False),
    # "which licences does this holder have", grouped by type, in keyset order
    Index("ix_lk_certificates_holder", "holder_id", "type_code", "cert_id"),
)

# Application materials (申请材料): the newest version of each, by material id.
lk_materials = Table(
    "lk_materials",
    metadata,
    Column("material_id", String, primary_key=True),
    Column("holder_id", String, nullable=False),
    Column("catalog_code", String, nullable=False),
    Column("case_no", String, nullable=True),
    Column("reusable", Boolean, nullable=False),
    Column("valid_until", Date, nullable=True),
    Column("record", Text, nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("source_version", String, nullable=False),
    Column("fetched_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Index("ix_lk_materials_holder", "holder_id", "catalog_code", "material_id"),
)

# Case events (办件事件): every event is kept; a case's timeline is its events in time order.
lk_case_events = Table(
    "lk_case_events",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("case_no", String, nullable=False),
    Column("occurred_ms", BigInteger, nullable=False),
    Column("stage", String, nullable=False),
    Column("record", Text, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Index("ix_lk_case_events_case", "case_no", "occurred_ms", "event_id"),
)

# Every event id the materializer has taken in, applied or found stale, and where it was on
# the log. Inserting here first in each batch's transaction is what makes applying an event
# twice (a crash before the group commit, a duplicate on the log) a no-op.
lk_applied = Table(
    "lk_applied",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("stream", String(64), nullable=False),
    Column("log_partition", Integer, nullable=False),
    Column("log_offset", BigInteger, nullable=False),
)

# Joint-punishment list entries (失信联合惩戒名单): the newest version of each, by entry id; a
# removal (信用修复) is a newer version with `removed_on`, kept for the history.
lk_credit_entries = Table(
    "lk_credit_entries",
    metadata,
    Column("entry_id", String, primary_key=True),
    Column("subject_id", String, nullable=False),
    Column("list_code", String, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_until", Date, nullable=True),
    Column("removed_on", Date, nullable=True),
    Column("record", Text, nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("source_version", String, nullable=False),
    Column("fetched_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Index("ix_lk_credit_entries_subject", "subject_id", "list_code", "entry_id"),
)

# 双告知 notices: the newest version of each (routed, then claimed), by notice id.
lk_notices = Table(
    "lk_notices",
    metadata,
    Column("notice_id", String, primary_key=True),
    Column("department_code", String, nullable=False),
    Column("region_code", String, nullable=False),
    Column("status", String, nullable=False),
    Column("item_code", String, nullable=False),
    Column("record", Text, nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("source_version", String, nullable=False),
    Column("fetched_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Index("ix_lk_notices_department", "department_code", "status", "notice_id"),
)

# Keys deleted at their source (a `Deletion` record, or a tombstone): the newest delete of each
# and when it was fetched. A version of the key is applied only if fetched no earlier, so a key
# that comes back is a new version, while an old one delivered late does not bring it back.
lk_deletions = Table(
    "lk_deletions",
    metadata,
    Column("stream", String(64), primary_key=True),
    Column("record_key", String, primary_key=True),
    Column("fetched_ms", BigInteger, nullable=False),
    Column("event_id", String(36), nullable=True),  # the Deletion's; null for a bare tombstone
    Column("updated_ms", BigInteger, nullable=False),
)

LOOKUP_TABLES = (
    lk_certificates,
    lk_materials,
    lk_case_events,
    lk_credit_entries,
    lk_notices,
    lk_applied,
    lk_deletions,
)


# Record → row. `ts` is the log timestamp of the record: the row's `updated_ms`.


def _ms(value: datetime) -> int:
    return (value - _EPOCH) // _MS


def _json(record: dict[str, Any]) -> str:
    return json.dumps(
        to_jsonable(record), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )


def _certificate_row(r: dict[str, Any], ts: int) -> dict[str, Any]:
    holder, prov = r["holder"], r["provenance"]
    return {
        "cert_id": r["cert_id"],
        "type_code": r["type_code"],
        "holder_id_type": holder["id_type"],
        "holder_id": normalize(holder["id_number"]),  # records logged before ingest normalised
        "holder_name": holder["name"],
        "status": r["status"],
        "sharing_class": r["sharing_class"],
        "issuer_code": r["issuer_code"],
        "region_code": r["region_code"],
        "issue_date": r["issue_date"],
        "valid_until": r["valid_until"],
        "record": _json(r),
        "event_id": r["event_id"],
        "source_version": prov["source_version"],
        "fetched_ms": _ms(prov["fetched_at"]),
        "updated_ms": ts,
    }


def _material_row(r: dict[str, Any], ts: int) -> dict[str, Any]:
    prov = r["provenance"]
    return {
        "material_id": r["material_id"],
        "holder_id": normalize(r["holder"]["id_number"]),
        "catalog_code": r["catalog_code"],
        "case_no": r["case_no"],
        "reusable": r["reusable"],
        "valid_until": r["valid_until"],
        "record": _json(r),
        "event_id": r["event_id"],
        "source_version": prov["source_version"],
        "fetched_ms": _ms(prov["fetched_at"]),
        "updated_ms": ts,
    }


def _case_event_row(r: dict[str, Any], ts: int) -> dict[str, Any]:
    return {
        "event_id": r["event_id"],
        "case_no": r["case_no"],
        "occurred_ms": _ms(r["occurred_at"]),
        "stage": r["stage"],
        "record": _json(r),
        "updated_ms": ts,
    }


def _credit_entry_row(r: dict[str, Any], ts: int) -> dict[str, Any]:
    prov = r["provenance"]
    return {
        "entry_id": r["entry_id"],
        "subject_id": r["subject"]["id_number"],
        "list_code": r["list_code"],
        "valid_from": r["valid_from"],
        "valid_until": r["valid_until"],
        "removed_on": r["removed_on"],
        "record": _json(r),
        "event_id": r["event_id"],
        "source_version": prov["source_version"],
        "fetched_ms": _ms(prov["fetched_at"]),
        "updated_ms": ts,
    }


def _notice_row(r: dict[str, Any], ts: int) -> dict[str, Any]:
    prov = r["provenance"]
    return {
        "notice_id": r["notice_id"],
        "department_code": r["department_code"],
        "region_code": r["region_code"],
        "status": r["status"],
        "item_code": r["item_code"],
        "record": _json(r),
        "event_id": r["event_id"],
        "source_version": prov["source_version"],
        "fetched_ms": _ms(prov["fetched_at"]),
        "updated_ms": ts,
    }


@dataclass(frozen=True, slots=True)
class Projection:
    """How the records of one stream become rows of one table."""

    record_type: str
    table: Table
    key: str  # primary-key column
    row: Callable[[dict[str, Any], int], dict[str, Any]]
    versioned: bool  # newest version per key (else: every event is a row of its own)
    deletions: bool = False  # `Deletion` records and tombstones remove a key's row
    # Published by department sources, each record owned by its source system and ordered by
    # its source's version (`gateway.lookup.versions`); else (notices, which the gateway's own
    # router and claims write, as two source systems) ordered by fetch time alone.
    owned: bool = True


PROJECTIONS = {
    "certificates": Projection(
        "Certificate", lk_certificates, "cert_id", _certificate_row, True, deletions=True
    ),
    "materials": Projection(
        "Material", lk_materials, "material_id", _material_row, True, deletions=True
    ),
    "credit-entries": Projection(
        "CreditEntry", lk_credit_entries, "entry_id", _credit_entry_row, True, deletions=True
    ),
    "notices": Projection(
        "Notice", lk_notices, "notice_id", _notice_row, versioned=True, owned=False
    ),
    "case-events": Projection(
        "CaseEvent", lk_case_events, "event_id", _case_event_row, versioned=False
    ),
}
