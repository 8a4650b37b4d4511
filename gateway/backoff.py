"""Exponential backoff with full jitter, for waiting on a source or the log."""

from __future__ import annotations

import asyncio
import random


class Backoff:
    def __init__(self, base_s: float = 0.5, max_s: float = 30.0) -> None:
        self.base_s = base_s
        self.max_s = max_s
        self.attempt = 0

    def next_delay(self) -> float:
        ceiling = min(self.max_s, self.base_s * 2**self.attempt)
        self.attempt += 1
        return random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempt = 0

    async def wait(self, stop: asyncio.Event | None = None) -> None:
        """Sleep the next delay; returns early when `stop` is set."""
        delay = self.next_delay()
        if stop is None:
            await asyncio.sleep(delay)
            return
        try:
            await asyncio.wait_for(stop.wait(), delay)
        except TimeoutError:
            pass
