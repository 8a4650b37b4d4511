"""Exponential backoff, the one rule every wait-and-retry of govgate follows.

Attempt n (from 0) waits up to `min(max_s, base_s · 2ⁿ)`. Jitter spreads the waits of many
clients that failed together, so their retries do not arrive together again: `full` draws
from [0, bound] (AWS's "full jitter"), `equal` from [bound/2, bound], `none` waits the bound.
"""

from __future__ import annotations

import asyncio
import random
from typing import Literal, TypeAlias

Jitter: TypeAlias = Literal["full", "equal", "none"]
_MAX_EXPONENT = 62  # 2**62 already exceeds any cap; a larger power would overflow a float


def backoff_delay(attempt: int, base_s: float, max_s: float, jitter: Jitter = "full") -> float:
    """The wait before retry number `attempt` (0 for the first retry)."""
    bound = min(max_s, base_s * 2.0 ** min(max(attempt, 0), _MAX_EXPONENT))
    if jitter == "full":
        return random.uniform(0, bound)
    if jitter == "equal":
        return random.uniform(bound / 2, bound)
    return bound


class Backoff:
    """The waits of one run of failures: each `next_delay` longer, until `reset`."""

    def __init__(self, base_s: float = 0.5, max_s: float = 30.0, jitter: Jitter = "equal") -> None:
        self.base_s = base_s
        self.max_s = max_s
        self.jitter: Jitter = jitter
        self.attempt = 0

    def next_delay(self) -> float:
        delay = backoff_delay(self.attempt, self.base_s, self.max_s, self.jitter)
        self.attempt += 1
        return delay

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
