"""Pages of what a caller may see, cut from the lookup store's keyset pages.

The store pages over everything a holder has; the caller may see only some of it. This
fills a page with visible entries only and offers a next cursor only when a visible entry
follows, so neither a short page nor a dangling cursor hints at records kept from the caller.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from gateway.api.policy import View
from gateway.lookup import Page
from gateway.lookup.store import encode_cursor

E = TypeVar("E")


class Item(BaseModel):
    record: dict[str, Any]
    masked: list[str]


class ItemPage(BaseModel):
    items: list[Item]
    next_after: str | None


Fetch = Callable[[str, str | None, int], Awaitable[Page[E]]]


async def visible_page(
    fetch: Fetch[E],
    codes: Sequence[str],
    after: str | None,
    limit: int,
    show: Callable[[E], View | None],
    position: Callable[[E], tuple[str, str]],
) -> ItemPage:
    """Up to `limit` entries `show` lets through, over `codes` in order, after `after`.

    `position` gives an entry's keyset position (code, id), the store's cursor order.
    """
    shown: list[tuple[View, tuple[str, str]]] = []
    for code in codes:
        cursor = after
        while True:
            page = await fetch(code, cursor, limit + 1)
            for entry in page.items:
                view = show(entry)
                if view is None:
                    continue
                shown.append((view, position(entry)))
                if len(shown) > limit:
                    items = [
                        Item(record=dict(v.record), masked=list(v.masked)) for v, _ in shown[:-1]
                    ]
                    return ItemPage(items=items, next_after=encode_cursor(*shown[-2][1]))
            if page.next_after is None:
                break
            cursor = page.next_after
    return ItemPage(
        items=[Item(record=dict(v.record), masked=list(v.masked)) for v, _ in shown],
        next_after=None,
    )
