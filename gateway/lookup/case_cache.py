"""The events of a case named in `Gov-Case`, remembered for a moment per gateway process.

Every 有条件共享 lookup is bound to its case (`gateway.api.policy.bind_case`), which would cost
one more query per lookup; a window asks for several records of one case in a row, so the
answer is kept `ttl_s` (1 s by default). A case's events only grow, and what binding reads of
them (item, applicant) is fixed at acceptance, so a remembered answer is at most `ttl_s` late
for a case the gateway had not yet seen. At most `MAX_ENTRIES` cases are kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from gateway.lookup.store import CaseEventEntry, LookupStore

MAX_ENTRIES = 4096
EVENTS_READ = 200  # of one case: enough to know its item and applicant


class CaseCache:
    def __init__(
        self,
        store: LookupStore,
        ttl_s: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.ttl_s, self.clock = store, ttl_s, clock
        self._entries: dict[str, tuple[float, list[CaseEventEntry]]] = {}

    async def events(self, case_no: str) -> list[CaseEventEntry]:
        now = self.clock()
        found = self._entries.get(case_no)
        if found is not None and found[0] > now:
            return found[1]
        events = await self.store.case_timeline(case_no, limit=EVENTS_READ)
        if self.ttl_s > 0:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[case_no] = (now + self.ttl_s, events)
        return events
