"""A provider's NARROW may shorten the period applied for (`days`), over the signed API too."""

from __future__ import annotations

import pytest

from tests.gateway.api.conftest import Gateway, Profile
from tests.gateway.api.routes.test_governance import ASK, ok
from tests.gateway.api.routes.test_governance_story import ENTRY, departments, post
from tests.gateway.api.test_auth import assert_problem

DAY_MS = 86_400_000


@pytest.fixture
def profile() -> Profile:
    return Profile("ed25519", gateway={"member_cache_s": 0})


async def test_a_narrowing_shortens_the_period(gw: Gateway) -> None:
    await departments(gw)
    await ok(gw, "/v1/catalogue", "scjg", ENTRY)
    app = (await ok(gw, "/v1/applications", "window", ASK))["application"]
    path = f"/v1/applications/{app['application_id']}/decision"
    await ok(gw, path, "bureau", {"decision": "PASS"})
    for days, code in ((0, "INVALID_INPUT"), ("10", "INVALID_INPUT"), (31, "INVALID_DECISION")):
        refused = await post(gw, path, "scjg", {"decision": "NARROW", "reason": "r", "days": days})
        assert_problem(refused, 400, code)
        assert "days" in refused.json()["detail"]
    same = await post(gw, path, "scjg", {"decision": "NARROW", "reason": "r", "days": 30})
    assert_problem(same, 400, "INVALID_DECISION")
    await ok(gw, path, "scjg", {"decision": "NARROW", "reason": "一周足够", "days": 7})
    (grant,) = (await ok(gw, "/v1/grants", "window", method="GET"))["items"]
    assert grant["fields"] == ["住所"] and grant["expires_ms"] - grant["created_ms"] == 7 * DAY_MS
