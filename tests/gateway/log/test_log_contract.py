"""One contract, every backend: what any EventLog must do (see gateway/log/base.py)."""

from __future__ import annotations

import asyncio
import time

import pytest

from gateway.log import EventLog, LogReader, OutRecord, UnknownStream


def rec(key: str, value: str) -> OutRecord:
    return OutRecord(
        key.encode(), value.encode(), [("ce_id", value.encode()), ("k", "办件".encode())]
    )


async def read_all(log: EventLog, stream: str) -> list[tuple[str, str]]:
    return [(r.key.decode(), r.value.decode()) async for r in log.iterate(stream) if r.key]


async def test_append_then_read_back_everything_in_key_order(event_log: EventLog) -> None:
    batch = [rec(f"case-{i % 5}", f"v{i}") for i in range(50)]
    acks = await event_log.append("case-events", batch)

    assert len(acks) == 50
    got = await read_all(event_log, "case-events")
    assert sorted(got) == sorted((r.key.decode(), r.value.decode()) for r in batch)
    for key in {f"case-{i}" for i in range(5)}:  # one key's records keep their order
        assert [v for k, v in got if k == key] == [
            r.value.decode() for r in batch if r.key.decode() == key
        ]


async def test_headers_keys_and_timestamps_are_kept(event_log: EventLog) -> None:
    await event_log.append("certificates", [rec("cert-1", "x")])
    [record] = await event_log.read("certificates", timeout=5)
    assert record.key == b"cert-1"
    assert dict(record.headers) == {"ce_id": b"x", "k": "办件".encode()}
    assert record.timestamp_ms > 1_700_000_000_000
    assert record.stream == "certificates"


async def test_end_position_counts_appends(event_log: EventLog) -> None:
    assert sum((await event_log.end_position("materials")).values()) == 0
    acks = await event_log.append("materials", [rec(f"m{i}", "v") for i in range(7)])
    end = await event_log.end_position("materials")
    assert sum(end.values()) == 7
    for ack in acks:
        assert ack.offset < end[ack.partition]


async def test_reader_resumes_from_a_position_without_gaps_or_repeats(event_log: EventLog) -> None:
    await event_log.append("case-events", [rec(f"k{i % 3}", f"v{i}") for i in range(30)])
    async with event_log.reader("case-events") as reader:
        first = await reader.poll(max_records=10, timeout=5)
        position = reader.position()
    assert first
    rest = [r async for r in event_log.iterate("case-events", position)]
    seen = [r.value for r in first] + [r.value for r in rest]
    assert sorted(seen) == sorted(f"v{i}".encode() for i in range(30))


async def test_poll_waits_for_a_record_appended_later(event_log: EventLog) -> None:
    async with event_log.reader(
        "dead-letters", await event_log.end_position("dead-letters")
    ) as reader:
        assert await reader.poll(timeout=0.2) == []
        later = asyncio.create_task(asyncio.sleep(0.3))
        later.add_done_callback(
            lambda _: asyncio.ensure_future(event_log.append("dead-letters", [rec("d", "late")]))
        )
        got = await reader.poll(timeout=10)
    assert [r.value for r in got] == [b"late"]


async def take(reader: LogReader, n: int, within: float = 30) -> list[bytes]:
    """Exactly `n` records from `reader`, failing if they do not come within `within` seconds."""
    got: list[bytes] = []
    deadline = time.monotonic() + within
    while len(got) < n:
        assert time.monotonic() < deadline, f"only {len(got)} of {n} records came"
        got += [r.value for r in await reader.poll(max_records=n - len(got), timeout=1)]
    return got


async def test_consumer_group_resumes_from_its_commit(event_log: EventLog) -> None:
    await event_log.append("case-events", [rec(f"k{i % 4}", f"v{i}") for i in range(20)])
    async with event_log.consumer("case-events", "supervision") as consumer:
        seen = await take(consumer, 8)
        await consumer.commit()
        assert sum((await consumer.committed()).values()) == 8

    async with event_log.consumer("case-events", "supervision") as consumer:
        seen += await take(consumer, 12)
        await consumer.commit()
        assert await consumer.poll(timeout=0.5) == []
    assert sorted(seen) == sorted(f"v{i}".encode() for i in range(20))

    async with event_log.consumer("case-events", "another-group") as fresh:  # groups are separate
        assert sorted(await take(fresh, 20)) == sorted(seen)


async def test_unknown_stream_is_refused(event_log: EventLog) -> None:
    with pytest.raises(UnknownStream):
        await event_log.append("no-such-stream", [rec("a", "b")])


async def test_each_acknowledgement_names_where_its_record_is(event_log: EventLog) -> None:
    batch = [rec(f"key-{i % 7}", f"value-{i}") for i in range(40)]
    acks = await event_log.append("case-events", batch)
    stored = {(r.partition, r.offset): r.value async for r in event_log.iterate("case-events")}
    assert [stored[(a.partition, a.offset)] for a in acks] == [r.value for r in batch]
