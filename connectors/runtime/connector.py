"""Run one connector: source → mapping → validation → log, owning offsets and retries.

Per batch: map and validate every record; append the good ones to the target stream and
the failures to `dead-letters` (raw record, connector, code, reason); only then save the
offsets of the batch and tell the source they are saved. A batch is retried whole while the
log is away, so delivery is at-least-once and a duplicate carries the same event id. A source
that cannot be read is restarted from the saved offsets after a backoff; the runtime neither
exits nor spins. `stop()` (SIGTERM) lets the current batch finish and commit, then returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from connectors.errors import ConnectorError, SourceUnavailable
from connectors.mapping.spec import ConnectorSpec
from connectors.runtime.attachments import AttachmentCopier
from connectors.runtime.convert import BatchConverter, ConversionPool, Converted
from connectors.runtime.offsets import OffsetStore
from connectors.runtime.status import ConnectorState, StatusStore
from connectors.sources.base import Offset, Source, SourceRecord
from gateway.backoff import Backoff
from gateway.files import FileStore
from gateway.log import Appendable, EventLog, LogError
from schemas.codec import EncodedEvent, EventCodec

logger = logging.getLogger(__name__)
T = TypeVar("T")
Encoded = EncodedEvent
# A batch as read, its conversion, and the dead letters of its files that could not be copied.
_Pending = tuple[Sequence[SourceRecord], "asyncio.Future[Converted]", list[EncodedEvent]]
DEAD_LETTERS = "dead-letters"


# Objects allocated between young collections of the cycle collector while a runtime pumps
# (CPython's default is 700). A record costs ~40 short-lived objects, nearly all freed by
# reference counting, and at the default the collector took ~15-20% of a backfill's time.
_GC_YOUNG = 50_000
_pumping = 0
_saved_threshold = gc.get_threshold()


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Raise the young-generation threshold while any runtime pumps; restore it after the last."""
    global _pumping, _saved_threshold
    if _pumping == 0:
        _saved_threshold = gc.get_threshold()
        young, *older = _saved_threshold
        gc.set_threshold(max(young, _GC_YOUNG), *older)
    _pumping += 1
    try:
        yield
    finally:
        _pumping -= 1
        if _pumping == 0:
            gc.set_threshold(*_saved_threshold)


class _SavedOffsets:
    def __init__(self, saved: dict[str, Offset]) -> None:
        self.saved = saved

    async def get(self, partition: str) -> Offset | None:
        return self.saved.get(partition)


class ConnectorRuntime:
    def __init__(
        self,
        spec: ConnectorSpec,
        source: Source,
        log: EventLog,
        offsets: OffsetStore,
        status: StatusStore | None = None,
        *,
        codec: EventCodec | None = None,
        on_batch: Callable[[int], None] | None = None,
        workers: int = 0,
        files: FileStore | None = None,
        max_file_bytes: int = 100 * 1024 * 1024,
        publishes: frozenset[str] | None = None,
    ) -> None:
        """`publishes`: the codes the connector's publisher member is registered for on its
        stream and source system (`connectors.runtime.host.publish_codes`): none, and the
        connector does not start; None checks nothing (tests and benchmarks that build a
        runtime themselves)."""
        self.spec = spec
        self.publishes = publishes
        self.source = source
        self.log = log
        self.offsets = offsets
        self.status = status
        self.codec = codec or EventCodec()
        self.converter = BatchConverter(spec, self.codec, publishes)
        self.workers = workers
        self.state = ConnectorState(spec.name)
        self.on_batch = on_batch
        self._stopping = asyncio.Event()
        self.attachments: AttachmentCopier | None = None
        if spec.file is not None:
            if files is None:
                raise ConnectorError(f"connector {spec.name} copies files: it needs a file store")
            self.attachments = AttachmentCopier(
                spec.file,
                files,
                max_bytes=max_file_bytes,
                waiting=self._waiting,
                stopping=self._stopping,
            )

    async def stop(self) -> None:
        """Finish the current batch, save its offsets, then end `run()`."""
        self._stopping.set()
        await self.source.stop()

    async def run(self) -> ConnectorState:
        backoff = Backoff()
        if (status := self.status) is not None:
            await self._retrying(lambda: status.resume(self.state))
        try:
            if self.publishes is not None and not self.publishes:
                raise ConnectorError(
                    f"PUBLISH_NOT_REGISTERED: publisher {self.spec.publisher or '(none named)'} "
                    f"is not registered for {self.spec.target.stream} from "
                    f"{self.spec.source_system}; see govgate connect register"
                )
            while not self._stopping.is_set():
                try:
                    saved = await self._retrying(lambda: self.offsets.load(self.spec.name))
                    await self.source.start(_SavedOffsets(saved))
                    self.state.state = "running"
                    with _fewer_collections():
                        await self._pump(backoff)
                    break  # the source ended: backfill done, or stopped
                except SourceUnavailable as exc:
                    await self._waiting(f"source unavailable: {exc.detail}")
                    await self.source.close()
                    await backoff.wait(self._stopping)
            self.state.state = "stopped"
        except ConnectorError as exc:
            self.state.state = "failed"
            self.state.error(str(exc))
            logger.error("connector %s failed: %s", self.spec.name, exc)
            raise
        finally:
            await self.source.close()
            await self._publish(force=True)
        return self.state

    async def _pump(self, backoff: Backoff) -> None:
        """Read and convert the next batch while the log acknowledges the one before.

        Two stages joined by a short queue: the reader converts (in this process, or in
        `workers` processes for throughput), the deliverer appends and saves offsets strictly
        in read order, so offsets still follow acknowledgements.
        """
        pool = ConversionPool(self.spec, self.workers, self.publishes) if self.workers > 0 else None
        ready: asyncio.Queue[_Pending | None] = asyncio.Queue(maxsize=max(2, self.workers + 1))
        batches = self.source.batches()

        async def read() -> None:
            try:
                async for batch in batches:
                    todo, unfiled = await self._with_files(batch)
                    if pool is None:
                        done: asyncio.Future[Converted] = asyncio.get_running_loop().create_future()
                        done.set_result(self.converter.convert(todo))
                        await ready.put((batch, done, unfiled))
                    else:
                        converting = asyncio.ensure_future(pool.convert(todo))
                        await ready.put((batch, converting, unfiled))
                    if self._stopping.is_set():
                        break
            finally:  # close the source's generator now, not when it is collected
                if isinstance(batches, AsyncGenerator):
                    await batches.aclose()
                await ready.put(None)

        reader = asyncio.create_task(read())
        try:
            while (item := await ready.get()) is not None:
                batch, converting, unfiled = item
                good, dead = await converting
                await self._deliver(batch, good, dead + unfiled)
                backoff.reset()
        except BaseException:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectorError):
                await reader
            raise
        finally:
            if pool is not None:
                await asyncio.to_thread(pool.close)
        await reader  # re-raises what ended the reader, e.g. SourceUnavailable

    async def _with_files(
        self, batch: Sequence[SourceRecord]
    ) -> tuple[Sequence[SourceRecord], list[Encoded]]:
        """The records whose files are now in the file store, and dead letters for the others
        (nothing to do for a connector without files)."""
        if self.attachments is None:
            return batch, []
        copied, failed = await self.attachments.copy(batch, self.converter.maps)
        at = datetime.now(UTC)
        dead = [
            self.converter.dead_letter(raw, exc.code, exc.field, exc.reason, at)
            for raw, exc in failed
        ]
        return copied, dead

    async def _deliver(
        self, batch: Sequence[SourceRecord], good: list[Appendable], dead: list[Encoded]
    ) -> None:
        if good:
            await self._retrying(lambda: self.log.append(self.spec.target.stream, good))
        if dead:
            await self._retrying(lambda: self.log.append(DEAD_LETTERS, dead))
        last: dict[str, Offset] = {}
        for record in batch:
            last[record.partition] = record.offset
        await self._retrying(lambda: self.offsets.save(self.spec.name, last))
        for partition, offset in last.items():
            await self.source.committed(partition, offset)
        self.state.records += len(good)
        self.state.dead_letters += len(dead)
        self.state.position.update({p: _summary(o) for p, o in last.items()})
        self.state.state = "running"
        if self.on_batch is not None:
            self.on_batch(len(batch))
        await self._publish()

    async def _retrying(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Retry while the log (or offset store) is unavailable; nothing is skipped."""
        backoff = Backoff()
        while True:
            try:
                return await attempt()
            except LogError as exc:
                if not exc.retriable:
                    raise ConnectorError(f"log refused a batch: {exc}") from exc
                await self._waiting(f"log unavailable: {exc.detail}")
                await backoff.wait()

    async def _waiting(self, message: str) -> None:
        self.state.state = "waiting"
        self.state.error(message)
        logger.warning("connector %s waiting: %s", self.spec.name, message)
        await self._publish(force=True)

    async def _publish(self, force: bool = False) -> None:
        if self.status is None:
            return
        try:
            await self.status.publish(self.state, force=force)
        except LogError as exc:  # status is for operators; never stop delivery for it
            logger.warning("connector %s: status not saved: %s", self.spec.name, exc.detail)


def _summary(offset: Offset) -> Offset:
    """An offset as operators see it: bulky look-back memories shown by their size."""
    return {
        k: (len(v) if isinstance(v, dict | list) and len(v) > 5 else v) for k, v in offset.items()
    }
