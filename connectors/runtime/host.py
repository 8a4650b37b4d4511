"""Run a set of connectors in one process, sharing the log, the database and the offsets."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.errors import ConnectorError, MappingSpecError
from connectors.mapping.loader import load_connector_spec
from connectors.mapping.spec import ConnectorSpec
from connectors.runtime.connector import ConnectorRuntime
from connectors.runtime.offsets import OffsetStore, offset_store
from connectors.runtime.status import ConnectorState, StatusStore
from connectors.sources.factory import build_source
from gateway.files import FileStore, open_file_store
from gateway.log import EventLog, open_log
from gateway.members.errors import UnknownMember
from gateway.members.store import MembersStore
from gateway.publishing import PublishingStore, PublishScope
from gateway.settings import Settings
from gateway.store import open_database

logger = logging.getLogger(__name__)
SHIPPED = Path(__file__).resolve().parent.parent / "profiles"
DATA_DIR_VARIABLE = "GOVGATE_DATA_DIR"  # pinned to the absolute data dir in connector files


def connector_files(settings: Settings) -> dict[str, Path]:
    """Connector files by name; the operator's folder wins over the shipped profiles."""
    folders = ([SHIPPED] if settings.connectors.shipped else []) + (
        [settings.connectors.dir] if settings.connectors.dir else []
    )
    files: dict[str, Path] = {}
    for folder in folders:
        for path in sorted(folder.glob("*.yaml")):
            files[path.stem] = path
    return files


def load_specs(settings: Settings, names: list[str] | None = None) -> list[ConnectorSpec]:
    """The named connectors (all by default), with `${GOVGATE_DATA_DIR}` the absolute data dir
    (so relative defaults resolve the same from any working directory)."""
    files = connector_files(settings)
    unknown = sorted(set(names or []) - set(files))
    if unknown:
        raise MappingSpecError(
            f"no connector named {', '.join(unknown)}; known: {', '.join(files)}"
        )
    pinned = {DATA_DIR_VARIABLE: str(settings.data_dir.resolve())}
    specs = [load_connector_spec(files[name], pinned) for name in (names or sorted(files))]
    for spec, name in zip(specs, names or sorted(files), strict=True):
        if spec.name != name:
            raise MappingSpecError(f"{files[name]}: name {spec.name!r} differs from the file name")
    return specs


@dataclass
class Host:
    settings: Settings
    engine: AsyncEngine
    log: EventLog
    offsets: OffsetStore
    status: StatusStore
    files: FileStore


@asynccontextmanager
async def open_host(settings: Settings) -> AsyncIterator[Host]:
    async with AsyncExitStack() as stack:
        engine = await stack.enter_async_context(open_database(settings))
        log = await stack.enter_async_context(
            open_log(settings, engine, wait=settings.kafka.startup_wait_s)
        )
        files = await stack.enter_async_context(open_file_store(settings))
        yield Host(settings, engine, log, offset_store(log, engine), StatusStore(engine), files)


async def publish_codes(engine: AsyncEngine, spec: ConnectorSpec) -> frozenset[str]:
    """The codes `spec`'s publisher member may publish on its stream from its source system
    (`*`: all); none for a connector that names no publisher, or whose member is revoked."""
    if spec.publisher is None:
        return frozenset()
    try:
        member = await MembersStore(engine).get_member(spec.publisher)
    except UnknownMember:
        return frozenset()
    if not member.active:
        return frozenset()
    scopes = await PublishingStore(engine).scopes_of(spec.publisher)
    return frozenset(
        s.code
        for s in scopes
        if s.kind == spec.target.stream and s.source_system == spec.source_system
    )


async def register_publishers(engine: AsyncEngine, specs: list[ConnectorSpec]) -> list[str]:
    """Register each connector's publisher member (added, with the publisher role and no key,
    if it does not exist: it never signs a request) for every code of its stream from its
    source system: the operator's deliberate `govgate connect register`, and the demo's. One
    line per registration made."""
    members, publishing = MembersStore(engine), PublishingStore(engine)
    done = []
    for spec in specs:
        if spec.publisher is None:
            raise MappingSpecError(f"connector {spec.name} names no publisher member")
        try:
            await members.get_member(spec.publisher)
        except UnknownMember:
            name = f"{spec.publisher} (connectors)"
            await members.add_member(spec.publisher, ["publisher"], name=name)
        scope = PublishScope(spec.target.stream, "*", spec.source_system)
        await publishing.register(spec.publisher, [scope])
        done.append(f"{spec.name}: {spec.publisher} publishes {scope}")
    return done


async def run_connectors(
    host: Host,
    specs: list[ConnectorSpec],
    stop: asyncio.Event,
    *,
    backfill: bool = False,
    on_batch: Callable[[int], None] | None = None,
    workers: int = 0,
) -> list[ConnectorState]:
    """Run every connector until it ends (backfill) or `stop` is set; one failing connector
    does not stop the others."""
    runtimes = [
        ConnectorRuntime(
            spec,
            build_source(spec, backfill=backfill),
            host.log,
            host.offsets,
            host.status,
            on_batch=on_batch,
            workers=workers,
            files=host.files,
            max_file_bytes=host.settings.files.max_bytes,
            publishes=await publish_codes(host.engine, spec),
        )
        for spec in specs
    ]

    async def stopper() -> None:
        await stop.wait()
        for runtime in runtimes:
            await runtime.stop()

    async def guarded(runtime: ConnectorRuntime) -> ConnectorState:
        try:
            return await runtime.run()
        except ConnectorError:
            return runtime.state

    watcher = asyncio.create_task(stopper())
    try:
        return list(await asyncio.gather(*(guarded(r) for r in runtimes)))
    finally:
        watcher.cancel()
