"""Group commit: writes from concurrent requests share one transaction.

Each request `submit`s its item and waits for its own result. One writer task takes whatever
queued while the previous transaction ran (at most `max_batch`) and writes it with one call,
so batches grow with load by themselves and an idle gateway pays no linger. Used for the audit
log (rows in a hash chain) and for used nonces: a request is answered only after its write is
committed, and a failed write fails every request of its batch, none is left waiting.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from gateway.store.errors import StoreError

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommitClosed(StoreError):
    """Submitted after `close`, or still queued when the writer was stopped."""

    code = "GROUP_COMMIT_CLOSED"


class GroupCommit(Generic[Item, Result]):
    """Batches `submit`ted items into calls of `write(items) -> results` (same order)."""

    def __init__(
        self,
        write: Callable[[list[Item]], Awaitable[Sequence[Result]]],
        *,
        name: str,
        max_batch: int = 500,
        linger_s: float = 0.0,
        failure: Callable[[Exception], Exception] = lambda exc: exc,
        closed: Callable[[], Exception] = lambda: GroupCommitClosed("the writer is stopped"),
    ) -> None:
        if max_batch < 1 or linger_s < 0:
            raise ValueError("max_batch must be ≥ 1 and linger_s ≥ 0")
        self._write = write
        self.name = name
        self.max_batch = max_batch
        self.linger_s = linger_s
        self._failure = failure  # one exception per waiting caller, from the write's error
        self._closed = closed
        self._queue: deque[tuple[Item, asyncio.Future[Result]]] = deque()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def pending(self) -> int:
        """Items waiting for the writer."""
        return len(self._queue)

    def start(self) -> None:
        """Start the writer task (`submit` does it too); safe twice."""
        if self._closing:
            raise self._closed()
        if self._task is None or self._task.done():  # done: cancelled from outside; restart
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def submit(self, item: Item) -> Result:
        """Queue `item`; its result once the batch holding it is written."""
        self.start()
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        self._wakeup.set()
        return await future  # a cancelled caller's item is still written

    async def close(self) -> None:
        """Write every queued item, then stop the writer; safe twice."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        try:
            while True:
                if not self._queue:
                    if self._closing:
                        return
                    self._wakeup.clear()
                    await self._wakeup.wait()
                    if self.linger_s and len(self._queue) < self.max_batch:
                        await asyncio.sleep(self.linger_s)  # let company arrive
                    continue
                size = min(len(self._queue), self.max_batch)
                await self._flush([self._queue.popleft() for _ in range(size)])
        finally:  # cancelled from outside: nobody may wait forever
            while self._queue:
                _, future = self._queue.popleft()
                if not future.done():
                    future.set_exception(self._closed())

    async def _flush(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._write([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{self.name}: {len(results)} results for {len(batch)} items")
        except Exception as exc:  # every caller of the batch gets the error; none is answered
            for _, future in batch:
                if not future.done():
                    future.set_exception(self._failure(exc))
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
