"""Event ids are UUIDv5 (RFC 4122) over where a record came from, stable across processes."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from schemas.ids import EVENT_NAMESPACE, event_id

parts = st.text(max_size=30)


@given(system=parts, table=parts, key=parts, version=parts)
def test_event_id_is_the_standard_uuid5(system: str, table: str, key: str, version: str) -> None:
    expected = uuid.uuid5(EVENT_NAMESPACE, "\x1f".join((system, table, key, version)))
    assert event_id(system, table, key, version) == str(expected)


def test_event_ids_are_pinned() -> None:
    """Changing the namespace or the layout would make re-deliveries look new: never do it."""
    assert event_id("fgw-tzxm", "TZXM_SPBJ", "FG1", "2026-11-23 10:00:00") == (
        "04418883-be00-581b-b532-1dab8c5f0bc8"
    )
    assert event_id("a", "b", "c", "d") != event_id("a", "b", "c", "e")
