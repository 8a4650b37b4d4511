"""`govgate up --demo`'s subscribers kept running: a failure restarts the one that failed, after
a backoff, and never stops the gateway; the gateway's stop ends them."""

from __future__ import annotations

import asyncio
import logging

import pytest

from gateway.backoff import Backoff
from gateway.cli.demo_subscribers import kept_running
from gateway.log.errors import LogError


async def test_a_failing_subscriber_is_restarted_and_stops_with_the_gateway(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop = asyncio.Event()
    attempts: list[asyncio.Event] = []

    async def run(until: asyncio.Event) -> str:
        attempts.append(until)
        if len(attempts) == 1:
            raise LogError("the log is away")
        if len(attempts) == 2:
            until.set()  # gives up on its own, as the notices router does
            raise ExceptionGroup("router", [RuntimeError("postgresql://user:secret@host")])
        await until.wait()
        return "supervise: 3 events applied"

    caplog.set_level(logging.INFO, "gateway.cli.demo_subscribers")
    task = asyncio.create_task(kept_running("supervise", run, stop, Backoff(0.01, 0.02)))
    while len(attempts) < 3:
        await asyncio.sleep(0.01)
    assert not stop.is_set() and not task.done()  # the gateway goes on
    stop.set()
    await asyncio.wait_for(task, 5)
    assert attempts[2].is_set()  # the gateway's stop reached the running attempt
    text = caplog.text
    assert "demo supervise stopped: LOG_ERROR: the log is away; starting it again" in text
    assert "demo supervise stopped: RuntimeError; starting it again" in text
    assert "secret" not in text  # a driver's message is not logged, only its kind
    assert "supervise: 3 events applied" in text


async def test_a_subscriber_ending_early_is_restarted() -> None:
    stop = asyncio.Event()
    runs = 0

    async def run(until: asyncio.Event) -> str:
        nonlocal runs
        runs += 1
        if runs == 3:
            stop.set()
        return "done"

    await asyncio.wait_for(kept_running("notices", run, stop, Backoff(0.01, 0.02)), 5)
    assert runs == 3
