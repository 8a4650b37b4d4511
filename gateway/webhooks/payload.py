"""What a delivery carries: a CloudEvents 1.0 JSON batch (`application/cloudevents-batch+json`).

Each element is one log record in structured CloudEvents form: `id` is the event's
deterministic id (the same on every redelivery, so a receiver de-duplicates on it), `subject`
the record key (the case number, 办件编号), `data` the decoded event as the feed shows it. The
extensions `govgatestream`, `govgatepartition`, `govgateoffset` and `govgatecursor` (the feed
cursor just after the event) say where it stands in the log. Elements are in log order: a
receiver that handles them in array order keeps the order per key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from gateway.log import LogRecord
from schemas.codec import headers_dict

SPECVERSION = "1.0"


def cloudevent(record: LogRecord, item: dict[str, Any]) -> dict[str, Any]:
    """The CloudEvent of a feed item (`gateway.feeds.to_item`) of `record`."""
    headers = headers_dict(record.headers)
    event = item["event"]
    event_id = headers.get("ce_id") or (event or {}).get("event_id")
    if event_id is None:  # a record that carries no id: its place in the log is one
        event_id = f"{record.stream}/{record.partition}/{record.offset}"
    out: dict[str, Any] = {
        "specversion": SPECVERSION,
        "id": str(event_id),
        "source": headers.get("ce_source") or f"/govgate/{record.stream}",
        "type": item["type"] or "cn.govgate.unknown",
        "time": item["time"],
        "datacontenttype": "application/json",
        "govgatestream": record.stream,
        "govgatepartition": record.partition,
        "govgateoffset": record.offset,
        "govgatecursor": item["cursor"],
    }
    if item["key"] is not None:
        out["subject"] = item["key"]
    if "decode_error" in item:
        out["govgatedecodeerror"] = item["decode_error"]
    out["data"] = event
    return out


def batch_body(events: Iterable[dict[str, Any]]) -> bytes:
    return json.dumps(list(events), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
