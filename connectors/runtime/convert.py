"""Turn a batch of raw source records into log records: map → check → encode.

A `BatchConverter` is pure CPU work with no I/O, so the runtime can run it in its own event
loop or, for backfills, in worker processes (`ConversionPool`) that use the second core
while the main process reads the source and talks to the log.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.errors import ConnectorError, RecordError
from connectors.mapping.deletions import DELETION, DeletionMapper
from connectors.mapping.engine import Mapper
from connectors.mapping.spec import ConnectorSpec
from connectors.sources.base import SourceRecord, describe
from gateway.log import STREAMS, Appendable, tombstone
from gateway.publishing.scopes import ANY_CODE, CODE_FIELD
from schemas.checks import check_record
from schemas.codec import EncodedEvent, EventCodec
from schemas.errors import EncodeError
from schemas.ids import event_id

Converted = tuple[list[Appendable], list[EncodedEvent]]  # (good, dead letters)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BatchConverter:
    """Map, check and encode; every failure becomes a dead letter, none is dropped.

    A record deleted at its source becomes a `Deletion` record followed by a tombstone of the
    same key (see `connectors.mapping.deletions`), on streams that carry deletes.
    """

    def __init__(
        self,
        spec: ConnectorSpec,
        codec: EventCodec | None = None,
        publishes: frozenset[str] | None = None,
    ) -> None:
        """`publishes`: the codes (type, catalog, item, list; `*` all) the connector's
        publisher is registered for on its stream and source system; a record of another code
        is a dead letter (PUBLISH_NOT_REGISTERED). None checks nothing (tests, benchmarks)."""
        self.spec = spec
        self.codec = codec or EventCodec()
        self.publishes = None if publishes is None or ANY_CODE in publishes else publishes
        self.code_field = CODE_FIELD.get(spec.target.stream, "")
        self.mapper = Mapper(spec, connector=spec.name)
        deletable = STREAMS[spec.target.stream].deletions
        self.deletions = DeletionMapper(spec, connector=spec.name) if deletable else None

    def convert(self, batch: Sequence[SourceRecord]) -> Converted:
        fetched_at = datetime.now(UTC)
        record_type = self.mapper.record_type
        good: list[Appendable] = []
        dead: list[EncodedEvent] = []
        for raw in batch:
            try:
                if raw.deleted:
                    good.extend(self._deletion(raw, fetched_at))
                    continue
                record = self.mapper.map(raw, fetched_at)
                problems = check_record(record_type, record)
                if problems:
                    first = problems[0]
                    raise RecordError(first.code, first.field, "; ".join(map(str, problems)))
                if self.publishes is not None and record.get(self.code_field) not in self.publishes:
                    raise RecordError(
                        "PUBLISH_NOT_REGISTERED",
                        self.code_field,
                        f"{self.code_field} {record.get(self.code_field)!r}: the publisher "
                        f"{self.spec.publisher} is not registered for it",
                    )
                good.append(self.codec.encode(record_type, record))
            except RecordError as exc:
                dead.append(self.dead_letter(raw, exc.code, exc.field, exc.reason, fetched_at))
            except EncodeError as exc:
                field = exc.errors[0].field if exc.errors else None
                dead.append(self.dead_letter(raw, exc.code, field, exc.detail, fetched_at))
        return good, dead

    def _deletion(self, raw: SourceRecord, fetched_at: datetime) -> list[Appendable]:
        if self.deletions is None:
            stream = self.spec.target.stream
            raise RecordError("DELETE_NOT_SUPPORTED", None, f"{stream} carries no deletes")
        record = self.deletions.map(raw, fetched_at)
        encoded = self.codec.encode(DELETION, record)
        fetched_ms = (fetched_at - _EPOCH) // timedelta(milliseconds=1)  # as Avro keeps it
        ended = tombstone(encoded.key, record["event_id"], fetched_ms, record["type_code"])
        return [encoded, ended]

    def maps(self, raw: SourceRecord) -> bool:
        """Whether `raw` becomes a record (mapped, checked, encodable), without keeping it."""
        try:
            record = self.mapper.map(raw, datetime.now(UTC))
            if check_record(self.mapper.record_type, record):
                return False
            self.codec.encode(self.mapper.record_type, record)
        except (RecordError, EncodeError):
            return False
        return True

    def dead_letter(
        self, raw: SourceRecord, code: str, field: str | None, reason: str, at: datetime
    ) -> EncodedEvent:
        system = self.spec.source_system
        return self.codec.encode(
            "DeadLetter",
            {
                # the id the event would have had: a fixed source row gets a new version anyway
                "event_id": event_id(system, raw.table, raw.key, raw.version),
                "connector": self.spec.name,
                "target_stream": self.spec.target.stream,
                "raw": json.dumps(describe(raw.data), ensure_ascii=False),
                "error_code": code,
                "field": field,
                "reason": reason,
                "failed_at": at,
                "provenance": {
                    "source_system": system,
                    "source_table": raw.table,
                    "source_key": raw.key,
                    "source_version": raw.version,
                    "fetched_at": at,
                    "connector": self.spec.name,
                },
            },
        )


_worker: BatchConverter | None = None  # one per worker process, built by `_start_worker`


def _start_worker(spec: dict[str, Any], publishes: list[str] | None) -> None:
    global _worker
    codes = None if publishes is None else frozenset(publishes)
    _worker = BatchConverter(ConnectorSpec.model_validate(spec), publishes=codes)


def _convert_in_worker(batch: Sequence[SourceRecord]) -> Converted:
    assert _worker is not None, "worker not initialised"
    return _worker.convert(batch)


class ConversionPool:
    """Worker processes converting batches for one connector; results come back in the
    order the caller awaits them, which the runtime keeps equal to the read order."""

    def __init__(
        self, spec: ConnectorSpec, workers: int, publishes: frozenset[str] | None = None
    ) -> None:
        # spawn, not fork: the parent runs an event loop and driver threads
        self._pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            # as given, not as a pickled model: unset fields must stay unset in the worker
            initargs=(
                spec.model_dump(mode="json", by_alias=True, exclude_unset=True),
                None if publishes is None else sorted(publishes),
            ),
        )

    async def convert(self, batch: Sequence[SourceRecord]) -> Converted:
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._pool, _convert_in_worker, batch
            )
        except BrokenProcessPool as exc:
            raise ConnectorError(f"a conversion worker died: {exc}") from exc

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
