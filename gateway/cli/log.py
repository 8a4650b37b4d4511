"""`govgate log`: look at the event log as an operator."""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from typing import Any

import click

from gateway.log import STREAMS, EventLog, LogRecord, open_log
from gateway.settings import Settings
from gateway.store import open_database
from schemas.codec import EventCodec, headers_dict, to_jsonable
from schemas.errors import DecodeError
from schemas.validators import mask_personal_ids


@click.group()
def log() -> None:
    """The event log (Kafka, or the SQL log in the gateway's database)."""


@log.command()
@click.argument("stream", type=click.Choice(sorted(STREAMS)))
@click.option("-n", "--lines", default=10, show_default=True, help="Records per partition.")
@click.option("--from-beginning", is_flag=True, help="Start at the first record.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new records.")
@click.option("--unmasked", is_flag=True, help="Show personal id numbers in full.")
def tail(stream: str, lines: int, from_beginning: bool, follow: bool, unmasked: bool) -> None:
    """Print the newest records of STREAM as decoded JSON lines."""
    try:
        asyncio.run(_tail(Settings(), stream, lines, from_beginning, follow, not unmasked))
    except KeyboardInterrupt:
        pass


async def _tail(
    settings: Settings, stream: str, lines: int, from_beginning: bool, follow: bool, masked: bool
) -> None:
    codec = EventCodec()
    async with AsyncExitStack() as stack:
        engine = await stack.enter_async_context(open_database(settings))
        event_log: EventLog = await stack.enter_async_context(open_log(settings, engine))
        end = await event_log.end_position(stream)
        start = {} if from_beginning else {p: max(0, e - lines) for p, e in end.items()}
        async for record in event_log.iterate(stream, start):
            click.echo(render(record, codec, masked))
        if follow:
            async with event_log.reader(stream, end) as reader:
                while True:
                    for record in await reader.poll(timeout=1.0):
                        click.echo(render(record, codec, masked))


def render(record: LogRecord, codec: EventCodec, masked: bool = True) -> str:
    """One log record as a JSON line; a value that does not decode is shown with its error."""
    line: dict[str, Any] = {
        "stream": record.stream,
        "partition": record.partition,
        "offset": record.offset,
        "key": record.key.decode("utf-8", "replace") if record.key is not None else None,
        "timestamp_ms": record.timestamp_ms,
        "headers": headers_dict(record.headers),
    }
    if record.value is None:  # a tombstone: the key's record is deleted (compacted streams)
        line["tombstone"] = True
        return json.dumps(line, ensure_ascii=False)
    try:
        decoded = codec.decode(record.value)
    except DecodeError as exc:
        line["error"] = {"code": exc.code, "detail": exc.detail}
        # masked: the magic and the fingerprint only (the rest may spell an id in ASCII)
        line["value_hex"] = record.value[: 10 if masked else 256].hex()
    else:
        line["type"] = decoded.name
        value = to_jsonable(decoded.record)
        line["value"] = mask_personal_ids(value) if masked else value
    if masked:
        line["headers"] = mask_personal_ids(line["headers"])
        line["key"] = mask_personal_ids(line["key"])
    return json.dumps(line, ensure_ascii=False)
