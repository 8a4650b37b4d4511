"""Refusals of callers the gateway could not identify: tallied, one audit row per interval.

An unsigned request, a signature that does not verify, an unknown key, a replayed nonce, a
malformed input checked before the signature: none of these can be pinned on a member. Writing
one chained, durable row each would let anyone on the network grow the audit table without
bound, one cheap request at a time. Instead they are counted in memory (and on /metrics) and
written every `interval_s` as one row per (code, status), `requests` = the count, with no
member, no holder and no path: the audit log still shows how many refusals of each kind there
were and when, at a bounded cost. A crash loses at most one interval of these counts; the
promise that every request of an identified member is audited before it is answered is kept
(gateway.audit.log).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter

from gateway.audit.errors import AuditError
from gateway.audit.log import AuditEntry, AuditLog

ROUTE = "(unidentified callers)"
logger = logging.getLogger(__name__)


class RefusalTally:
    """Counts unidentified refusals by (code, status) and writes them as tally rows."""

    def __init__(self, audit: AuditLog, interval_s: float) -> None:
        self.audit = audit
        self.interval_s = interval_s
        self._counts: Counter[tuple[str, int]] = Counter()
        self._since_ms = time.time_ns() // 1_000_000

    def count(self, code: str | None, status: int) -> None:
        self._counts[(code or "REFUSED", status)] += 1

    @property
    def pending(self) -> int:
        return sum(self._counts.values())

    async def flush(self) -> int:
        """Write what was counted since the last flush; returns the rows written. Counts a
        failed write keeps for the next flush."""
        counts, self._counts = self._counts, Counter()
        since, self._since_ms = self._since_ms, time.time_ns() // 1_000_000
        written = 0
        for (code, status), requests in sorted(counts.items()):
            entry = AuditEntry(
                method="*",
                path=f"* since {since}",
                route=ROUTE,
                decision="deny",
                status=status,
                code=code,
                requests=requests,
            )
            try:
                await self.audit.record(entry)
                written += 1
            except AuditError as exc:
                logger.warning("refusal tally not written, kept for the next: %s", exc)
                self._counts[(code, status)] += requests
        return written

    async def run(self) -> None:
        """Flush every `interval_s` until cancelled, and once more then."""
        try:
            while True:
                await asyncio.sleep(self.interval_s)
                await self.flush()
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.flush(), timeout=10)
            raise
