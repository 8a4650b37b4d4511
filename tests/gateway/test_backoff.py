"""The shared exponential backoff: bounds, jitter, reset, and an early end on stop."""

from __future__ import annotations

import asyncio
import time

from gateway.backoff import Backoff, backoff_delay


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    for failures, bound in ((1, 1.0), (2, 2.0), (4, 8.0), (10, 60.0), (500, 60.0)):
        delays = [backoff_delay(failures - 1, 1.0, 60.0) for _ in range(300)]
        assert all(0 <= d <= bound for d in delays)
        assert max(delays) > bound * 0.8 and min(delays) < bound * 0.2  # spread over [0, bound]


def test_equal_jitter_keeps_half_the_bound_and_none_waits_the_bound() -> None:
    for attempt, bound in ((0, 0.5), (1, 1.0), (3, 4.0), (9, 10.0)):
        delays = [backoff_delay(attempt, 0.5, 10.0, "equal") for _ in range(200)]
        assert all(bound / 2 <= d <= bound for d in delays)
        assert backoff_delay(attempt, 0.5, 10.0, "none") == bound


def test_a_backoff_grows_until_reset() -> None:
    backoff = Backoff(0.5, 10.0, jitter="none")
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5


async def test_wait_ends_early_when_stopped() -> None:
    stop = asyncio.Event()
    backoff = Backoff(30.0, 30.0, jitter="none")
    asyncio.get_running_loop().call_later(0.05, stop.set)
    started = time.monotonic()
    await backoff.wait(stop)
    assert time.monotonic() - started < 5
