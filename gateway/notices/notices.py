"""Notice records (schemas/avsc/Notice.avsc): routed from a licence, and claimed.

A notice's id is fixed by the licence and the permit (or the pool), so routing the same
licence again gives the same notice; its event ids are fixed by the notice and the step
(routed, claimed), so a repeat of either step is recognisable downstream.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from gateway.notices.matcher import Match, Routing
from gateway.notices.rules import RoutingTable
from schemas.ids import EVENT_NAMESPACE, event_id

ROUTER = "govgate-notices"
GATEWAY = "govgate-gateway"
STREAM = "notices"
_ISSUER_SUFFIXES = ("市场监督管理局", "市场监管局", "行政审批局")


def notice_id(cert_id: str, target: str) -> str:
    """`SGZ-` and 20 hex digits: fixed by the licence and the permit rule (or `POOL`)."""
    return "SGZ-" + uuid.uuid5(EVENT_NAMESPACE, f"notice\x1f{cert_id}\x1f{target}").hex[:20]


def is_new_licence(record: dict[str, Any], table: RoutingTable, today: dt.date) -> bool:
    """A business licence in force, issued recently enough to be followed up (not history)."""
    spec = table.spec
    issued = record.get("issue_date")
    return (
        record.get("type_code") in spec.licence_types
        and record.get("status") == "VALID"
        and isinstance(issued, dt.date)
        and issued >= today - dt.timedelta(days=spec.max_age_days)
    )


def region_prefix(issuer_name: str) -> str:
    """衢州市柯城区 from 衢州市柯城区市场监督管理局: how the region's departments are named."""
    for suffix in _ISSUER_SUFFIXES:
        if issuer_name.endswith(suffix):
            return issuer_name[: -len(suffix)]
    return ""


def routed_notices(
    licence: dict[str, Any], routing: Routing, table: RoutingTable, now: dt.datetime
) -> list[dict[str, Any]]:
    """The notices `routing` calls for: one per matched permit, one for the pool if needed."""
    notices = [_notice(licence, table, now, match) for match in routing.matches]
    if routing.pool_reason is not None:
        notices.append(_notice(licence, table, now, None, routing))
    return notices


def _notice(
    licence: dict[str, Any],
    table: RoutingTable,
    now: dt.datetime,
    match: Match | None,
    routing: Routing | None = None,
) -> dict[str, Any]:
    region = str(licence["region_code"])
    prefix = region_prefix(str(licence["issuer_name"]))
    pool = table.spec.pool
    if match is not None:
        rule = match.rule
        department = table.department(rule.department, region, prefix)
        target, item_code, item_name, items = rule.id, rule.item_code, rule.item_name, match.items
    else:
        assert routing is not None
        department = table.department(pool.kind, region, prefix)
        target, item_code, item_name = "POOL", pool.item_code, pool.item_name
        items = routing.pool_items
    nid = notice_id(str(licence["cert_id"]), target)
    version = str(licence["provenance"]["source_version"])
    return {
        "event_id": event_id(ROUTER, "certificates", nid, "PENDING"),
        "notice_id": nid,
        "status": "PENDING",
        "routed_by": "RULE" if match is not None else "POOL",
        "rule_id": match.rule.id if match is not None else None,
        "pool_reason": routing.pool_reason if routing is not None else None,
        "item_code": item_code,
        "item_name": item_name,
        "department_code": department.code,
        "department_name": department.name,
        "region_code": region,
        "licence": {
            "cert_id": licence["cert_id"],
            "uscc": licence["holder"]["id_number"],
            "name": licence["holder"]["name"],
            "issuer_name": licence["issuer_name"],
            "issue_date": licence["issue_date"],
        },
        "scope": scope_of(licence, table),
        "matched_items": items,
        "received_at": now,
        "claim_days": table.claim_days(match.rule if match is not None else None),
        "claimed_at": None,
        "claimed_by": None,
        "claim_note": None,
        "provenance": {
            "source_system": ROUTER,
            "source_table": "certificates",
            "source_key": str(licence["cert_id"]),
            "source_version": version,
            "fetched_at": now,
            "connector": None,
        },
    }


def scope_of(licence: dict[str, Any], table: RoutingTable) -> str:
    surface = licence.get("surface_fields") or {}
    return str(surface.get(table.spec.scope_field) or "")


def claimed(
    notice: dict[str, Any],
    member_id: str,
    now: dt.datetime,
    note: str | None,
    department: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The claimed version of `notice`: by `member_id`, now; `department` (code, name) when a
    department takes a notice out of the pool."""
    claim = dict(notice)
    nid = str(notice["notice_id"])
    claim.update(
        event_id=event_id(GATEWAY, STREAM, nid, "CLAIMED"),
        status="CLAIMED",
        claimed_at=now,
        claimed_by=member_id,
        claim_note=note,
        provenance={
            "source_system": GATEWAY,
            "source_table": STREAM,
            "source_key": str(notice["licence"]["cert_id"]),
            "source_version": "CLAIMED",
            "fetched_at": now,
            "connector": None,
        },
    )
    if department is not None:
        claim["department_code"], claim["department_name"] = department
    return claim


def notice_from_json(record: dict[str, Any]) -> dict[str, Any]:
    """A notice as the lookup store keeps it (JSON: ISO dates and times) in Avro's shapes."""
    notice = dict(record)
    for name in ("received_at", "claimed_at"):
        if isinstance(notice.get(name), str):
            notice[name] = _time(notice[name])
    licence = dict(notice["licence"])
    if isinstance(licence.get("issue_date"), str):
        licence["issue_date"] = dt.date.fromisoformat(licence["issue_date"])
    notice["licence"] = licence
    provenance = dict(notice["provenance"])
    if isinstance(provenance.get("fetched_at"), str):
        provenance["fetched_at"] = _time(provenance["fetched_at"])
    notice["provenance"] = provenance
    return notice


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
