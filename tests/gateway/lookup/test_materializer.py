"""The materializer over real logs (SQLite, PostgreSQL, Kafka): order per key, idempotency,
resumption after being killed, undecodable values."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.log import OutRecord
from gateway.lookup import LookupStore, Materializer, Projector, StreamStats
from schemas.codec import to_jsonable
from tests.gateway.lookup import BACKENDS, Env, cert_version, codec, open_env, table_rows
from tests.samples import FETCHED, case_event, certificate, company, material, person


@pytest.fixture(params=BACKENDS)
async def env(request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[Env]:
    async with open_env(request.param, request, data_dir) as env:
        yield env


def materializer(env: Env, **options: object) -> Materializer:
    return Materializer(env.log, env.engine, group=env.group, poll_timeout=0.2, **options)  # type: ignore[arg-type]


async def test_materializes_every_stream_and_skips_what_does_not_decode(env: Env) -> None:
    certs = [certificate(f"330802-YYZZ-{i:04d}") for i in range(3)]
    await env.publish("Certificate", certs)
    await env.publish("Material", [material("M-1"), material("M-2")])
    await env.publish("CaseEvent", [case_event(stage="ACCEPTED"), case_event("SL2", "COMPLETED")])
    garbage = OutRecord(b"330802-YYZZ-9999", b"not avro at all")
    wrong_type = codec.encode("Material", material("M-9"))  # a material on the certificates stream
    await env.log.append("certificates", [garbage, wrong_type])

    m = materializer(env)
    nothing = {"credit-entries": 0, "notices": 0}  # streams with nothing on them yet
    assert await m.lag() == {"certificates": 5, "materials": 2, "case-events": 2} | nothing
    stats = await asyncio.wait_for(m.run(until_caught_up=True), 30)

    assert await m.lag() == {"certificates": 0, "materials": 0, "case-events": 0} | nothing
    assert stats["certificates"].undecodable == 2
    assert (stats["certificates"].applied, stats["materials"].applied) == (3, 2)
    assert stats["case-events"].applied == 2
    store = LookupStore(env.engine)
    got = await store.certificate("330802-YYZZ-0001")
    assert got is not None
    assert got.record == to_jsonable(certs[1])  # the canonical record, dates and times ISO
    assert (got.holder_id, got.type_code, got.sharing_class) == (
        company()["id_number"],
        "YYZZ",
        "CONDITIONAL",
    )
    assert await store.certificate("330802-YYZZ-9999") is None
    page = await store.materials_by_holder(person()["id_number"])
    assert [e.material_id for e in page.items] == ["M-1", "M-2"]


async def test_newer_version_replaces_and_older_redelivery_does_not(env: Env) -> None:
    v1, v2 = cert_version("C-1", 1), cert_version("C-1", 2, status="REVOKED")
    older = cert_version("C-1", 0, status="CANCELLED")  # never seen, but fetched before v1
    await env.publish("Certificate", [v1, v2, v1, older])
    # the same pattern inside one batch and across batches
    await env.publish("Certificate", [cert_version("C-2", 1), cert_version("C-2", 2)])

    m = materializer(env, batch_size=1, streams=["certificates"])
    first = await asyncio.wait_for(m.run(until_caught_up=True), 30)
    late = [
        cert_version("C-2", 1),  # applied before
        cert_version("C-2", 3),
        cert_version("C-2", 9, fetched=FETCHED),  # fetched before v3 (a clock behind) …
        cert_version("C-2", 4),  # … yet the source's own version orders them: 9 wins
    ]
    await env.publish("Certificate", late)
    records = [r async for r in env.log.iterate("certificates") if r.key == b"C-2"]
    second = await Projector(env.engine).apply("certificates", records[-4:])  # one batch

    store = LookupStore(env.engine)
    one, two = await store.certificate("C-1"), await store.certificate("C-2")
    assert one is not None and two is not None
    assert (one.status, one.event_id) == ("REVOKED", v2["event_id"])
    assert two.record["provenance"]["source_version"] == "9"
    assert (first["certificates"].duplicates, first["certificates"].stale) == (1, 1)
    assert (second.duplicates, second.applied, second.stale) == (1, 2, 1)


async def test_applying_the_same_events_twice_changes_nothing(env: Env) -> None:
    """As after a crash between the store's commit and the group's commit."""
    await env.publish("Certificate", [cert_version("C-1", 1), cert_version("C-2", 1)])
    await env.publish("Material", [material("M-1")])
    await env.publish("CaseEvent", [case_event(), case_event(stage="IN_REVIEW", version="2")])
    projector = Projector(env.engine)
    for stream in ("certificates", "materials", "case-events"):
        await projector.apply(stream, [r async for r in env.log.iterate(stream)])
    before = await table_rows(env.engine)

    stats = await asyncio.wait_for(materializer(env).run(until_caught_up=True), 30)

    assert await table_rows(env.engine) == before
    assert all(s.applied == 0 and s.duplicates == s.records for s in stats.values())
    assert sum(s.records for s in stats.values()) == 5


async def test_resumes_after_being_killed_without_losing_or_duplicating(env: Env) -> None:
    certs = [cert_version(f"C-{i}", 1 + i % 2) for i in range(30)]
    base = FETCHED - timedelta(days=1)
    events = [
        case_event(f"SL{i % 3:04d}", version=str(i), at=base + timedelta(minutes=i))
        for i in range(30)
    ]
    await env.publish("Certificate", certs)
    await env.publish("CaseEvent", events)
    batches: list[tuple[str, StreamStats]] = []

    def kill_mid_way(stream: str, batch: StreamStats) -> None:
        batches.append((stream, batch))
        if len(batches) >= 3 and len({s for s, _ in batches}) == 2 and not killed.cancelling():
            killed.cancel()  # mid-way; a transaction in flight ends first, nothing after it runs

    streams = ["certificates", "case-events"]
    m = materializer(env, batch_size=4, streams=streams, on_batch=kill_mid_way)
    killed = asyncio.create_task(m.run())
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(killed, 30)
    assert 0 < sum(b.applied for _, b in batches) < 60

    stats = await asyncio.wait_for(
        materializer(env, batch_size=4, streams=streams).run(until_caught_up=True), 30
    )

    rows = await table_rows(env.engine)
    assert len(rows["lk_certificates"]) == 30
    assert len(rows["lk_case_events"]) == 30
    assert len(rows["lk_applied"]) == 60
    assert sum(s.records for s in stats.values()) < 60  # resumed, not started over
    store = LookupStore(env.engine)
    for cert in certs:
        entry = await store.certificate(cert["cert_id"])
        assert entry is not None and entry.event_id == cert["event_id"]
    assert sorted(r[0] for r in rows["lk_case_events"]) == sorted(e["event_id"] for e in events)
