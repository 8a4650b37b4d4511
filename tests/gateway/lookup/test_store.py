"""Lookup queries on SQLite and PostgreSQL: keyset pages, filters, a case's timeline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.lookup import InvalidQuery, LookupStore, replay
from tests.gateway.lookup import Env, cert_version, open_env
from tests.samples import FETCHED, case_event, company, material, person


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def env(request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[Env]:
    async with open_env(request.param, request, data_dir) as env:
        yield env


async def test_certificates_of_a_holder_come_in_stable_pages(env: Env) -> None:
    holder = company()["id_number"]
    certs = [cert_version(f"C-{i:02d}", 1) for i in range(7)]
    for i, cert in enumerate(certs):
        cert["type_code"] = "BDCQZ" if i % 3 == 0 else "YYZZ"
    other = cert_version("C-99", 1)
    other["holder"] = company("91330802MA2D4K8Y1")
    await env.publish("Certificate", [*certs, other])
    await replay(env.log, env.engine)
    store = LookupStore(env.engine)

    seen: list[tuple[str, str]] = []
    after = None
    while True:
        page = await store.certificates_by_holder(holder, limit=3, after=after)
        seen += [(e.type_code, e.cert_id) for e in page.items]
        if page.next_after is None:
            break
        after = page.next_after
        # a certificate added between two pages moves nothing that was already paged
        await env.publish("Certificate", [cert_version("A-00", 1)])
        await replay(env.log, env.engine, streams=["certificates"])

    expected = sorted([(c["type_code"], c["cert_id"]) for c in certs] + [("YYZZ", "A-00")])
    assert seen == expected
    only = await store.certificates_by_holder(holder, "BDCQZ", limit=10)
    assert [e.cert_id for e in only.items] == ["C-00", "C-03", "C-06"]
    assert only.next_after is None
    assert (await store.certificates_by_holder("nobody")).items == []


async def test_a_page_cursor_must_be_one_the_store_issued(env: Env) -> None:
    store = LookupStore(env.engine)
    for after in ("not-a-cursor", "WyJ4Il0"):  # garbage; valid base64 JSON of the wrong shape
        with pytest.raises(InvalidQuery):
            await store.certificates_by_holder("x", after=after)
    with pytest.raises(InvalidQuery):
        await store.materials_by_holder("x", limit=0)


async def test_materials_of_a_holder_by_catalog(env: Env) -> None:
    materials = [material(f"M-{i}") for i in range(5)]
    for i, m in enumerate(materials):
        m["catalog_code"] = f"CL-000{i % 2}"
    await env.publish("Material", materials)
    await replay(env.log, env.engine)
    store = LookupStore(env.engine)

    first = await store.materials_by_holder(person()["id_number"], limit=2)
    rest = await store.materials_by_holder(person()["id_number"], after=first.next_after)
    ids = [m.material_id for m in first.items + rest.items]
    assert ids == ["M-0", "M-2", "M-4", "M-1", "M-3"]
    assert rest.next_after is None
    one = await store.materials_by_holder(person()["id_number"], "CL-0001")
    assert [m.material_id for m in one.items] == ["M-1", "M-3"]
    assert one.items[0].reusable is True
    assert one.items[0].record["holder"] == person()


async def test_a_case_timeline_is_in_the_order_things_happened(env: Env) -> None:
    start = FETCHED - timedelta(days=3)
    stages = [("COMPLETED", 3), ("ACCEPTED", 0), ("SUPPLEMENT", 1), ("IN_REVIEW", 1)]
    events = [
        case_event("SL-1", stage, version=str(n), at=start + timedelta(days=day))
        for n, (stage, day) in enumerate(stages)
    ]
    await env.publish("CaseEvent", [*events, case_event("SL-2")])
    await replay(env.log, env.engine)

    timeline = await LookupStore(env.engine).case_timeline("SL-1")

    tied = sorted(e["event_id"] for e in events[2:])  # same time: by event id
    assert [e.stage for e in timeline][0] == "ACCEPTED"
    assert [e.event_id for e in timeline[1:3]] == tied
    assert timeline[-1].stage == "COMPLETED"
    assert timeline[0].occurred_at == start
    assert timeline[-1].record["outcome"] == "APPROVED"
    assert await LookupStore(env.engine).case_timeline("SL-404") == []


async def test_holder_ids_logged_before_ingest_normalised_are_found_by_their_standard_form(
    env: Env,
) -> None:
    """A record logged with a lower-case check character (before issue #12 normalised ids at
    ingest) is found by the standard id once the materializer (or `govgate rebuild`) sees it."""
    legacy = cert_version("C-LEGACY", 1)
    legacy["holder"] = company("91330802000000000")  # check character A
    standard = legacy["holder"]["id_number"]
    legacy["holder"]["id_number"] = standard.lower()
    await env.publish("Certificate", [legacy])
    await replay(env.log, env.engine)
    found = await LookupStore(env.engine).certificates_by_holder(standard)
    assert [e.cert_id for e in found.items] == ["C-LEGACY"]
