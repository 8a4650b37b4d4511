"""Materials reused, files and all (#14), end to end over real HTTP.

The simulated 发改 system files an application with three attachments; its connector copies
them into the file store (a folder, and S3 on a real SeaweedFS); a window system with a grant
lists the holder's reusable materials and downloads one through `GatewayClient`, which checks
the digest and the signature; the bytes are the department's; the access shows in the
holder's access log; a tampered file in the store is refused with a clear error. Each runs
with files addressed by SHA-256 and by SM3 (国密, `files.hash = "sm3"`, issue #18).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import select

from connectors.mapping import load_connector_spec
from connectors.runtime.host import open_host, register_publishers, run_connectors
from connectors.simulators.fgw import ITEMS, TZXM_FJ, FgwSimulator
from connectors.simulators.people import Company, PartyFactory
from gateway.api.app import create_app
from gateway.client import ContentNotVerified, GatewayClient, GatewayRefused, NotAuthorized
from gateway.crypto.sm3 import HashName, sm3
from gateway.files.base import key_of
from gateway.lookup import replay
from gateway.members.keys import generate_private_key
from gateway.members.store import Grant
from gateway.settings import DatabaseSettings, FilesSettings, GatewaySettings, Settings
from tests.conftest import S3Server, free_port
from tests.gateway.files.conftest import fresh_prefix

PROFILES = Path(__file__).resolve().parents[4] / "connectors" / "profiles"
PURPOSE = "11330802MB1957264X4330117017000"  # the window's item (事项编码)


@dataclass
class World:
    settings: Settings
    url: str
    company: Company
    first_case: str
    second_case: str
    attachments: list[dict[str, Any]]
    share: Path
    app: Any
    hash: HashName

    def address(self, data: bytes) -> str:
        """The hex hash `data` is stored under in this world's file store."""
        return sm3(data).hex() if self.hash == "sm3" else hashlib.sha256(data).hexdigest()

    def window(self, key: Any) -> GatewayClient:
        return GatewayClient(self.url, member_id="window", private_key=key)


async def _serve(app: Any) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="critical")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    return server, task, f"http://127.0.0.1:{port}"


@pytest.fixture(params=["directory", "s3", "directory-sm3", "s3-sm3"])
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    backend, _, by = str(request.param).partition("-")
    hash_: HashName = "sm3" if by == "sm3" else "sha-256"
    files = FilesSettings(hash=hash_)
    if backend == "s3":
        server: S3Server = request.getfixturevalue("s3_server")
        files = server.settings(fresh_prefix()).model_copy(update={"hash": hash_})
    data_dir = tmp_path / "var"
    settings = Settings(
        data_dir=data_dir,
        database=DatabaseSettings(),
        gateway=GatewaySettings(audit_secret="test-audit-secret-0123456789", materialize=False),
        files=files,
    )
    departments = data_dir / "departments"
    departments.mkdir(parents=True)
    company = PartyFactory(random.Random(11), "330802").company()
    share = departments / "fgw-files"
    async with FgwSimulator(f"sqlite:///{departments / 'fgw.db'}", seed=5, files_dir=share) as fgw:
        [first] = await fgw.add_cases(1, applicant=company, item=ITEMS[1])
        [second] = await fgw.add_cases(1, applicant=company, item=ITEMS[1])
        async with fgw.engine.connect() as conn:
            rows = [dict(r._mapping) for r in await conn.execute(select(TZXM_FJ))]
    async with open_host(settings) as host:
        spec = load_connector_spec(
            PROFILES / "fgw-tzxm-cl.yaml", {"GOVGATE_DATA_DIR": str(data_dir.resolve())}
        )
        await register_publishers(host.engine, [spec])
        [state] = await run_connectors(host, [spec], asyncio.Event(), backfill=True)
        assert (state.records, state.dead_letters) == (6, 0)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        svc = app.state.services
        await replay(svc.log, svc.engine, streams=["materials"])
        uv, task, url = await _serve(app)
        try:
            yield World(settings, url, company, first, second, rows, share, app, hash_)
        finally:
            uv.should_exit = True
            await task


async def _members(world: World) -> tuple[Any, Any]:
    svc = world.app.state.services
    window, portal = generate_private_key("ed25519"), generate_private_key("ed25519")
    grants = tuple(Grant("material", code) for code in ("CL0101", "CL0102", "CL0201"))
    await svc.members.add_member("window", ("consumer",), keys=[window.public_key()], grants=grants)
    await svc.members.add_member("portal", ("auditor",), keys=[portal.public_key()])
    return window, portal


def original(world: World, fjbh: str) -> bytes:
    [row] = [r for r in world.attachments if r["FJBH"] == fjbh]
    return world.share.joinpath(*str(row["WJLJ"]).split("\\")).read_bytes()


async def test_a_window_reuses_a_material_and_the_holder_sees_it(
    world: World, tmp_path: Path
) -> None:
    window, portal = await _members(world)
    holder = world.company.uscc
    async with world.window(window) as win:
        listed = await win.reusable_materials(holder, "CL0101", purpose=PURPOSE)
        everything = await win.materials(holder, purpose=PURPOSE)
        items = listed.data["items"]
        # the 营业执照 scan of both cases: the same bytes, stored once, offered for reuse
        assert [i["reuse"] for i in items] == ["OFFERED", "OFFERED"]
        assert len({i["record"]["sha256"] for i in items}) == 1
        status = {i["record"]["catalog_code"]: i["reuse"] for i in everything.data["items"]}
        assert status["CL0201"] == "NOT_REUSABLE"
        licence = items[0]["record"]
        target = tmp_path / "licence.jpg"
        got = await win.download_material(
            licence["material_id"], target, purpose=PURPOSE, case="ZJ330802202612010001"
        )
    fjbh = licence["material_id"].removeprefix("FGW-")
    assert target.read_bytes() == original(world, fjbh)
    assert got.sha256 == licence["sha256"] == hashlib.sha256(target.read_bytes()).hexdigest()
    assert got.content_type == "image/jpeg" and got.size == licence["size_bytes"]
    assert '"content-digest"' in got.verified.covered
    assert got.response.headers["gov-reuse"] == "OFFERED"
    stated = got.response.headers["content-digest"]
    if world.hash == "sm3":  # stored, served and checked by SM3; SHA-256 stated beside it
        assert licence["sm3"] == sm3(target.read_bytes()).hex()
        assert licence["storage_uri"].endswith(key_of(licence["sm3"], "sm3"))
        assert stated.startswith("sm3=:") and ", sha-256=:" in stated
    else:
        assert licence["sm3"] is None and stated.startswith("sha-256=:") and "sm3" not in stated

    async with GatewayClient(world.url, member_id="portal", private_key=portal) as auditor:
        log = (await auditor.access_log(holder)).data["items"]
    [access] = [a for a in log if a["route"] == "/v1/materials/{material_id}/content"]
    assert (access["member_id"], access["decision"], access["status"]) == ("window", "allow", 200)
    assert access["content_sha256"] == licence["sha256"]
    assert access["case_no"] == "ZJ330802202612010001" and access["purpose"] == PURPOSE


async def test_what_is_not_offered_for_reuse_is_refused_unless_for_its_own_case(
    world: World, tmp_path: Path
) -> None:
    window, _ = await _members(world)
    report = f"FGW-{world.first_case}-03"  # 项目申请报告: this case's own
    async with world.window(window) as win:
        with pytest.raises(NotAuthorized) as caught:
            await win.download_material(report, tmp_path / "r.pdf", purpose=PURPOSE)
        assert caught.value.code == "NOT_REUSABLE"
        assert not (tmp_path / "r.pdf").exists()
        own = await win.download_material(
            report, tmp_path / "r.pdf", purpose=PURPOSE, case=world.first_case
        )
        assert own.response.headers["gov-reuse"] == "OWN_CASE"
        assert own.content_type == "application/pdf"
        assert (tmp_path / "r.pdf").read_bytes() == original(world, report[4:])


async def test_a_tampered_file_is_cut_short_then_refused(world: World, tmp_path: Path) -> None:
    window, portal = await _members(world)
    licence = f"FGW-{world.first_case}-01"
    data = original(world, licence[4:])
    await _tamper(world, world.address(data), data)
    async with world.window(window) as win:
        with pytest.raises(ContentNotVerified):
            await win.download_material(licence, tmp_path / "l.jpg", purpose=PURPOSE)
        assert not (tmp_path / "l.jpg").exists()
        with pytest.raises(GatewayRefused) as caught:
            await win.download_material(licence, tmp_path / "l.jpg", purpose=PURPOSE)
    assert (caught.value.status, caught.value.code) == (502, "CONTENT_CORRUPTED")
    assert "does not match" in caught.value.detail
    async with GatewayClient(world.url, member_id="portal", private_key=portal) as auditor:
        log = (await auditor.access_log(world.company.uscc)).data["items"]
    assert [a["code"] for a in log if a["route"].endswith("/content")] == [
        "CONTENT_CORRUPTED",
        None,
    ]


async def test_a_file_gone_from_the_store_is_refused_with_its_own_code(
    world: World, tmp_path: Path
) -> None:
    window, portal = await _members(world)
    licence = f"FGW-{world.first_case}-01"
    digest = world.address(original(world, licence[4:]))
    files = world.app.state.services.files
    if files.backend == "directory":
        (world.settings.files_dir / key_of(digest, world.hash)).unlink()
    else:
        await files.client.delete_object(Bucket=files.bucket, Key=files._key(digest, world.hash))
    async with world.window(window) as win:
        with pytest.raises(GatewayRefused) as caught:
            await win.download_material(licence, tmp_path / "l.jpg", purpose=PURPOSE)
    assert (caught.value.status, caught.value.code) == (410, "CONTENT_MISSING")
    async with GatewayClient(world.url, member_id="portal", private_key=portal) as auditor:
        log = (await auditor.access_log(world.company.uscc)).data["items"]
    fetches = [(a["decision"], a["code"]) for a in log if a["route"].endswith("/content")]
    assert fetches == [("deny", "CONTENT_MISSING")]


async def _tamper(world: World, digest: str, data: bytes) -> None:
    """Change one byte of the stored copy, as a disk fault or an intruder would."""
    bad = bytes([data[0]]) + bytes([data[1] ^ 1]) + data[2:]
    files = world.app.state.services.files
    if files.backend == "directory":
        (world.settings.files_dir / key_of(digest, world.hash)).write_bytes(bad)
        return
    await files.client.put_object(Bucket=files.bucket, Key=files._key(digest, world.hash), Body=bad)


async def test_an_sm3_client_checks_a_file_by_its_sm3(world: World, tmp_path: Path) -> None:
    """A window running SM-only (`digest="sm3"`) takes a file only by its SM3: one stored by SM3
    verifies; one stated by SHA-256 alone is refused, nothing written."""
    window, _ = await _members(world)
    licence = f"FGW-{world.first_case}-01"
    data = original(world, licence[4:])
    target = tmp_path / "l.jpg"
    async with GatewayClient(
        world.url, member_id="window", private_key=window, digest="sm3"
    ) as win:
        if world.hash == "sha-256":
            with pytest.raises(ContentNotVerified, match="no sm3"):
                await win.download_material(licence, target, purpose=PURPOSE)
            assert not target.exists()
            return
        got = await win.download_material(licence, target, purpose=PURPOSE)
    assert (got.sm3, got.sha256) == (sm3(data).hex(), None)
    assert target.read_bytes() == data and got.proof()["sm3"] == got.sm3


def test_a_record_without_sm3_is_served_by_its_sha256_whatever_the_allow_list() -> None:
    """The route states a file's digests from its record, the address first: a record from
    before the switch (no `sm3`) by SHA-256 alone, even to an SM-only gateway; an SM3 one by
    SM3, then SHA-256 unless the allow-list leaves SHA-256 out."""
    from gateway.api.routes.materials import _digests

    old, new = {"sha256": "ab" * 32, "sm3": None}, {"sha256": "ab" * 32, "sm3": "cd" * 32}
    assert _digests(old, ("sm3",)) == {"sha-256": "ab" * 32}
    assert list(_digests(new, ("sha-256", "sm3")).items()) == [
        ("sm3", "cd" * 32),
        ("sha-256", "ab" * 32),
    ]
    assert _digests(new, ("sm3",)) == {"sm3": "cd" * 32}
