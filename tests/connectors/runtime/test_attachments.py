"""Materials with their files: the 发改 attachments connector copies each file into the file
store (a folder, or S3 on a real SeaweedFS), once per content, by SHA-256 or by SM3 (国密,
`files.hash`); bad files are dead letters."""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from connectors.mapping import load_connector_spec
from connectors.mapping.spec import ConnectorSpec
from connectors.runtime.connector import ConnectorRuntime
from connectors.runtime.offsets import offset_store
from connectors.runtime.status import StatusStore
from connectors.simulators.fgw import TZXM_FJ, FgwSimulator
from connectors.simulators.people import PartyFactory
from connectors.simulators.zj import ZjSimulator
from connectors.sources.factory import build_source
from gateway.crypto.sm3 import sm3
from gateway.files import FileStore
from gateway.files.s3 import S3FileStore
from gateway.log import EventLog, open_log
from gateway.settings import Settings
from gateway.store import open_database
from schemas.codec import EventCodec
from tests.conftest import S3Server
from tests.gateway.files.conftest import fresh_prefix, open_store, read_all
from tests.tcp_proxy import TcpProxy

PROFILES = Path(__file__).resolve().parents[3] / "connectors" / "profiles"
PROFILE = PROFILES / "fgw-tzxm-cl.yaml"
codec = EventCodec()


def spec_for(department: Path, **file: Any) -> ConnectorSpec:
    spec = load_connector_spec(
        PROFILE, {"GOVGATE_DATA_DIR": str(department), "GOVGATE_FGW_DB_URL": db_url(department)}
    )
    spec = spec.model_copy(update={"source": {**spec.source, "poll_interval_s": 0.05}})
    if file:
        assert spec.file is not None
        spec = spec.model_copy(update={"file": spec.file.model_copy(update=file)})
    return spec


def db_url(department: Path) -> str:
    return f"sqlite:///{department / 'departments' / 'fgw.db'}"


@pytest.fixture
async def fgw(tmp_path: Path) -> AsyncIterator[FgwSimulator]:
    folder = tmp_path / "dept" / "departments"
    folder.mkdir(parents=True)
    sim = FgwSimulator(
        db_url(tmp_path / "dept"), seed=3, bad_share=0.15, files_dir=folder / "fgw-files"
    )
    async with sim:
        yield sim


@pytest.fixture
async def log(data_dir: Path) -> AsyncIterator[tuple[EventLog, Any, StatusStore]]:
    settings = Settings(data_dir=data_dir)
    async with open_database(settings) as engine, open_log(settings, engine) as opened:
        yield opened, offset_store(opened, engine), StatusStore(engine, every_s=0)


async def values(log: EventLog, stream: str) -> list[dict[str, Any]]:
    return [codec.decode(r.value).record async for r in log.iterate(stream)]


async def attachment_rows(sim: FgwSimulator) -> list[dict[str, Any]]:
    async with sim.engine.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(select(TZXM_FJ))]


async def backfill(spec: ConnectorSpec, world: Any, files: FileStore, **kw: Any) -> Any:
    log, offsets, status = world
    runtime = ConnectorRuntime(
        spec, build_source(spec, backfill=True), log, offsets, status, files=files, **kw
    )
    return await runtime.run()


@pytest.mark.parametrize("by", ["sha-256", "sm3"])
@pytest.mark.parametrize("backend", ["directory", "s3"])
async def test_attachments_become_materials_with_their_files_stored_once(
    backend: str,
    by: Any,
    fgw: FgwSimulator,
    log: Any,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    cases = await fgw.add_cases(11)
    assert fgw.attachments is not None
    fgw.attachments.bad_share = 0.0
    company = PartyFactory(random.Random(7), "330802").company()
    cases += await fgw.add_cases(2, applicant=company)  # it comes back, with the same papers
    rows = await attachment_rows(fgw)
    assert len(rows) == 3 * 13  # three attachments with every application
    assert fgw.attachments is not None
    bad = fgw.attachments.bad_keys
    store = await open_store(backend, tmp_path, request, by)
    try:
        state = await backfill(spec_for(tmp_path / "dept"), log, store)

        materials = await values(log[0], "materials")
        dead = await values(log[0], "dead-letters")
        assert (state.records, state.dead_letters) == (len(materials), len(dead))
        assert len(materials) + len(dead) == len(rows)
        codes = {d["provenance"]["source_key"]: d["error_code"] for d in dead}
        spoiled_case = {r["FJBH"] for r in rows if r["SLBH"] in fgw.bad_keys}
        bad = {k: code for k, code in bad.items() if k not in spoiled_case}
        assert {k: c for k, c in codes.items() if k not in spoiled_case} == bad
        for letter in dead:
            if letter["provenance"]["source_key"] in bad:
                assert letter["field"] == "WJLJ" and letter["reason"]
            else:  # a case the simulator spoiled (its applicant's id): not the file's fault
                assert letter["provenance"]["source_key"][:-3] in fgw.bad_keys
        by_key = {r["FJBH"]: r for r in rows}
        for material in materials:
            row = by_key[material["provenance"]["source_key"]]
            assert material["material_id"] == f"FGW-{row['FJBH']}"
            assert material["sha256"] == row["WJZY"]
            assert material["size_bytes"] == row["WJDX"]
            address = material["sm3"] if by == "sm3" else row["WJZY"]
            assert material["storage_uri"] == store.uri(address, by)
            assert material["reusable"] is (row["SFKFY"] == "1")
            expected = {"jpg": "image/jpeg", "pdf": "application/pdf"}[row["WJLJ"][-3:]]
            assert material["content_type"] == expected
            stored = await read_all(store.chunks(address, alg=by))
            assert hashlib.sha256(stored).hexdigest() == material["sha256"]
            assert material["sm3"] == (sm3(stored).hex() if by == "sm3" else None)
        assert {m["case_no"] for m in materials} <= set(cases) | {r["SLBH"] for r in rows}
        # The company's two cases: its scans are one stored content each.
        contents = {m["sha256"] for m in materials}
        again = [m for m in materials if m["holder"]["id_number"] == company.uscc]
        assert {m["case_no"] for m in again} == set(cases[-2:])
        assert len(again) == 6 and len({m["sha256"] for m in again}) == 4
        assert len(contents) <= len(materials) - 2  # (state companies apply again too)
        assert set(bad.values()) == {"FILE_MISSING", "FILE_HASH_MISMATCH"}  # seed 3 has both
        if backend == "directory":
            folder = "sm3" if by == "sm3" else "sha256"
            stored_files = list((tmp_path / "files" / folder).rglob("*"))
            assert len([p for p in stored_files if p.is_file()]) == len(contents)
    finally:
        await store.close()


async def test_a_file_over_the_limit_or_outside_the_share_is_a_dead_letter(
    fgw: FgwSimulator, log: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    assert fgw.attachments is not None
    fgw.attachments.bad_share = 0.0
    await fgw.add_cases(2)
    rows = await attachment_rows(fgw)
    intact = [r for r in rows if r["SLBH"] not in fgw.bad_keys]
    outside = intact[0]["FJBH"]
    async with fgw.engine.begin() as conn:
        await conn.execute(
            update(TZXM_FJ).where(TZXM_FJ.c.FJBH == outside).values(WJLJ="..\\..\\fgw.db")
        )
    largest = max(r["WJDX"] for r in intact if r["FJBH"] != outside)
    store = await open_store("directory", tmp_path, request)
    spec = spec_for(tmp_path / "dept", max_bytes=largest - 1)
    await backfill(spec, log, store)

    dead = {d["provenance"]["source_key"]: d for d in await values(log[0], "dead-letters")}
    assert dead[outside]["error_code"] == "FILE_PATH_OUTSIDE"
    too_large = {k for k, d in dead.items() if d["error_code"] == "FILE_TOO_LARGE"}
    assert too_large == {r["FJBH"] for r in intact if r["WJDX"] > largest - 1} - {outside}
    assert str(largest - 1) in dead[next(iter(too_large))]["reason"]
    materials = await values(log[0], "materials")
    assert len(materials) + len(dead) == len(rows)


async def test_an_object_store_that_is_down_is_waited_for(
    fgw: FgwSimulator, log: Any, tmp_path: Path, s3_server: S3Server
) -> None:
    await fgw.add_cases(3)
    rows = await attachment_rows(fgw)
    host, port = s3_server.endpoint.removeprefix("http://").split(":")
    proxy = TcpProxy(host, int(port))
    await proxy.start()
    settings = s3_server.settings(fresh_prefix(), timeout_s=2)
    store = S3FileStore(
        settings.model_copy(update={"s3_endpoint": f"http://127.0.0.1:{proxy.port}"})
    )
    await store.start()
    proxy.cut()
    try:
        spec = spec_for(tmp_path / "dept")
        world_log, offsets, status = log
        runtime = ConnectorRuntime(
            spec, build_source(spec, backfill=True), world_log, offsets, status, files=store
        )
        running = asyncio.create_task(runtime.run())
        for _ in range(400):
            if runtime.state.state == "waiting":
                break
            await asyncio.sleep(0.02)
        assert runtime.state.state == "waiting"
        assert "file store unavailable" in (runtime.state.last_error or "")
        assert await values(world_log, "materials") == []
        proxy.restore()
        state = await asyncio.wait_for(running, 60)
        assert state.records + state.dead_letters == len(rows)
        assert len(await values(world_log, "materials")) == state.records > 0
    finally:
        await store.close()
        await proxy.close()


async def test_a_drop_of_scans_with_a_gbk_index_becomes_materials(
    log: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    drop = tmp_path / "zj-drop"
    sim = ZjSimulator(drop, seed=4)
    company = PartyFactory(random.Random(9), "330802").company()
    index = sim.write_applications(2, applicant=company)
    sim.write_applications(1)
    assert index.read_bytes().decode("gbk").startswith("材料编号,业务编号")
    spec = load_connector_spec(PROFILES / "zj-sgxk-cl.yaml", {"GOVGATE_ZJ_DROP_DIR": str(drop)})
    spec = spec.model_copy(update={"source": {**spec.source, "settle_s": 0}})
    store = await open_store("directory", tmp_path, request)
    state = await backfill(spec, log, store)

    materials = await values(log[0], "materials")
    dead = await values(log[0], "dead-letters")
    assert (state.records, state.dead_letters) == (9, 0), [d["reason"] for d in dead]
    licences = [m for m in materials if m["holder"]["id_number"] == company.uscc]
    assert len(licences) == 6 and len({m["sha256"] for m in licences}) == 5  # one scan, twice
    kinds = {m["catalog_code"]: (m["content_type"], m["reusable"]) for m in materials}
    assert kinds == {
        "CL0101": ("image/jpeg", True),
        "CL0202": ("image/jpeg", False),
        "CL0203": ("application/pdf", False),
    }
    for material in materials:
        stored = await read_all(store.chunks(material["sha256"]))
        assert len(stored) == material["size_bytes"]
        assert material["material_id"].startswith("ZJ-JS330802")
        assert material["valid_until"] is None
    assert len(list((drop / "done").glob("cl_*.csv"))) == 2
    assert not list(drop.glob("cl_*.csv"))  # both indexes read and moved to done/
