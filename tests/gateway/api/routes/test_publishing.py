"""#12.1: a publisher publishes only what it is registered for, and cannot win by its clock.

Each test fails on the gateway before publishers were scoped: any publisher could post any
department's certificate with a foreign source system and a 2099 fetch time, and win.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.api.routes.events import field_errors
from gateway.lookup import clear, replay
from gateway.publishing import PublishScope
from schemas.codec import EventCodec, to_jsonable
from schemas.ids import event_id
from tests.gateway.api.conftest import Gateway
from tests.gateway.api.test_auth import assert_problem
from tests.samples import case_event, certificate

SCJG = (PublishScope("certificates", "YYZZ", "scjg-djxt"),)


def version(cert_id: str, n: str, *, system: str = "scjg-djxt", **changes: Any) -> dict[str, Any]:
    record = certificate(cert_id)
    record["event_id"] = event_id(system, "T_YYZZ", cert_id, n)
    record["provenance"] |= {"source_system": system, "source_version": n}
    record |= changes
    return to_jsonable(record)  # type: ignore[no-any-return]


async def records_on_log(gw: Gateway) -> int:
    return len([r async for r in gw.services.log.iterate("certificates")])


async def test_a_publisher_publishes_only_its_scopes(gw: Gateway) -> None:
    await gw.add_member("nobody", "publisher", publishes=())
    await gw.add_member("scjg", "publisher", publishes=SCJG)
    posted = version("YYZZ-0001", "1")
    assert_problem(
        await gw.post_json("/v1/events/certificates", posted, "nobody"),
        403,
        "PUBLISH_NOT_REGISTERED",
    )
    other_type = posted | {"type_code": "BDCQZ"}
    assert_problem(
        await gw.post_json("/v1/events/certificates", other_type, "scjg"),
        403,
        "PUBLISH_NOT_REGISTERED",
    )
    foreign = version("YYZZ-0002", "1", system="zrzy-bdcdj")
    assert_problem(
        await gw.post_json("/v1/events/certificates", foreign, "scjg"),
        403,
        "PUBLISH_NOT_REGISTERED",
    )
    case = to_jsonable(case_event())
    assert_problem(
        await gw.post_json("/v1/events/case-events", case, "scjg"), 403, "PUBLISH_NOT_REGISTERED"
    )
    assert await records_on_log(gw) == 0
    assert (await gw.post_json("/v1/events/certificates", posted, "scjg")).status_code == 202


async def test_a_far_future_fetch_time_is_refused(gw: Gateway) -> None:
    await gw.add_member("scjg", "publisher", publishes=SCJG)
    forged = version("YYZZ-0001", "1")
    forged["provenance"]["fetched_at"] = "2099-01-01T00:00:00+00:00"
    response = await gw.post_json("/v1/events/certificates", forged, "scjg")
    assert_problem(response, 400, "FUTURE_TIME")
    assert "provenance.fetched_at" in response.json()["detail"]
    soon = version("YYZZ-0001", "1")
    soon["provenance"]["fetched_at"] = (datetime.now(UTC) + timedelta(seconds=5)).isoformat()
    assert (await gw.post_json("/v1/events/certificates", soon, "scjg")).status_code == 202


async def test_another_source_system_never_replaces_a_record(gw: Gateway) -> None:
    await gw.add_member("scjg", "publisher", publishes=SCJG)
    rogue_scope = (PublishScope("certificates", "YYZZ", "rogue-sys"),)
    await gw.add_member("rogue", "publisher", publishes=rogue_scope)
    await gw.post_json("/v1/events/certificates", version("YYZZ-0001", "1"), "scjg")
    await replay(gw.services.log, gw.services.engine, streams=["certificates"])
    forged = version("YYZZ-0001", "9", system="rogue-sys", sharing_class="UNCONDITIONAL")
    assert_problem(
        await gw.post_json("/v1/events/certificates", forged, "rogue"), 409, "SOURCE_MISMATCH"
    )


async def test_an_event_id_stands_for_one_content(gw: Gateway) -> None:
    await gw.add_member("scjg", "publisher", publishes=SCJG)
    first = version("YYZZ-0001", "1")
    assert (await gw.post_json("/v1/events/certificates", first, "scjg")).status_code == 202
    again = await gw.post_json("/v1/events/certificates", first, "scjg")  # a retry
    assert again.status_code == 202
    changed = first | {"status": "REVOKED"}  # same event id, other content
    assert_problem(
        await gw.post_json("/v1/events/certificates", changed, "scjg"), 409, "EVENT_ID_CONFLICT"
    )
    assert await records_on_log(gw) == 2


async def test_the_store_and_rebuild_order_versions_by_the_source(gw: Gateway) -> None:
    """What got on the log before publishers were scoped (a foreign record, a 2099 fetch
    time) wins nothing, live or on rebuild."""
    real = version("YYZZ-0001", "2026-11-23 10:00:00")
    forged = version("YYZZ-0001", "1", system="rogue-sys", sharing_class="UNCONDITIONAL")
    forged["provenance"]["fetched_at"] = "2099-01-01T00:00:00+00:00"
    late_old = version("YYZZ-0001", "2026-11-22 09:00:00", status="CANCELLED")
    late_old["provenance"]["fetched_at"] = "2026-11-30T00:00:00+00:00"  # fetched later, older
    update = version("YYZZ-0001", "2026-11-24 08:00:00", status="REVOKED")
    codec, svc = EventCodec(), gw.services
    raw = [real, forged, late_old, update]
    records = []
    for item in raw:  # back to Avro shapes
        record, errors = field_errors(svc, "Certificate", item)
        assert errors == []
        records.append(codec.encode("Certificate", record))
    await svc.log.append("certificates", records)
    for attempt in ("live", "rebuild"):
        if attempt == "rebuild":
            await clear(svc.engine)
        stats = await replay(svc.log, svc.engine, streams=["certificates"])
        found = await svc.lookup.certificate("YYZZ-0001")
        assert found is not None
        assert found.record["provenance"]["source_system"] == "scjg-djxt", attempt
        assert (found.status, found.sharing_class) == ("REVOKED", "CONDITIONAL"), attempt
        assert (stats["certificates"].foreign, stats["certificates"].stale) == (1, 1), attempt
