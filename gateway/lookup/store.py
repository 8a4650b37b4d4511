"""Queries of the lookup store: certificates and materials by holder, a case's timeline.

Entries carry the canonical record as decoded JSON (dates and times ISO 8601) beside the columns
a list needs; the gateway decides what a caller may see and masks the rest. Lists are paged by
keyset (an opaque `after` cursor naming the last entry seen), so a page is stable while rows
are added or replaced and costs the same at any depth.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    Table,
    bindparam,
    func,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.lookup.errors import InvalidQuery
from gateway.lookup.tables import (
    LOOKUP_TABLES,
    lk_case_events,
    lk_certificates,
    lk_credit_entries,
    lk_materials,
    lk_notices,
)
from gateway.store import blocking
from gateway.store.errors import store_unavailable

MAX_PAGE = 500
MAX_TIMELINE = 5000
MAX_CREDIT_ENTRIES = 500  # one subject's entries, history included, that one check reads
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CertificateEntry:
    """The newest known version of one certificate (电子证照)."""

    cert_id: str
    type_code: str
    holder_id_type: str
    holder_id: str
    holder_name: str
    status: str
    sharing_class: str
    issuer_code: str
    region_code: str
    issue_date: date
    valid_until: date | None
    event_id: str
    updated_ms: int
    record: dict[str, Any]


@dataclass(frozen=True, slots=True)
class MaterialEntry:
    """The newest known version of one application material (申请材料)."""

    material_id: str
    holder_id: str
    catalog_code: str
    case_no: str | None
    reusable: bool
    valid_until: date | None
    event_id: str
    updated_ms: int
    record: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CaseEventEntry:
    """One step of a case (办件事件)."""

    event_id: str
    case_no: str
    occurred_at: datetime
    stage: str
    record: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CreditEntryEntry:
    """The newest version of one joint-punishment list entry (失信联合惩戒名单条目)."""

    entry_id: str
    subject_id: str
    list_code: str
    valid_from: date
    valid_until: date | None
    removed_on: date | None
    event_id: str
    updated_ms: int
    record: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list; pass `next_after` back as `after` for the next (None: no more)."""

    items: list[T]
    next_after: str | None


def encode_cursor(*parts: str) -> str:
    raw = json.dumps(parts, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> tuple[str, ...]:
    try:
        parts = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidQuery(f"cursor {cursor[:40]!r} is not one this store issued") from exc
    if not (
        isinstance(parts, list) and len(parts) == arity and all(isinstance(p, str) for p in parts)
    ):
        raise InvalidQuery(f"cursor {cursor[:40]!r} is not one this store issued")
    return tuple(parts)


# Built once: the hottest query (a certificate by id) skips statement building per request.
_CERTIFICATE = select(lk_certificates).where(lk_certificates.c.cert_id == bindparam("cert_id"))
_MATERIAL = select(lk_materials).where(lk_materials.c.material_id == bindparam("material_id"))


# the table and key column of each stream's records, as `source_system_of` looks them up
_OWNED: dict[str, tuple[Table, str]] = {
    "certificates": (lk_certificates, "cert_id"),
    "materials": (lk_materials, "material_id"),
    "case-events": (lk_case_events, "case_no"),
}


def _check_limit(limit: int, most: int) -> None:
    if not 1 <= limit <= most:
        raise InvalidQuery(f"limit must be between 1 and {most}, not {limit}")


class LookupStore:
    """Read side of the lookup tables; cheap to build, safe to share between requests."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def certificate(self, cert_id: str) -> CertificateEntry | None:
        rows = await self._rows(_CERTIFICATE, {"cert_id": cert_id})
        return _certificate(rows[0]) if rows else None

    async def certificates_by_holder(
        self,
        holder_id: str,
        type_code: str | None = None,
        *,
        limit: int = 50,
        after: str | None = None,
    ) -> Page[CertificateEntry]:
        """The holder's certificates, ordered by type code then certificate id."""
        c = lk_certificates.c
        page = await self._holder_page(
            lk_certificates, holder_id, c.type_code, type_code, c.cert_id, limit, after
        )
        return Page([_certificate(row) for row in page.items], page.next_after)

    async def material(self, material_id: str) -> MaterialEntry | None:
        rows = await self._rows(_MATERIAL, {"material_id": material_id})
        return _material(rows[0]) if rows else None

    async def materials_by_holder(
        self,
        holder_id: str,
        catalog_code: str | None = None,
        *,
        limit: int = 50,
        after: str | None = None,
        offered_on: date | None = None,
    ) -> Page[MaterialEntry]:
        """The holder's materials, ordered by catalog code then material id; with
        `offered_on`, only those offered for reuse that day (reusable, and valid then)."""
        c = lk_materials.c
        where: list[ColumnElement[bool]] = []
        if offered_on is not None:
            where = [
                c.reusable.is_(True),
                (c.valid_until.is_(None)) | (c.valid_until >= offered_on),
            ]
        page = await self._holder_page(
            lk_materials,
            holder_id,
            c.catalog_code,
            catalog_code,
            c.material_id,
            limit,
            after,
            where,
        )
        return Page([_material(row) for row in page.items], page.next_after)

    async def _holder_page(
        self,
        table: Table,
        holder_id: str,
        code_column: ColumnElement[Any],
        code: str | None,
        id_column: ColumnElement[Any],
        limit: int,
        after: str | None,
        where: list[ColumnElement[bool]] | None = None,
    ) -> Page[Row[Any]]:
        """One keyset page of a holder's rows, ordered by (code, id); the cursor is the last
        (code, id) of the page, given only when more rows follow."""
        _check_limit(limit, MAX_PAGE)
        query = select(table).where(table.c.holder_id == holder_id, *(where or ()))
        if code is not None:
            query = query.where(code_column == code)
        if after is not None:
            query = query.where(tuple_(code_column, id_column) > decode_cursor(after, 2))
        query = query.order_by(code_column, id_column).limit(limit + 1)
        rows = list(await self._rows(query))
        if len(rows) <= limit:
            return Page(rows, None)
        last = rows[limit - 1]
        return Page(
            rows[:limit],
            encode_cursor(last._mapping[code_column], last._mapping[id_column]),
        )

    async def case_timeline(
        self, case_no: str, *, limit: int = MAX_TIMELINE
    ) -> list[CaseEventEntry]:
        """The case's events in the order they happened (ties: by event id, so stable)."""
        _check_limit(limit, MAX_TIMELINE)
        c = lk_case_events.c
        query = (
            select(lk_case_events)
            .where(c.case_no == case_no)
            .order_by(c.occurred_ms, c.event_id)
            .limit(limit)
        )
        return [_case_event(row) for row in await self._rows(query)]

    async def source_system_of(self, stream: str, key: str) -> str | None:
        """The source system (来源系统) that owns a record already in the store: the stored
        certificate's or material's, or a case's first event's; None when none is stored."""
        table, column = _OWNED[stream]
        query = select(table.c.record).where(table.c[column] == key)
        if table is lk_case_events:
            query = query.order_by(lk_case_events.c.occurred_ms, lk_case_events.c.event_id)
        rows = await self._rows(query.limit(1))
        if not rows:
            return None
        provenance = json.loads(rows[0].record).get("provenance") or {}
        found = provenance.get("source_system")
        return found if isinstance(found, str) else None

    async def credit_entries(
        self, subject_id: str, list_codes: list[str], *, limit: int = MAX_CREDIT_ENTRIES
    ) -> list[CreditEntryEntry]:
        """The subject's entries on `list_codes`, removed and expired ones included (history),
        by list then entry id; at most `limit`."""
        if not list_codes:
            return []
        _check_limit(limit, MAX_CREDIT_ENTRIES)
        c = lk_credit_entries.c
        query = (
            select(lk_credit_entries)
            .where(c.subject_id == subject_id, c.list_code.in_(sorted(set(list_codes))))
            .order_by(c.list_code, c.entry_id)
            .limit(limit)
        )
        return [_credit_entry(row) for row in await self._rows(query)]

    async def notice(self, notice_id: str) -> dict[str, Any] | None:
        """The newest version of a 双告知 notice, as its record (JSON shapes), or None."""
        rows = await self._rows(
            select(lk_notices.c.record).where(lk_notices.c.notice_id == notice_id)
        )
        return json.loads(rows[0].record) if rows else None

    async def counts(self) -> dict[str, int]:
        """Rows per lookup table, for operators (`govgate rebuild` prints them)."""
        async with store_unavailable(), self.engine.connect() as conn:
            return {
                t.name: int(await conn.scalar(select(func.count()).select_from(t)) or 0)
                for t in LOOKUP_TABLES
            }

    async def _rows(
        self, query: Select[Any], params: dict[str, Any] | None = None
    ) -> list[Row[Any]]:
        def fetch(conn: Connection) -> list[Row[Any]]:
            return list(conn.execute(query, params).all())

        async with store_unavailable():
            return await blocking.read(self.engine, fetch)


def _certificate(row: Row[Any]) -> CertificateEntry:
    return CertificateEntry(
        cert_id=row.cert_id,
        type_code=row.type_code,
        holder_id_type=row.holder_id_type,
        holder_id=row.holder_id,
        holder_name=row.holder_name,
        status=row.status,
        sharing_class=row.sharing_class,
        issuer_code=row.issuer_code,
        region_code=row.region_code,
        issue_date=row.issue_date,
        valid_until=row.valid_until,
        event_id=row.event_id,
        updated_ms=row.updated_ms,
        record=json.loads(row.record),
    )


def _material(row: Row[Any]) -> MaterialEntry:
    return MaterialEntry(
        material_id=row.material_id,
        holder_id=row.holder_id,
        catalog_code=row.catalog_code,
        case_no=row.case_no,
        reusable=bool(row.reusable),
        valid_until=row.valid_until,
        event_id=row.event_id,
        updated_ms=row.updated_ms,
        record=json.loads(row.record),
    )


def _credit_entry(row: Row[Any]) -> CreditEntryEntry:
    return CreditEntryEntry(
        entry_id=row.entry_id,
        subject_id=row.subject_id,
        list_code=row.list_code,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        removed_on=row.removed_on,
        event_id=row.event_id,
        updated_ms=row.updated_ms,
        record=json.loads(row.record),
    )


def _case_event(row: Row[Any]) -> CaseEventEntry:
    return CaseEventEntry(
        event_id=row.event_id,
        case_no=row.case_no,
        occurred_at=EPOCH + timedelta(milliseconds=row.occurred_ms),
        stage=row.stage,
        record=json.loads(row.record),
    )
