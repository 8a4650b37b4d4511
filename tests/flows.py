"""A gateway on the SQL log or on Kafka, with connectors, for the cross-department flows (#15).

`flow` (a fixture: import it into a test module) runs the gateway app (lifespan and all) on
SQLite with the SQL log, or on SQLite with a Kafka log (the tansu broker), and offers what a
flow test does: run a shipped connector once, bring the lookup store up to date, add members,
and a `GatewayClient` that signs as one of them over the app's ASGI transport.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from connectors.mapping import ConnectorSpec, load_connector_spec
from connectors.runtime.connector import ConnectorRuntime
from connectors.runtime.offsets import offset_store
from connectors.sources.factory import build_source
from gateway.api.app import create_app
from gateway.api.services import Services
from gateway.client import GatewayClient
from gateway.lookup import Materializer
from gateway.members.keys import generate_private_key
from gateway.members.store import Grant
from gateway.settings import DatabaseSettings, GatewaySettings, KafkaSettings, Settings
from schemas.codec import EventCodec
from tests.conftest import Broker
from tests.gateway.api.conftest import Signer

PROFILES = Path(__file__).resolve().parent.parent / "connectors" / "profiles"
codec = EventCodec()


@dataclass
class Flow:
    app: FastAPI
    settings: Settings
    backend: str

    @property
    def services(self) -> Services:
        found = self.app.state.services
        assert isinstance(found, Services)
        return found

    def profile(self, name: str, **source: Any) -> ConnectorSpec:
        """A shipped connector, with `source` settings overridden."""
        spec = load_connector_spec(PROFILES / f"{name}.yaml")
        return spec.model_copy(update={"source": dict(spec.source) | source})

    async def pull(self, spec: ConnectorSpec) -> None:
        """Run the connector once: what its source has now, then stop."""
        svc = self.services
        source = build_source(spec, backfill=True)
        await ConnectorRuntime(spec, source, svc.log, offset_store(svc.log, svc.engine)).run()

    async def materialize(self) -> None:
        """Bring the lookup store up to date with the log (a fresh group: from the start)."""
        group = f"flow-{uuid.uuid4().hex[:8]}"
        await Materializer(self.services.log, self.services.engine, group=group).run(
            until_caught_up=True
        )

    async def member(self, member_id: str, *roles: str, grants: tuple[Grant, ...] = ()) -> Signer:
        key = generate_private_key("ed25519")
        await self.services.members.add_member(
            member_id, roles, keys=[key.public_key()], grants=grants
        )
        return Signer(member_id, key)

    def client(self, signer: Signer) -> GatewayClient:
        return GatewayClient(
            "http://gateway",
            member_id=signer.member_id,
            private_key=signer.key,
            transport=httpx.ASGITransport(app=self.app),
        )

    async def records(self, stream: str) -> list[tuple[str, dict[str, Any] | None]]:
        """(record type, record) of everything on `stream`; ('tombstone', None) for one."""
        found: list[tuple[str, dict[str, Any] | None]] = []
        async for record in self.services.log.iterate(stream):
            if record.value is None:
                found.append(("tombstone", None))
            else:
                decoded = codec.decode(record.value)
                found.append((decoded.name, decoded.record))
        return found


@pytest.fixture(params=["sqlite", pytest.param("kafka", marks=pytest.mark.kafka)])
async def flow(request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[Flow]:
    kafka = KafkaSettings()
    if request.param == "kafka":
        broker: Broker = request.getfixturevalue("kafka_broker")
        kafka = KafkaSettings(
            bootstrap=broker.bootstrap,
            topic_prefix=f"flow{uuid.uuid4().hex[:10]}",
            partitions=3,
            request_timeout_ms=5000,
            session_timeout_ms=1500,
        )
    settings = Settings(
        data_dir=data_dir,
        database=DatabaseSettings(),
        kafka=kafka,
        gateway=GatewaySettings(audit_secret="test-audit-secret-0123456789", materialize=False),
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield Flow(app, settings, request.param)
