"""Anchors as an append-only JSON-lines file: the copy a database writer cannot reach.

On the embedded default the SQL log (and so the `audit-anchors` stream) lives in the same
database file as the audit table: whoever can rewrite one can delete the other. The gateway
therefore also appends each anchor to `gateway.audit_anchor_file` (one JSON object per line,
written with O_APPEND and fsynced, mode 0600), and `govgate audit export-anchors` copies the
log's anchors into such a file. Put it where the database's writers have no write access: a
separate disk or host, a mount with `chattr +a`, a log shipper. `govgate audit verify
--anchors FILE` reads it back; every line's signature is checked like the log's anchors.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from gateway.audit.chain import Problem
from gateway.audit.signed_anchors import Anchor

_FIELDS = ("gateway_id", "seq", "head_hash", "rows", "keyed_from", "keyid", "signature")


def anchor_line(found: Anchor) -> str:
    """One anchor as a line of the file (without the newline)."""
    line: dict[str, Any] = {name: getattr(found, name) for name in _FIELDS}
    line["anchored_at"] = found.anchored_at.isoformat(timespec="milliseconds")
    line["event_id"] = found.event_id
    return json.dumps(line, ensure_ascii=True, sort_keys=True)


def append_anchor(path: Path, found: Anchor) -> None:
    """Append one anchor and fsync it (blocking: run it in a thread)."""
    append_lines(path, [anchor_line(found)])


def append_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, "".join(f"{line}\n" for line in lines).encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_anchor_file(path: Path) -> tuple[list[Anchor], list[Problem]]:
    """The anchors in `path`, and a finding (ANCHOR_FORGED) for each line that is not one.

    Raises OSError if the file cannot be read."""
    anchors: list[Anchor] = []
    problems: list[Problem] = []
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            try:
                anchors.append(_parse(json.loads(text)))
            except (ValueError, TypeError, KeyError) as exc:
                why = f"{path}:{number}: not an anchor ({type(exc).__name__}: {exc})"
                problems.append(Problem(0, "ANCHOR_FORGED", why[:300]))
    return anchors, problems


def _parse(line: dict[str, Any]) -> Anchor:
    def text(name: str, optional: bool = False) -> Any:
        value = line.get(name) if optional else line[name]
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{name} is not a text")
        return value

    def number(name: str, optional: bool = False) -> Any:
        value = line.get(name) if optional else line[name]
        if value is not None and type(value) is not int:
            raise TypeError(f"{name} is not an integer")
        return value

    anchored_at = datetime.fromisoformat(text("anchored_at"))
    if anchored_at.tzinfo is None:
        raise ValueError("anchored_at has no time zone")
    return Anchor(
        gateway_id=text("gateway_id"),
        seq=number("seq"),
        head_hash=text("head_hash"),
        rows=number("rows"),
        anchored_at=anchored_at,
        event_id=text("event_id"),
        keyed_from=number("keyed_from", optional=True),
        keyid=text("keyid", optional=True),
        signature=text("signature", optional=True),
    )
