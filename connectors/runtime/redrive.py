"""The connectors' re-fetcher: re-read one corrected record and publish it (re-drive, 重新投递).

Registered under the entry point group `govgate.redrive` (see `gateway.operations.redrive`),
so the gateway's console can re-drive a dead letter without importing the connectors; the
CLI, the composition root, passes `refetcher(...)` directly. The record goes through the same
`BatchConverter` as in the runtime — mapping, checks, the publisher's registered codes — and,
if it passes, is appended to the connector's target stream. Its event id is the one the
connector would give that version of the row, so the connector reading the same version later
adds a harmless duplicate.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.errors import MappingSpecError, RefetchNotSupported
from connectors.runtime.convert import BatchConverter
from connectors.runtime.host import load_specs, publish_codes
from connectors.sources.factory import build_source
from gateway.log import EventLog
from gateway.operations.redrive import Outcome, RedriveRequest, RedriveResult, Refetcher
from gateway.settings import Settings
from schemas.codec import EventCodec


class ConnectorRefetcher:
    """Re-fetches through the connector a dead letter names, as configured in this process."""

    def __init__(self, settings: Settings, log: EventLog, engine: AsyncEngine) -> None:
        self.settings = settings
        self.log = log
        self.engine = engine
        self.codec = EventCodec()

    async def __call__(self, request: RedriveRequest) -> RedriveResult:
        try:
            [spec] = load_specs(self.settings, [request.connector])
        except MappingSpecError as exc:
            raise RefetchNotSupported(f"connector {request.connector}: {exc.detail}") from exc
        if (spec.source_system, spec.target.stream) != (
            request.source_system,
            request.target_stream,
        ):
            raise RefetchNotSupported(
                f"connector {spec.name} now reads {spec.source_system} into "
                f"{spec.target.stream}, not {request.source_system} into {request.target_stream}"
            )
        if spec.file is not None:
            raise RefetchNotSupported(
                f"connector {spec.name} copies files with its records: let it read the "
                "corrected row itself"
            )
        record = await build_source(spec).fetch_one(request.source_table, request.source_key)
        if record is None:
            return RedriveResult(Outcome.NOT_FOUND, code="SOURCE_ROW_GONE", reason="")
        publishes = await publish_codes(self.engine, spec)
        if not publishes:
            raise RefetchNotSupported(
                f"connector {spec.name}: its publisher {spec.publisher} is not registered for "
                f"{spec.target.stream} from {spec.source_system} (govgate connect register)"
            )
        converter = BatchConverter(spec, self.codec, publishes)
        good, dead = converter.convert([record])
        if dead:
            letter = self.codec.decode(dead[0].value).record
            return RedriveResult(
                Outcome.STILL_FAILING, code=letter["error_code"], reason=letter["reason"]
            )
        await self.log.append(spec.target.stream, good)
        ids = (dict(e.headers).get("ce_id", b"").decode() for e in good)
        return RedriveResult(Outcome.REPUBLISHED, event_ids=tuple(i for i in ids if i))


def refetcher(settings: Settings, log: EventLog, engine: AsyncEngine) -> Refetcher:
    """The entry point `govgate.redrive`: `connectors`."""
    return ConnectorRefetcher(settings, log, engine)
