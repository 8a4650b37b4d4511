"""The streams of the log, what each carries, and how they are named on Kafka."""

from __future__ import annotations

from dataclasses import dataclass

MAJOR_VERSION = 1


@dataclass(frozen=True, slots=True)
class Stream:
    name: str
    record_type: str  # the Avro record name its values carry
    key: str  # what the key is; records with one key stay in order
    compacted: bool  # Kafka keeps only the newest record per key
    # Also carries `Deletion` records, each followed by a tombstone (a null value) of its key:
    # a record deleted at its source, which compaction then removes from the stream.
    deletions: bool = False


STREAMS: dict[str, Stream] = {
    s.name: s
    for s in (
        Stream("case-events", "CaseEvent", "case number (办件编号)", compacted=False),
        Stream("certificates", "Certificate", "certificate id (证照标识)", True, deletions=True),
        Stream("materials", "Material", "material id (材料标识)", True, deletions=True),
        Stream("dead-letters", "DeadLetter", "event id", compacted=False),
        Stream("audit-anchors", "AuditAnchor", "gateway id", compacted=False),
        Stream("supervision-alerts", "SupervisionAlert", "case number (办件编号)", compacted=False),
        # 双告知: a new business licence's follow-up permit, routed to a department and claimed.
        Stream("notices", "Notice", "notice id (告知单编号)", compacted=True),
        # 失信联合惩戒: entries of joint-punishment lists, removed (信用修复) by a newer version.
        Stream(
            "credit-entries", "CreditEntry", "list entry id (名单条目标识)", True, deletions=True
        ),
        # 共享治理: catalogue publications, sharing applications, review decisions, grant changes.
        Stream("governance", "GovernanceEvent", "resource code, application or grant id", False),
        # Connector offsets on Kafka (JSON values, Kafka Connect's habit): newest per key wins.
        Stream("connect-offsets", "ConnectorOffset", "connector|partition", compacted=True),
    )
}


def topic_name(prefix: str, stream: str) -> str:
    """`<prefix>.<stream>.v<major>`, e.g. `gov.case-events.v1`."""
    return f"{prefix}.{stream}.v{MAJOR_VERSION}"
