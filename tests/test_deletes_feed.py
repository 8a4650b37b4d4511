"""A delete at the source, seen downstream on the feed, on the SQL log and on Kafka: a
subscriber granted the licence type sees the licences (masked as lookups mask them), then the
deleted one's Deletion record and tombstone; one without the grant sees none of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.simulators.scjg import ScjgSimulator
from gateway.client import GatewayClient
from gateway.members.store import Grant
from tests.flows import Flow, flow

__all__ = ["flow"]


async def test_the_certificates_feed_shows_the_delete_to_those_granted_the_type(
    flow: Flow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    department = f"sqlite:///{tmp_path / 'scjg.db'}"
    monkeypatch.setenv("GOVGATE_SCJG_DB_URL", department)
    spec = flow.profile(
        "scjg-yyzz", deletes={"snapshot_url": f"sqlite:///{tmp_path / 'snapshot.db'}"}
    )
    async with ScjgSimulator(department, seed=8) as scjg:
        keys = await scjg.add_licences(3)
        await flow.pull(spec)
        await scjg.delete_licences([keys[0]])
        await flow.pull(spec)

    granted = await flow.member(
        "dzjc", "subscriber", grants=(Grant("certificate", "YYZZ", "*", ("名称",)),)
    )
    other = await flow.member("other", "subscriber", grants=(Grant("certificate", "BDCQZ"),))
    async with flow.client(granted) as gw:
        items = await _feed(gw, 5)
    kinds = [item["type"] for item in items]
    assert kinds.count("cn.govgate.Certificate.v1") == 3
    deletion = next(i for i in items if i["type"] == "cn.govgate.Deletion.v1")
    of_key = [i for i in items if i["key"] == deletion["key"]]  # in order per key (partition)
    assert [i["type"] for i in of_key] == [
        "cn.govgate.Certificate.v1",
        "cn.govgate.Deletion.v1",
        "tombstone",
    ]
    tombstone = of_key[-1]
    assert deletion["event"]["type_code"] == "YYZZ" and deletion["event"]["how"] == "SNAPSHOT_DIFF"
    assert tombstone["key"] == deletion["key"] == deletion["event"]["key"]
    assert tombstone["event"] is None and tombstone["tombstone"] is True
    licence = next(i for i in items if i["type"] == "cn.govgate.Certificate.v1")
    assert licence["event"]["surface_fields"]["法定代表人"] == "***"  # masked as lookups mask
    assert "surface_fields.法定代表人" in licence["masked"]
    async with flow.client(other) as gw:
        assert await _feed(gw, 0) == []


async def _feed(gw: GatewayClient, expected: int) -> list[dict[str, Any]]:
    """Every item the member may see, page after page until `expected` (or an empty page)."""
    items: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 100, "wait": 5 if len(items) < expected else 0}
        if after:
            params["after"] = after
        page = (await gw.request("GET", "/v1/feeds/certificates", params=params)).data
        items += page["items"]
        if not page["items"] and len(items) >= expected:
            return items
        if not page["items"] and page["next"] == after:
            return items
        after = page["next"]
