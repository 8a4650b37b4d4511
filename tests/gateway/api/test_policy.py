"""Deny by default: purposes, grants, roles, sharing classes, masking, input limits, pages."""

from __future__ import annotations

from typing import Any

from gateway.members.store import Grant
from tests.gateway.api.conftest import PURPOSE, Gateway
from tests.gateway.api.test_auth import assert_problem
from tests.samples import case_event, certificate, company, material, person

HOLDER = company()["id_number"]
LIST = f"/v1/certificates?holder_id={HOLDER}"
YYZZ_ALL = Grant("certificate", "YYZZ", "*")


def cert(cert_id: str, type_code: str = "YYZZ", sharing: str = "CONDITIONAL") -> dict[str, Any]:
    record = certificate(cert_id, sharing)
    record["type_code"] = type_code
    record["event_id"] = record["event_id"][:-4] + f"{abs(hash(cert_id)) % 10000:04d}"
    return record


async def test_purpose_missing(gw: Gateway) -> None:
    await gw.add_member("window", "consumer", grants=(YYZZ_ALL,))
    assert_problem(await gw.call("GET", LIST, purpose=None), 400, "PURPOSE_MISSING")


async def test_purpose_not_granted(gw: Gateway) -> None:
    await gw.add_member("window", "consumer", grants=(Grant("certificate", "YYZZ", "ITEM-A"),))
    await gw.publish("Certificate", certificate())
    assert_problem(await gw.call("GET", LIST, purpose="ITEM-B"), 403, "PURPOSE_NOT_GRANTED")
    typed = f"{LIST}&type_code=YYZZ"
    assert_problem(await gw.call("GET", typed, purpose="ITEM-B"), 403, "PURPOSE_NOT_GRANTED")
    assert (await gw.call("GET", LIST, purpose="ITEM-A")).status_code == 200


async def test_type_not_granted_looks_the_same_whether_or_not_data_exists(gw: Gateway) -> None:
    await gw.add_member("window", "consumer", grants=(YYZZ_ALL,))
    before = await gw.call("GET", f"{LIST}&type_code=BDCQZ")
    await gw.publish("Certificate", cert("C-BDC", "BDCQZ"))
    after = await gw.call("GET", f"{LIST}&type_code=BDCQZ")
    assert_problem(before, 403, "TYPE_NOT_GRANTED")
    assert (after.status_code, after.json()) == (before.status_code, before.json())
    # by id: a certificate of a type not granted reads exactly as one that does not exist
    hidden = await gw.call("GET", "/v1/certificates/C-BDC")
    missing = await gw.call("GET", "/v1/certificates/C-NONE")
    assert_problem(hidden, 404, "NOT_FOUND")
    assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json())
    # and a list without a type leaves it out
    assert (await gw.call("GET", LIST)).json() == {"items": [], "next_after": None}


async def test_role_required(gw: Gateway) -> None:
    await gw.add_member("window", "auditor", grants=(YYZZ_ALL,))
    assert_problem(await gw.call("GET", LIST), 403, "ROLE_REQUIRED")
    assert_problem(
        await gw.post_json("/v1/events/certificates", {}, member="window"), 403, "ROLE_REQUIRED"
    )


async def test_not_shared_is_never_served(gw: Gateway) -> None:
    await gw.add_member("window", "consumer", grants=(YYZZ_ALL,))
    await gw.publish("Certificate", cert("C-SECRET", sharing="NOT_SHARED"), cert("C-OPEN"))
    assert_problem(await gw.call("GET", "/v1/certificates/C-SECRET"), 403, "NOT_SHARED")
    listed = (await gw.call("GET", LIST)).json()["items"]
    assert [i["record"]["cert_id"] for i in listed] == ["C-OPEN"]


async def test_conditional_fields_outside_the_grant_are_masked(gw: Gateway) -> None:
    # Grant field names must match members' [A-Za-z_][A-Za-z0-9_.]* today, so this surface
    # uses ASCII names; the samples' Chinese ones (法定代表人) cannot be granted yet.
    narrow = Grant("certificate", "YYZZ", PURPOSE, ("legal_rep",))
    await gw.add_member("window", "consumer", grants=(narrow,))
    await gw.add_member("wide", "consumer", grants=(YYZZ_ALL,))
    conditional = cert("C-COND")
    conditional["surface_fields"] = {
        "legal_rep": "王芳",
        "capital": "100万元",
        "address": "荷花街道",
    }
    await gw.publish("Certificate", conditional, cert("C-FREE", sharing="UNCONDITIONAL"))

    item = (await gw.call("GET", "/v1/certificates/C-COND")).json()
    surface = item["record"]["surface_fields"]
    assert surface == {"legal_rep": "王芳", "capital": "***", "address": "***"}
    assert item["record"]["holder"]["id_number"] == HOLDER[:6] + "********" + HOLDER[-4:]
    assert sorted(item["masked"]) == [
        "holder.id_number",
        "surface_fields.address",
        "surface_fields.capital",
    ]

    free = (await gw.call("GET", "/v1/certificates/C-FREE")).json()
    assert free["masked"] == [] and free["record"]["holder"]["id_number"] == HOLDER
    # a grant without a field list shows no field of a conditional certificate (#12.8) …
    bare = (await gw.call("GET", "/v1/certificates/C-COND", member="wide")).json()
    assert set(bare["record"]["surface_fields"].values()) == {"***"}
    # … and one with the all-fields marker every field but the holder's id number
    await gw.services.members.add_grant("wide", Grant("certificate", "YYZZ", "*", ("*",)))
    whole = (await gw.call("GET", "/v1/certificates/C-COND", member="wide")).json()
    assert whole["masked"] == ["holder.id_number"]
    assert whole["record"]["surface_fields"]["address"] == "荷花街道"
    # the holder's id number is shown when the grant names it
    await gw.services.members.add_grant(
        "window", Grant("certificate", "YYZZ", PURPOSE, ("legal_rep", "holder.id_number"))
    )
    shown = (await gw.call("GET", "/v1/certificates/C-COND")).json()
    assert shown["record"]["holder"]["id_number"] == HOLDER


async def test_pages_hold_only_what_the_caller_may_see(gw: Gateway) -> None:
    await gw.add_member("window", "consumer", grants=(YYZZ_ALL, Grant("certificate", "JZZ")))
    records = [cert(f"C-{i:02d}", ("YYZZ", "JZZ", "BDCQZ")[i % 3]) for i in range(10)]
    records.append(cert("C-99", "YYZZ", "NOT_SHARED"))
    await gw.publish("Certificate", *records)
    seen: list[str] = []
    after = None
    while True:
        url = f"{LIST}&limit=2" + (f"&after={after}" if after else "")
        page = (await gw.call("GET", url)).json()
        assert len(page["items"]) == 2 or page["next_after"] is None
        seen += [i["record"]["cert_id"] for i in page["items"]]
        if (after := page["next_after"]) is None:
            break
    visible = sorted(
        (r["type_code"], r["cert_id"])
        for r in records
        if r["type_code"] != "BDCQZ" and r["sharing_class"] != "NOT_SHARED"
    )
    assert seen == [cert_id for _, cert_id in visible]


async def test_inputs_are_refused_before_any_database_work(gw: Gateway) -> None:
    await gw.add_member("window", "consumer", grants=(YYZZ_ALL,))
    bad = [
        "/v1/certificates",
        "/v1/certificates?holder_id=" + "9" * 65,
        f"{LIST}&type_code=" + "Y" * 65,
        f"{LIST}&type_code=证照",
        f"{LIST}&limit=0",
        f"{LIST}&limit=101",
        f"{LIST}&after=not%20a%20cursor",
        "/v1/certificates/" + "x" * 129,
    ]
    for url in bad:
        request = gw.signed("GET", url, gw.members["window"])
        pending = gw.services.refusals.pending
        assert_problem(await gw.client.send(request), 400, "INVALID_INPUT")
        assert gw.services.refusals.pending == pending + 1  # before the key was looked up
        # and its nonce was never used: the same request is refused the same way again
        again = gw.client.build_request("GET", request.url, headers=request.headers)
        assert_problem(await gw.client.send(again), 400, "INVALID_INPUT")


async def test_a_body_over_the_limit_is_refused_unread(gw: Gateway) -> None:
    await gw.add_member("dept", "publisher")
    response = await gw.call(
        "POST", "/v1/events/certificates", "dept", purpose=None, body=b"x" * (256 * 1024 + 1)
    )
    assert_problem(response, 413, "BODY_TOO_LARGE")


async def test_materials_by_catalog_grant(gw: Gateway) -> None:
    await gw.add_member("window", "consumer", grants=(Grant("material", "CL-0001", PURPOSE),))
    other = material("M-0002")
    other["catalog_code"] = "CL-0002"
    other["event_id"] = other["event_id"][:-4] + "0002"
    await gw.publish("Material", material(), other)
    holder = person()["id_number"]
    items = (await gw.call("GET", f"/v1/materials?holder_id={holder}")).json()["items"]
    assert [i["record"]["material_id"] for i in items] == ["M-0001"]
    assert items[0]["masked"] == ["holder.id_number"]  # a person's id: shown only if named
    refused = await gw.call("GET", f"/v1/materials?holder_id={holder}&catalog_code=CL-0002")
    assert_problem(refused, 403, "TYPE_NOT_GRANTED")


async def test_a_case_timeline_for_its_item(gw: Gateway) -> None:
    grants = (Grant("case", PURPOSE), Grant("case", "ITEM-X"))
    await gw.add_member("window", "consumer", grants=grants)
    case_no = "SL330802202611230001"
    await gw.publish("CaseEvent", case_event(case_no), case_event(case_no, "COMPLETED", "2"))
    timeline = (await gw.call("GET", f"/v1/cases/{case_no}", case=case_no)).json()
    assert [e["record"]["stage"] for e in timeline["events"]] == ["ACCEPTED", "COMPLETED"]
    other_item = await gw.call("GET", f"/v1/cases/{case_no}", purpose="ITEM-X")
    missing = await gw.call("GET", "/v1/cases/SL0000")
    assert_problem(other_item, 404, "NOT_FOUND")
    assert other_item.json() == missing.json()
