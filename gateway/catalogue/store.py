"""Reading and appending catalogue versions. Appends happen inside a governance action's
transaction (gateway.governance), so a publication, its audit row and its log event are one."""

from __future__ import annotations

import json
from dataclasses import replace

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.catalogue.entries import Entry, entry_from_json, stricter
from gateway.catalogue.errors import UnknownResource
from gateway.catalogue.tables import catalogue_codes, catalogue_entries, catalogue_heads
from gateway.lookup.store import decode_cursor, encode_cursor
from gateway.store.errors import store_unavailable

MAX_PAGE = 100


def _search_text(entry: Entry) -> str:
    words = [entry.code, entry.name, entry.description, entry.department_name]
    words += [f.name for f in entry.fields] + [f.description for f in entry.fields]
    return " ".join(words).lower()


def _entry(text: str) -> Entry:
    return entry_from_json(json.loads(text))


class CatalogueStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def append(self, conn: AsyncConnection, entry: Entry, at_ms: int, by: str) -> Entry:
        """Append `entry` as the code's next version and make it current; returns it."""
        current = await conn.scalar(
            select(catalogue_heads.c.version).where(catalogue_heads.c.code == entry.code)
        )
        version = (current or 0) + 1
        published = entry.as_version(version, at_ms, by)
        await conn.execute(
            catalogue_entries.insert().values(
                code=published.code,
                version=version,
                name=published.name,
                department_code=published.department_code,
                kind=published.kind,
                sharing_class=published.sharing_class,
                withdrawn=published.withdrawn,
                published_ms=at_ms,
                published_by=by,
                entry=json.dumps(published.to_json(), ensure_ascii=False),
            )
        )
        head = {
            "version": version,
            "department_code": published.department_code,
            "kind": published.kind,
            "sharing_class": published.sharing_class,
            "withdrawn": published.withdrawn,
            "search": _search_text(published),
        }
        if current is None:
            await conn.execute(catalogue_heads.insert().values(code=published.code, **head))
        else:
            await conn.execute(
                update(catalogue_heads).where(catalogue_heads.c.code == entry.code).values(**head)
            )
        await conn.execute(delete(catalogue_codes).where(catalogue_codes.c.code == entry.code))
        if not published.withdrawn:
            await conn.execute(
                catalogue_codes.insert(),
                [
                    {"kind": published.kind, "record_code": rc, "code": published.code}
                    for rc in published.record_codes
                ],
            )
        return published

    @staticmethod
    def withdrawn(entry: Entry, at_ms: int) -> Entry:
        return replace(entry, withdrawn_ms=at_ms)

    async def current(self, code: str, conn: AsyncConnection | None = None) -> Entry | None:
        """The current version of `code` (withdrawn or not), or None."""
        query = (
            select(catalogue_entries.c.entry)
            .join(
                catalogue_heads,
                (catalogue_heads.c.code == catalogue_entries.c.code)
                & (catalogue_heads.c.version == catalogue_entries.c.version),
            )
            .where(catalogue_heads.c.code == code)
        )
        if conn is not None:
            text = await conn.scalar(query)
        else:
            async with store_unavailable(), self.engine.connect() as own:
                text = await own.scalar(query)
        return None if text is None else _entry(text)

    async def published(self, code: str, conn: AsyncConnection | None = None) -> Entry:
        """The current version of `code` if it is published; `UnknownResource` otherwise."""
        entry = await self.current(code, conn)
        if entry is None or entry.withdrawn:
            raise UnknownResource(f"resource_code {code!r}: no such resource in the catalogue")
        return entry

    async def versions(self, code: str) -> list[Entry]:
        query = (
            select(catalogue_entries.c.entry)
            .where(catalogue_entries.c.code == code)
            .order_by(catalogue_entries.c.version)
        )
        async with store_unavailable(), self.engine.connect() as conn:
            return [_entry(t) for t in (await conn.execute(query)).scalars()]

    async def page(
        self,
        *,
        department: str | None = None,
        kind: str | None = None,
        sharing_class: str | None = None,
        keyword: str | None = None,
        withdrawn: bool = False,
        after: str | None = None,
        limit: int = 50,
    ) -> tuple[list[Entry], str | None]:
        """One keyset page of current entries by code, filtered; and the next cursor."""
        heads = catalogue_heads.c
        query = select(catalogue_entries.c.entry, heads.code).join(
            catalogue_heads,
            (heads.code == catalogue_entries.c.code)
            & (heads.version == catalogue_entries.c.version),
        )
        if department is not None:
            query = query.where(heads.department_code == department)
        if kind is not None:
            query = query.where(heads.kind == kind)
        if sharing_class is not None:
            query = query.where(heads.sharing_class == sharing_class)
        if keyword:
            escaped = keyword.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(heads.search.like(f"%{escaped}%", escape="\\"))
        if not withdrawn:
            query = query.where(heads.withdrawn.is_(False))
        if after is not None:
            query = query.where(heads.code > decode_cursor(after, 1)[0])
        query = query.order_by(heads.code).limit(limit + 1)
        async with store_unavailable(), self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        entries = [_entry(r.entry) for r in rows[:limit]]
        following = encode_cursor(entries[-1].code) if len(rows) > limit else None
        return entries, following

    async def sharing_class(self, kind: str, record_code: str) -> str | None:
        """The strictest class of the published entries covering `record_code` of `kind`, or
        None when the catalogue lists none (then the record's own class stands alone)."""
        query = (
            select(catalogue_heads.c.sharing_class)
            .join(catalogue_codes, catalogue_codes.c.code == catalogue_heads.c.code)
            .where(catalogue_codes.c.kind == kind, catalogue_codes.c.record_code == record_code)
        )
        async with store_unavailable(), self.engine.connect() as conn:
            found = list((await conn.execute(query)).scalars())
        result: str | None = None
        for sharing in found:
            result = sharing if result is None else stricter(result, sharing)
        return result
