"""The dead-letter index (死信索引): the `dead-letters` stream, browsable by connector and code.

Connectors append every record that fails mapping or validation to `dead-letters`
(`connectors.runtime.convert`). The log has no way to ask "the ID_NUMBER_CHECK failures of
fgw-tzxm, newest first", so `refresh` projects the stream into `dl_index`: one row per dead
letter, deduplicated by event id (a re-delivered batch adds nothing), its reason, raw record and
source key masked first. Browsing is keyset-paginated on the row id (newest first), so the
100,000th page costs what the first does; tallies are one grouped count on an index.

`refresh` reads from the position saved with the rows, in bounded transactions, so any number
of gateway workers and the CLI can call it before they read: whoever comes first indexes, the
others find nothing new.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.log import EventLog, LogRecord, Position
from gateway.operations.errors import DeadLetterNotFound, InvalidFilter, OperationsUnavailable
from gateway.operations.tables import dl_index, dl_positions, dl_redrives
from gateway.store import upsert_insert
from gateway.store.errors import unavailable_as
from schemas.codec import EventCodec
from schemas.errors import DecodeError
from schemas.validators import mask, mask_ids_in_text, mask_personal_ids

STREAM = "dead-letters"
SOURCE = f"log:{STREAM}"
OPEN, REDRIVEN = "OPEN", "REDRIVEN"
STATES = (OPEN, REDRIVEN)
MAX_PAGE = 200
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_CODE = re.compile(r"^[A-Z0-9_]{1,64}$")
_EVENT_ID = re.compile(r"^[A-Za-z0-9:._-]{1,64}$")
# A dead letter often fails *because* its id number is malformed: one digit short or long, which
# `mask_ids_in_text` (valid shapes only) would let through. So in dead letters every standalone
# run of 15 to 19 digits and Xs (at least 14 digits) is masked as well; 14-digit compact
# times stay.
_ALNUM = "0-9A-Za-z０-９Ａ-Ｚａ-ｚ"
_ID_LIKE = re.compile(rf"(?<![{_ALNUM}])[\dXxＸｘ]{{15,19}}(?![{_ALNUM}])")


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One dead letter as indexed: masked, with where it sits on the log."""

    id: int
    event_id: str
    connector: str
    target_stream: str
    error_code: str
    field: str | None
    reason: str
    raw: str  # JSON text
    failed_at: dt.datetime
    source_system: str
    source_table: str
    source_key: str
    source_version: str
    partition: int
    offset: int
    state: str

    def raw_fields(self) -> dict[str, Any]:
        """The raw record as a dict (a record that is not a JSON object: under `raw`)."""
        try:
            found = json.loads(self.raw)
        except ValueError:
            return {"raw": self.raw}
        return found if isinstance(found, dict) else {"raw": found}


@dataclass(frozen=True, slots=True)
class Filter:
    """What to browse: any of connector, error code and state (None: all)."""

    connector: str | None = None
    code: str | None = None
    state: str | None = None

    @classmethod
    def parse(
        cls, connector: str | None = None, code: str | None = None, state: str | None = None
    ) -> Filter:
        """Blank values mean "all"; anything else must be well formed (`InvalidFilter`)."""
        connector, code, state = (v.strip() if v else None for v in (connector, code, state))
        if connector and not _NAME.match(connector):
            raise InvalidFilter("connector", connector, "expected letters, digits, . _ - (≤128)")
        if code and not _CODE.match(code):
            raise InvalidFilter("code", code, "expected an error code such as ID_NUMBER_CHECK")
        if state and state not in STATES:
            raise InvalidFilter("state", state, f"expected one of {', '.join(STATES)}")
        return cls(connector or None, code or None, state or None)


@dataclass(frozen=True, slots=True)
class DeadLetterPage:
    items: list[DeadLetter]
    next_after: str | None  # pass back as `after` for the next page; None: no more


def parse_after(after: str | None) -> int | None:
    """A page cursor (the last row id seen), or `InvalidFilter` naming it."""
    if after is None or not after.strip():
        return None
    if not after.strip().isdigit() or len(after.strip()) > 18:
        raise InvalidFilter("after", after, "expected the cursor of the previous page")
    return int(after)


def check_event_id(event_id: str) -> str:
    if not _EVENT_ID.match(event_id):
        raise InvalidFilter("event_id", event_id, "expected a dead letter's event id")
    return event_id


class DeadLetterIndex:
    """Reads and writes `dl_index`; every public method is one transaction or a few."""

    def __init__(self, engine: AsyncEngine, codec: EventCodec | None = None) -> None:
        self.engine = engine
        self.codec = codec or EventCodec()
        self._insert = upsert_insert(engine)

    # -- projection --------------------------------------------------------------------------

    async def refresh(self, log: EventLog, *, limit: int = 20_000, batch: int = 2_000) -> int:
        """Index what was appended to `dead-letters` since last time, at most `limit`
        records; returns how many were read (a caller that got `limit` may call again)."""
        start = await self.position()
        end = await log.end_position(STREAM)
        if all(start.get(p, 0) >= o for p, o in end.items()):
            return 0
        read = 0
        async with log.reader(STREAM, start or None) as reader:
            position = dict(start)
            while read < limit and any(position.get(p, 0) < o for p, o in end.items()):
                records = await reader.poll(min(batch, limit - read), timeout=1.0)
                if not records:
                    break
                for r in records:
                    position[r.partition] = max(position.get(r.partition, 0), r.offset + 1)
                await self._save([self._row(r) for r in records], position)
                read += len(records)
        return read

    async def rebuild(self, log: EventLog) -> int:
        """Empty the index and read the whole stream again (the log is the source of truth);
        dead letters re-driven before stay REDRIVEN (`dl_redrives` keeps the attempts).
        Returns how many records were read."""
        async with _translated(), self.engine.begin() as conn:
            await conn.execute(delete(dl_index))
            await conn.execute(delete(dl_positions).where(dl_positions.c.source == SOURCE))
        read = 0
        while found := await self.refresh(log):
            read += found
        done = select(dl_redrives.c.event_id).where(dl_redrives.c.outcome == "REPUBLISHED")
        async with _translated(), self.engine.begin() as conn:
            await conn.execute(
                update(dl_index).where(dl_index.c.event_id.in_(done)).values(state=REDRIVEN)
            )
        return read

    async def position(self) -> Position:
        query = select(dl_positions.c.position).where(dl_positions.c.source == SOURCE)
        async with _translated(), self.engine.connect() as conn:
            found = await conn.scalar(query)
        return {} if found is None else {int(p): int(o) for p, o in json.loads(found).items()}

    def _row(self, record: LogRecord) -> dict[str, Any]:
        now = int(time.time() * 1000)
        where = {"log_partition": record.partition, "log_offset": record.offset}
        try:
            decoded = self.codec.decode(record.value or b"")
            if decoded.name != "DeadLetter":
                raise DecodeError("NOT_A_DEAD_LETTER", f"a {decoded.name} on {STREAM}")
        except DecodeError as exc:  # kept, not dropped: an operator sees it and its place
            return {
                "event_id": f"undecodable:{record.partition}:{record.offset}",
                "connector": "?",
                "target_stream": "?",
                "error_code": exc.code[:64],
                "field": None,
                "reason": mask_text(exc.detail),
                "raw": "{}",
                "failed_ms": record.timestamp_ms,
                "source_system": "?",
                "source_table": "?",
                "source_key": "?",
                "source_version": "?",
                "state": OPEN,
                "indexed_ms": now,
                **where,
            }
        d = decoded.record
        prov = d["provenance"]
        return {
            "event_id": str(d["event_id"]),
            "connector": d["connector"][:128],
            "target_stream": d["target_stream"][:64],
            "error_code": d["error_code"][:64],
            "field": None if d["field"] is None else str(d["field"])[:200],
            "reason": mask_text(d["reason"]),
            "raw": _masked_raw(d["raw"]),
            "failed_ms": int(d["failed_at"].timestamp() * 1000),
            "source_system": prov["source_system"][:128],
            "source_table": prov["source_table"][:200],
            "source_key": mask_text(prov["source_key"])[:200],
            "source_version": prov["source_version"][:200],
            "state": OPEN,
            "indexed_ms": now,
            **where,
        }

    async def _save(self, rows: Sequence[dict[str, Any]], position: Position) -> None:
        now = int(time.time() * 1000)
        text = json.dumps({str(p): o for p, o in sorted(position.items())})
        async with _translated(), self.engine.begin() as conn:
            if rows:
                await conn.execute(
                    self._insert(dl_index).on_conflict_do_nothing(index_elements=["event_id"]),
                    list(rows),
                )
            await self._save_position(conn, text, now)

    async def _save_position(self, conn: AsyncConnection, text: str, now: int) -> None:
        statement = self._insert(dl_positions).values(source=SOURCE, position=text, updated_ms=now)
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=["source"], set_={"position": text, "updated_ms": now}
            )
        )

    # -- reading -----------------------------------------------------------------------------

    async def page(
        self, where: Filter = Filter(), after: str | None = None, limit: int = 50
    ) -> DeadLetterPage:
        """Newest first; `after` is the previous page's `next_after`."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidFilter("limit", limit, f"expected 1 to {MAX_PAGE}")
        cursor = parse_after(after)
        c = dl_index.c
        query = select(dl_index)
        if where.connector is not None:
            query = query.where(c.connector == where.connector)
        if where.code is not None:
            query = query.where(c.error_code == where.code)
        if where.state is not None:
            query = query.where(c.state == where.state)
        if cursor is not None:
            query = query.where(c.id < cursor)
        query = query.order_by(c.id.desc()).limit(limit + 1)
        async with _translated(), self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        items = [_letter(r) for r in rows[:limit]]
        more = len(rows) > limit
        return DeadLetterPage(items, str(items[-1].id) if more and items else None)

    async def tallies(self, connector: str | None = None) -> list[tuple[str, int]]:
        """(error code, dead letters) for every code, most first; of one connector if named."""
        c = dl_index.c
        count = func.count().label("n")
        query = select(c.error_code, count).group_by(c.error_code)
        if connector is not None:
            query = query.where(c.connector == connector)
        async with _translated(), self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return sorted(((r.error_code, int(r.n)) for r in rows), key=lambda t: (-t[1], t[0]))

    async def connectors(self) -> list[tuple[str, int]]:
        """(connector, dead letters) for every connector that has any, by name."""
        c = dl_index.c
        query = select(c.connector, func.count().label("n")).group_by(c.connector)
        async with _translated(), self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return sorted((r.connector, int(r.n)) for r in rows)

    async def get(self, event_id: str) -> DeadLetter:
        query = select(dl_index).where(dl_index.c.event_id == check_event_id(event_id))
        async with _translated(), self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise DeadLetterNotFound(event_id)
        return _letter(row)

    async def set_state(self, event_id: str, state: str) -> None:
        async with _translated(), self.engine.begin() as conn:
            await conn.execute(
                update(dl_index).where(dl_index.c.event_id == event_id).values(state=state)
            )

    async def original(self, log: EventLog, letter: DeadLetter) -> dict[str, Any]:
        """The dead letter as it is on the log, unmasked: what a re-drive needs (its source
        key); never shown. `DeadLetterNotFound` if the log no longer holds it."""
        # the other partitions from their end: only the one record is wanted
        start = await log.end_position(STREAM) | {letter.partition: letter.offset}
        async with log.reader(STREAM, start) as reader:
            for _ in range(10):
                for record in await reader.poll(100, timeout=1.0):
                    if (record.partition, record.offset) == (letter.partition, letter.offset):
                        try:
                            return self.codec.decode(record.value or b"").record
                        except DecodeError:
                            raise DeadLetterNotFound(letter.event_id) from None
                if reader.position().get(letter.partition, 0) > letter.offset:
                    break
        raise DeadLetterNotFound(letter.event_id)


def mask_text(text: str) -> str:
    """`text` with resident id numbers, and anything shaped nearly like one, masked."""
    return _ID_LIKE.sub(_mask_id_like, mask_ids_in_text(text))


def _mask_id_like(found: re.Match[str]) -> str:
    token = found.group()
    return mask(token) if sum(c.isdigit() for c in token) >= 14 else token


def _mask_deep(value: Any) -> Any:
    value = mask_personal_ids(value)
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: _mask_deep(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_deep(v) for v in value]
    return value


def _masked_raw(raw: str) -> str:
    """The raw record's JSON text with personal ids masked (parties by id type, resident id
    numbers anywhere); a text that is not JSON is masked as text."""
    try:
        parsed = json.loads(raw)
    except ValueError:
        return json.dumps(mask_text(raw), ensure_ascii=False)
    return json.dumps(_mask_deep(parsed), ensure_ascii=False)


def _letter(row: Any) -> DeadLetter:
    return DeadLetter(
        id=int(row.id),
        event_id=row.event_id,
        connector=row.connector,
        target_stream=row.target_stream,
        error_code=row.error_code,
        field=row.field,
        reason=row.reason,
        raw=row.raw,
        failed_at=dt.datetime.fromtimestamp(row.failed_ms / 1000, dt.UTC),
        source_system=row.source_system,
        source_table=row.source_table,
        source_key=row.source_key,
        source_version=row.source_version,
        partition=int(row.log_partition),
        offset=int(row.log_offset),
        state=row.state,
    )


def _translated() -> AbstractAsyncContextManager[None]:
    return unavailable_as(OperationsUnavailable)
