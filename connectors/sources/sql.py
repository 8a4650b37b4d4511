"""The SQL source: reads one table of a department database incrementally.

Rows are read in (timestamp, key) order from a watermark with keyset pagination, streamed
from a server-side cursor and bounded per query, so memory does not grow with the table
and no transaction stays open for long. Timestamp-mode readers (Kafka Connect's JDBC source)
miss rows committed late with a timestamp behind the watermark; this one re-reads a
look-back window behind the watermark once caught up and emits the rows of that window it
has not emitted yet.

Rows whose timestamp is NULL are never read: they have no place in the order. Text
timestamps must sort as text in time order (fixed width, year first, as
`%Y-%m-%d %H:%M:%S` or `%Y%m%d%H%M%S`), since the database compares them as text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from sqlalchemy import MetaData, Table, func, not_, select, type_coerce
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import (
    DBAPIError,
    InterfaceError,
    NoSuchTableError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Select
from sqlalchemy.sql import table as sql_table
from sqlalchemy.types import NullType, TypeEngine

from connectors.errors import (
    ConnectorError,
    RefetchNotSupported,
    SourceConfigError,
    SourceUnavailable,
)
from connectors.sources.base import Offset, OffsetReader, Source, SourceRecord
from connectors.sources.keyset import after
from connectors.sources.lookback import Recent
from connectors.sources.sql_deletes import DeletesConfig, KeyScans
from connectors.sources.sql_engine import CONNECTION_ERRORS as _CONNECTION_ERRORS
from connectors.sources.sql_engine import READ_ERRORS as _READ_ERRORS
from connectors.sources.sql_engine import UNAVAILABLE_SQLSTATES as _UNAVAILABLE_SQLSTATES
from connectors.sources.sql_engine import make_source_engine

log = logging.getLogger(__name__)

_Query = Select[*tuple[Any, ...]]

# Look-back memory kept in the offset (see `Recent`). 10,000 entries of a 12-32 character
# key and its version make a 0.4-0.7 MB offset: under the 1 MB a Kafka record may have by
# default, which the compacted `connect-offsets` topic holds the offset in.
MAX_RECENT = 10_000


class SqlSourceConfig(BaseModel):
    """Where the table is and how its rows are ordered."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: SecretStr = Field(
        description="SQLAlchemy URL; plain postgresql://, mysql://, "
        "sqlite:/// are given their async drivers"
    )
    table: str = Field(min_length=1, description="table name, optionally `schema.table`")
    key_columns: list[str] = Field(min_length=1, description="primary key column(s)")
    timestamp_column: str = Field(description="the watermark column, e.g. GXSJ")
    timestamp_format: str | None = Field(
        default=None,
        description="strptime format when the column holds text; None for DATETIME/TIMESTAMP",
    )
    lookback_s: float = Field(default=300, ge=0, description="re-read window behind the watermark")
    batch_size: int = Field(default=1000, ge=1)
    poll_interval_s: float = Field(default=1.0, gt=0)
    columns: list[str] | None = Field(default=None, description="default: all columns")
    deletes: DeletesConfig | None = Field(
        default=None, description="look for deleted rows by key-snapshot diff (sql_deletes)"
    )


def _text(value: Any) -> str:
    """A value as text for `version` and the offset (ISO 8601 for dates and datetimes)."""
    return value.isoformat() if isinstance(value, date) else str(value)


def _json(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | None) else _text(value)


def _restore(value: Any, column_type: TypeEngine[Any]) -> Any:
    """A value saved in an offset back to what the driver returns for the column."""
    if not isinstance(value, str):
        return value
    try:
        python_type = column_type.python_type
    except NotImplementedError:
        return value
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value)
    if python_type in (Decimal, int, float):
        return python_type(value)
    return value


class SqlSource(Source):
    """Incremental reader of one table; see the module docstring.

    The offset after a record is `{"ts": watermark as text, "key": [key values]}`. The last
    record of each batch also carries the look-back memory, `"recent": {key: version}` (and
    `"floor"` once the window overflowed, see `Recent`). The runtime saves only the last
    record's offset of a batch, so the memory (up to `MAX_RECENT` entries) is copied once per
    batch, not per record; a shared, mutating dict would instead claim rows after a record as
    sent. Resuming from a record without it is safe: the look-back re-sends the window
    (duplicates, never gaps).
    """

    batches_per_query = 50  # bounds each query, and so how long its transaction stays open
    recent_limit = MAX_RECENT

    def __init__(
        self,
        name: str,
        config: SqlSourceConfig,
        *,
        backfill: bool = False,
        remember: Sequence[str] = (),
    ) -> None:
        """`remember`: the columns a deleted row's canonical key is rebuilt from."""
        super().__init__()
        self.name = name
        self.config = config
        self.backfill = backfill
        self.deletes = (
            KeyScans(name, config.table, config.deletes, remember) if config.deletes else None
        )
        self._engine: AsyncEngine | None = None
        self._ts: Any = None  # watermark: timestamp and key of the last row of the main scan
        self._key: tuple[Any, ...] = ()
        self._recent = Recent(self.recent_limit)
        self._where = config.table  # for messages: the table and the URL without password

    @property
    def partition(self) -> str:
        return self.config.table

    @property
    def _limit(self) -> int:
        return self.config.batch_size * self.batches_per_query

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, offsets: OffsetReader) -> None:
        await self.close()
        self._engine = make_source_engine(self.config.url, self.config.table)
        self._where = f"{self.config.table} at {self._engine.url.render_as_string()}"
        try:
            async with self._engine.connect() as conn:
                table = await conn.run_sync(self._reflect)
        except _READ_ERRORS as exc:
            await self.close()
            raise self._translate(exc) from exc
        except BaseException:
            await self.close()
            raise
        self._bind_columns(table)
        self._load(await offsets.get(self.partition))
        if self.deletes is not None:
            keys = {self._column_name(table, n): n for n in self.config.key_columns}
            remembered = {self._column_name(table, n): n for n in self.deletes.remember}
            await self.deletes.start(table, keys, remembered)

    async def close(self) -> None:
        if self.deletes is not None:
            await self.deletes.close()
        if self._engine is not None:
            engine, self._engine = self._engine, None
            await engine.dispose()

    async def committed(self, partition: str, offset: Offset) -> None:
        if self.deletes is not None and partition == self.deletes.partition:
            await self.deletes.committed(offset)

    async def pending(self) -> int | None:
        """Rows in the table: what a backfill from the start reads, for its progress and ETA."""
        schema, _, name = self.config.table.rpartition(".")
        count = select(func.count()).select_from(sql_table(name, schema=schema or None))
        try:
            engine = make_source_engine(self.config.url, self.config.table)
        except SourceConfigError:
            return None  # start() says what is wrong
        try:
            async with engine.connect() as conn:
                return int(await conn.scalar(count) or 0)
        except _READ_ERRORS:
            return None
        finally:
            await engine.dispose()

    async def fetch_one(self, table: str, key: str) -> SourceRecord | None:
        """The row whose key columns hold `key` (their values joined by `|`, as records
        spell it), read now with a connection of its own; for re-driving a dead letter."""
        if table != self.config.table:
            raise RefetchNotSupported(
                f"the {self.name} source reads {self.config.table!r}, not {table!r}"
            )
        parts = key.split("|")
        if len(parts) != len(self.config.key_columns):
            raise RefetchNotSupported(
                f"a key of {table!r} has {len(self.config.key_columns)} part(s) "
                f"({', '.join(self.config.key_columns)}), this one {len(parts)}"
            )
        engine = make_source_engine(self.config.url, self.config.table)
        saved, self._engine = self._engine, engine
        try:
            async with engine.connect() as conn:
                self._bind_columns(await conn.run_sync(self._reflect))
                keys = zip(self._order[1:], parts, self._types[1:], strict=True)
                query: _Query = select(*self._selected).where(
                    *(column == _restore(part, kind) for column, part, kind in keys)
                )
                row = (await conn.execute(query.limit(1))).first()
        except _READ_ERRORS as exc:
            raise self._translate(exc) from exc
        finally:
            self._engine = saved
            await engine.dispose()
        return None if row is None else self._record(row)

    def _reflect(self, conn: Connection) -> Table:
        schema, _, name = self.config.table.rpartition(".")
        try:
            return Table(name, MetaData(), schema=schema or None, autoload_with=conn)
        except NoSuchTableError:
            raise SourceConfigError(f"no table {self.config.table!r} ({self._where})") from None

    def _bind_columns(self, table: Table) -> None:
        """Resolve the configured names and build the column expressions of the queries."""
        cfg = self.config
        names = cfg.columns if cfg.columns is not None else table.c.keys()
        labels = {self._column_name(table, n): n for n in names}  # the table's name → ours
        position = [self._column_name(table, n) for n in (cfg.timestamp_column, *cfg.key_columns)]
        for name, given in zip(position, (cfg.timestamp_column, *cfg.key_columns), strict=True):
            labels.setdefault(name, given)
        # selected untyped so `data` holds the values exactly as the driver returns them
        self._selected = [type_coerce(table.c[n], NullType()).label(v) for n, v in labels.items()]
        self._order = [table.c[n] for n in position]
        raw = self._engine is not None and self._engine.dialect.name == "sqlite"
        # SQLite keeps DATETIME as text, and its typed binds would insist on datetime objects
        self._position = [type_coerce(c, NullType()) if raw else c for c in self._order]
        # to restore saved positions; SQLite returns its text, integers and floats as they are
        self._types = [NullType() if raw else c.type for c in self._order]
        self._ts_index, *self._key_index = (list(labels).index(n) for n in position)

    def _column_name(self, table: Table, name: str) -> str:
        """The table's own spelling of `name` (PostgreSQL folds unquoted names to lower case)."""
        if name in table.c:
            return name
        folded = [c for c in table.c.keys() if c.lower() == name.lower()]
        if len(folded) == 1:
            return folded[0]
        raise SourceConfigError(
            f"table {self.config.table!r} has no column {name!r} "
            f"(it has {', '.join(table.c.keys())})"
        )

    def _load(self, saved: Offset | None) -> None:
        self._ts, self._key, self._recent = None, (), Recent(self.recent_limit)
        if saved is None:
            return
        try:
            position = [saved["ts"], *saved["key"]]
            ts, *key = (_restore(v, t) for v, t in zip(position, self._types, strict=True))
            for k, version in dict(saved.get("recent") or {}).items():
                self._recent.add(k, version, _restore(version, self._types[0]))
            if "floor" in saved:
                self._recent.floor = _restore(saved["floor"], self._types[0])
        except (KeyError, TypeError, ValueError) as exc:
            raise SourceConfigError(
                f"saved offset of {self.config.table!r} does not fit its key and timestamp "
                f"columns: {exc}"
            ) from None
        self._ts, self._key = ts, tuple(key)

    # -- reading -----------------------------------------------------------------------------

    async def batches(self) -> AsyncIterator[list[SourceRecord]]:
        while not self.stopping.is_set():
            read = 0
            async with contextlib.aclosing(self._stream(self._main_query())) as parts:
                async for rows in parts:
                    read += len(rows)
                    yield await self._noted(self._main_batch(rows))
                    if self.stopping.is_set():
                        return
            if read >= self._limit:
                continue  # more rows behind this query's limit
            async with contextlib.aclosing(self._look_back()) as late:
                async for batch in late:
                    yield await self._noted(batch)
                    if self.stopping.is_set():
                        return
            if self.deletes is not None:
                scan = self.deletes.due(self.backfill)
                async with contextlib.aclosing(self.deletes.run(self._page, scan)) as gone:
                    async for batch in gone:
                        yield batch
                        if self.stopping.is_set():
                            return
            if self.backfill:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), self.config.poll_interval_s)

    async def _noted(self, batch: list[SourceRecord]) -> list[SourceRecord]:
        """`batch`, its keys noted in the key snapshot first when deletes are looked for."""
        if self.deletes is not None and batch:
            await self.deletes.emitted(batch)
        return batch

    async def _page(self, query: _Query) -> Sequence[Row[Any]]:
        """All rows of one bounded query (a page of a key scan)."""
        assert self._engine is not None, "start() first"
        try:
            async with self._engine.connect() as conn:
                return (await conn.execute(query)).all()
        except _READ_ERRORS as exc:
            raise self._translate(exc) from exc

    def _main_query(self) -> _Query:
        """The rows after the watermark, in (timestamp, key) order."""
        query = select(*self._selected).where(self._position[0].is_not(None))
        if self._ts is not None:
            query = query.where(
                self._position[0] >= self._ts, after(self._position, (self._ts, *self._key))
            )
        return query.order_by(*self._order).limit(self._limit)

    def _window_query(self, start: Any, cursor: tuple[Any, ...] | None) -> _Query:
        """The rows of the look-back window up to the watermark, after `cursor`."""
        ts = self._position[0]
        query = select(*self._selected).where(
            ts >= start, ts <= self._ts, not_(after(self._position, (self._ts, *self._key)))
        )
        if self._recent.floor is not None:
            query = query.where(ts > self._recent.floor)
        if cursor is not None:
            query = query.where(after(self._position, cursor))
        return query.order_by(*self._order).limit(self._limit)

    async def _stream(self, query: _Query) -> AsyncGenerator[Sequence[Row[Any]]]:
        """The rows of `query` in partitions of `batch_size`, from a server-side cursor."""
        assert self._engine is not None, "start() first"
        try:
            async with self._engine.connect() as conn:
                result = await conn.stream(
                    query.execution_options(yield_per=self.config.batch_size)
                )
                try:
                    async for rows in result.partitions():
                        if rows:
                            yield rows
                finally:
                    await result.close()  # MySQL: drain an abandoned cursor before the rollback
        except _READ_ERRORS as exc:
            raise self._translate(exc) from exc

    async def _look_back(self) -> AsyncGenerator[list[SourceRecord]]:
        """The rows of the window not emitted yet: rows committed late, behind the watermark."""
        if self._ts is None:
            return
        start, cursor = self._window_start(), None
        while True:
            read = 0
            query = self._window_query(start, cursor)
            async with contextlib.aclosing(self._stream(query)) as parts:
                async for rows in parts:
                    read += len(rows)
                    cursor = self._position_of(rows[-1])
                    if batch := self._late_batch(rows):
                        yield batch
            if read < self._limit:
                return

    def _window_start(self) -> Any:
        """The watermark minus the look-back, in the column's own type."""
        ts, delta = self._ts, timedelta(seconds=self.config.lookback_s)
        if isinstance(ts, date):
            return ts - delta
        fmt = self.config.timestamp_format
        if not isinstance(ts, str):
            raise SourceConfigError(
                f"{self.config.table}.{self.config.timestamp_column} holds "
                f"{type(ts).__name__} values; expected DATETIME/TIMESTAMP or text"
            )
        try:
            parsed = datetime.strptime(ts, fmt) if fmt else datetime.fromisoformat(ts)
        except ValueError:
            raise SourceConfigError(
                f"{self.config.table}.{self.config.timestamp_column} value {ts!r} does not "
                f"match timestamp_format {fmt!r}"
            ) from None
        start = parsed - delta
        if fmt:
            return start.strftime(fmt)
        return start.isoformat(sep=ts[10] if len(ts) > 10 else " ")

    # -- records -----------------------------------------------------------------------------

    def _position_of(self, row: Row[Any]) -> tuple[Any, ...]:
        return (row[self._ts_index], *(row[i] for i in self._key_index))

    def _record(self, row: Row[Any]) -> SourceRecord:
        key = "|".join(str(row[i]) for i in self._key_index)
        return SourceRecord(
            partition=self.partition,
            offset={"ts": _text(self._ts), "key": [_json(k) for k in self._key]},
            table=self.config.table,
            key=key,
            version=_text(row[self._ts_index]),
            data=dict(row._mapping),
        )

    def _main_batch(self, rows: Sequence[Row[Any]]) -> list[SourceRecord]:
        """`_record` of each row after moving the watermark to it, written out for speed:
        this runs once per row of a backfill."""
        batch = []
        names = rows[0]._fields
        partition, table, add = self.partition, self.config.table, self._recent.add
        ts_index, key_index = self._ts_index, self._key_index
        single = key_index[0] if len(key_index) == 1 else None
        ts: Any = self._ts
        key: tuple[Any, ...] = self._key
        for row in rows:
            ts = row[ts_index]
            version = ts if ts.__class__ is str else _text(ts)
            if single is not None:
                k = row[single]
                key = (k,)
                text = k if k.__class__ is str else str(k)
                offset_key = [k if k.__class__ is str else _json(k)]
            else:
                key = tuple(row[i] for i in key_index)
                text = "|".join(map(str, key))
                offset_key = [_json(k) for k in key]
            add(text, version, ts)
            batch.append(
                SourceRecord(
                    partition=partition,
                    offset={"ts": version, "key": offset_key},
                    table=table,
                    key=text,
                    version=version,
                    data=dict(zip(names, row, strict=True)),
                )
            )
        self._ts, self._key = ts, key
        if isinstance(self._ts, str | date):
            self._recent.prune(self._window_start())
        return self._sealed(batch)

    def _late_batch(self, rows: Sequence[Row[Any]]) -> list[SourceRecord]:
        batch = []
        for row in rows:
            record = self._record(row)
            if not self._recent.seen(record.key, record.version):
                self._recent.add(record.key, record.version, row[self._ts_index])
                batch.append(record)
        return self._sealed(batch)

    def _sealed(self, batch: list[SourceRecord]) -> list[SourceRecord]:
        """Attach the look-back memory to the last record, the one whose offset is saved."""
        if batch:
            batch[-1].offset["recent"] = self._recent.snapshot()
            if self._recent.floor is not None:
                batch[-1].offset["floor"] = _text(self._recent.floor)
        return batch

    # -- errors ------------------------------------------------------------------------------

    def _translate(self, exc: BaseException) -> ConnectorError:
        """Driver errors become the connector's: unreachable → retriable, wrong → config.

        Any other database error (bad data, a constraint) is re-raised as it is: it is
        neither the server's absence nor our configuration.
        """
        orig = getattr(exc, "orig", None) or exc
        detail = f"{self._where}: {type(orig).__name__}: {orig}"
        if isinstance(exc, ProgrammingError) and not exc.connection_invalidated:
            return SourceConfigError(f"cannot query {detail}")
        if isinstance(exc, DBAPIError) and not (
            exc.connection_invalidated
            or isinstance(exc, OperationalError | InterfaceError)
            or isinstance(orig, _CONNECTION_ERRORS)
            or str(getattr(orig, "sqlstate", ""))[:2] in _UNAVAILABLE_SQLSTATES
        ):
            raise exc
        return SourceUnavailable(f"cannot read {detail}")
