"""The dead-letter index over real logs: projection, masking, keyset pages, tallies, input."""

from __future__ import annotations

import json
import re

import pytest

from gateway.log import OutRecord
from gateway.operations.deadletters import OPEN, DeadLetterIndex, Filter
from gateway.operations.errors import DeadLetterNotFound, InvalidFilter
from tests.gateway.operations.conftest import World, letter, put

ID_IN_CLEAR = re.compile(r"\d{17}[\dX]")


async def test_refresh_indexes_each_dead_letter_once(any_log: World) -> None:
    world = any_log
    index = DeadLetterIndex(world.engine)
    letters = [letter(i) for i in range(30)]
    await put(world.log, letters)
    await put(world.log, letters[:10])  # a batch delivered twice (at-least-once)

    assert await index.refresh(world.log, batch=7) == 40
    assert await index.refresh(world.log) == 0
    page = await index.page(limit=200)
    assert len(page.items) == 30 and page.next_after is None
    assert {d.state for d in page.items} == {OPEN}
    for item in page.items[::7]:  # found again on the log, in clear, for a re-drive only
        original = await index.original(world.log, item)
        assert original["event_id"] == item.event_id and "*" not in original["raw"]


async def test_personal_ids_never_reach_the_index(world: World) -> None:
    index = DeadLetterIndex(world.engine)
    shaky = letter(1)
    short = "33080219850615123"  # one digit short: not a valid id, still personal
    shaky["raw"] = json.dumps(
        {"SQRZJHM": short, "applicant": {"id_type": "RESIDENT_ID", "id_number": "AB12345678"}}
    )
    shaky["provenance"]["source_key"] = "330802198506150011"
    await put(world.log, [shaky, letter(2)])
    await index.refresh(world.log)

    for item in (await index.page()).items:
        for text in (item.reason, item.raw, item.source_key):
            assert not ID_IN_CLEAR.search(text), text
    found = await index.get(shaky["event_id"])
    assert short not in found.raw and "AB12345678" not in found.raw
    assert found.raw_fields()["SQRZJHM"].startswith("330802")
    assert found.source_key == "330802********0011"


async def test_pages_are_keyset_newest_first_and_filtered(world: World) -> None:
    index = DeadLetterIndex(world.engine)
    await put(world.log, [letter(i) for i in range(25)])
    await put(world.log, [letter(100 + i, code="UNKNOWN_CODE") for i in range(5)])
    await put(world.log, [letter(200 + i, connector="scjg-yyzz") for i in range(3)])
    await index.refresh(world.log)

    seen, after = [], None
    while True:
        page = await index.page(Filter.parse(connector="fgw-tzxm"), after, limit=8)
        seen += [d.id for d in page.items]
        if page.next_after is None:
            break
        after = page.next_after
    assert len(seen) == 30 and seen == sorted(seen, reverse=True)

    unknown = await index.page(Filter.parse(code="UNKNOWN_CODE"))
    assert {d.error_code for d in unknown.items} == {"UNKNOWN_CODE"} and len(unknown.items) == 5
    assert await index.tallies() == [("ID_NUMBER_CHECK", 28), ("UNKNOWN_CODE", 5)]
    assert await index.tallies("scjg-yyzz") == [("ID_NUMBER_CHECK", 3)]
    assert await index.connectors() == [("fgw-tzxm", 30), ("scjg-yyzz", 3)]


async def test_an_undecodable_record_is_indexed_not_dropped(world: World) -> None:
    index = DeadLetterIndex(world.engine)
    await world.log.append("dead-letters", [OutRecord(b"k", b"garbage 330802198506150011")])
    await index.refresh(world.log)
    [item] = (await index.page()).items
    assert item.error_code == "BAD_MAGIC" and item.event_id == "undecodable:0:0"


@pytest.mark.parametrize(
    ("field", "value"),
    [("connector", "fgw tzxm; drop"), ("code", "id_number_check"), ("state", "GONE")],
)
def test_bad_filters_name_the_field_and_value(field: str, value: str) -> None:
    with pytest.raises(InvalidFilter) as caught:
        Filter.parse(**{field: value})
    assert caught.value.field == field and repr(value) in caught.value.detail


async def test_bad_cursor_limit_and_id_are_refused(world: World) -> None:
    index = DeadLetterIndex(world.engine)
    with pytest.raises(InvalidFilter, match="after"):
        await index.page(after="12; drop table")
    with pytest.raises(InvalidFilter, match="limit"):
        await index.page(limit=0)
    with pytest.raises(InvalidFilter, match="event_id"):
        await index.get("../../etc")
    with pytest.raises(DeadLetterNotFound):
        await index.get("0b9e5c9e-0000-5000-8000-000000000000")
