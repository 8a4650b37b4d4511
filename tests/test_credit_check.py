"""Credit checks at the window (失信联合惩戒), the whole way round, on the SQL log and on Kafka:
the credit platform exports a list (GBK CSV, then XLSX), the `xy-sxmd` connector ingests it
(an invalid subject id becomes a dead letter), and a window finds a listed company restricted
for a named item; after its removal (信用修复) is ingested, the same company is clear, the entry
stays in the history, and each check shows in the company's access log."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.simulators.credit import CreditListSimulator
from gateway.client import InvalidRequest, NotAuthorized
from gateway.members.store import Grant
from tests.flows import Flow, flow

__all__ = ["flow"]
PURPOSE = "11330802002493025K3330111704000"  # 政府采购供应商资格 (a demo 事项编码)
OTHER_ITEM = "11330802002493025K3330111703000"  # 企业投资项目备案: no measure bars it


async def test_a_listed_company_is_restricted_then_clear_after_its_removal(
    flow: Flow, tmp_path: Path
) -> None:
    drop = tmp_path / "xy-drop"
    sim = CreditListSimulator(drop, seed=4, bad_share=0.3)
    sim.add_entries(12)
    entry = sim.list_company("SXBZXR", spoil=False)
    company = sim.entries[entry]["证件号码"]
    sim.write_export()
    spec = flow.profile("xy-sxmd", folder=str(drop), settle_s=0)
    await flow.pull(spec)
    await flow.materialize()

    dead = [r for kind, r in await flow.records("dead-letters") if r is not None]
    assert {d["provenance"]["source_key"] for d in dead} == sim.bad_keys != set()
    assert {d["error_code"] for d in dead} <= {"USCC_CHECK", "ID_NUMBER_CHECK"}

    window = await flow.member(
        "kecheng-window", "consumer", grants=(Grant("credit", "SXBZXR", PURPOSE),)
    )
    portal = await flow.member("portal", "auditor")
    async with flow.client(window) as gw:
        listed = (await gw.credit(company, purpose=PURPOSE)).data
        by_category = (await gw.credit(company, "ZFCG", purpose=PURPOSE)).data
        unrelated = (await gw.credit(company, OTHER_ITEM, purpose=PURPOSE)).data
    assert listed["restricted"] is True and listed["restricting"] == [f"SXMD-{entry}"]
    [found] = listed["entries"]
    assert found["status"] == "ACTIVE" and found["restricts_item"] is True
    assert [m["code"] for m in found["measures"]] == ["M-ZFCG"]
    assert found["record"]["authority_name"].endswith("人民法院")
    assert by_category["restricted"] is True
    assert unrelated["restricted"] is False and unrelated["entries"][0]["status"] == "ACTIVE"

    sim.remove(entry, "已履行生效法律文书确定的义务")
    sim.write_export(xlsx=True)  # the platform's other format
    await flow.pull(spec)
    await flow.materialize()
    async with flow.client(window) as gw:
        cleared = (await gw.credit(company, purpose=PURPOSE)).data
    assert cleared["restricted"] is False and cleared["restricting"] == []
    [history] = cleared["entries"]
    assert history["status"] == "REMOVED" and history["restricts_item"] is False
    assert history["record"]["removal_reason"] == "已履行生效法律文书确定的义务"

    async with flow.client(portal) as auditor:
        looks = (await auditor.access_log(company)).data["items"]
    checks = [a for a in looks if a["route"] and a["route"].startswith("/v1/credit/")]
    assert len(checks) == 4
    assert all(a["member_id"] == "kecheng-window" and a["purpose"] == PURPOSE for a in checks)
    assert all(a["decision"] == "allow" for a in checks)


async def test_a_check_needs_a_credit_grant_for_the_purpose_and_masks_persons(
    flow: Flow, tmp_path: Path
) -> None:
    drop = tmp_path / "xy-drop"
    sim = CreditListSimulator(drop, seed=9)
    person_entry = sim.list_person("SXBZXR")
    person = sim.entries[person_entry]["证件号码"]
    sim.write_export()
    await flow.pull(flow.profile("xy-sxmd", folder=str(drop), settle_s=0))
    await flow.materialize()

    limited = Grant("credit", "SXBZXR", PURPOSE, fields=("subject.name",))
    window = await flow.member("window", "consumer", grants=(limited,))
    other = await flow.member("other", "consumer", grants=(Grant("credit", "ZDSSWF", PURPOSE),))
    async with flow.client(window) as gw:
        answer = (await gw.credit(person, "ZTB", purpose=PURPOSE)).data
        with pytest.raises(NotAuthorized) as refused:
            await gw.credit(person, purpose=OTHER_ITEM)
    assert refused.value.code == "PURPOSE_NOT_GRANTED"
    async with flow.client(window) as gw:
        with pytest.raises(InvalidRequest) as malformed:
            await gw.credit(person[:-1] + ("0" if person[-1] != "0" else "1"), purpose=PURPOSE)
    assert malformed.value.code == "INVALID_INPUT" and "subject_id" in malformed.value.detail
    assert person[6:14] not in malformed.value.detail  # a person's id is never echoed whole
    [entry] = answer["entries"]
    assert (
        entry["record"]["subject"]["id_number"] != person
        and "*" in (entry["record"]["subject"]["id_number"])
    )
    assert entry["masked"] == ["subject.id_number"] and answer["restricted"] is True
    named = Grant("credit", "SXBZXR", PURPOSE, ("*", "subject.id_number"))
    whole = await flow.member("whole", "consumer", grants=(named,))
    async with flow.client(whole) as gw:  # a grant naming the id number shows it
        unmasked = (await gw.credit(person, "ZTB", purpose=PURPOSE)).data["entries"][0]
    assert unmasked["record"]["subject"]["id_number"] == person and unmasked["masked"] == []
    async with flow.client(other) as gw:  # granted another list: this one is not looked at
        elsewhere = (await gw.credit(person, "ZTB", purpose=PURPOSE)).data
    assert elsewhere == elsewhere | {"lists": ["ZDSSWF"], "entries": [], "restricted": False}
