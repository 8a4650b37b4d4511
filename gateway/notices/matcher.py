"""Which permits a business scope calls for: the routing table applied to a scope's items.

A rule matches an item containing one of its phrases and none of its `unless` phrases; items
under "一般项目" only for rules marked `general` (备案 items the 2021 catalogue lists there). A
rule matches a licence once, with every item that called for it. What matches nothing is not
dropped: `Routing.pool_reason` says why the licence goes to the shared pool instead, and the
permit items no rule names go there too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.notices.rules import RoutingTable, RuleSpec
from gateway.notices.scope import Item, Scope, Section, parse


@dataclass(frozen=True, slots=True)
class Match:
    rule: RuleSpec
    items: list[str]  # the scope's items that called for it, as written


@dataclass(frozen=True, slots=True)
class Routing:
    """Where one scope's follow-up goes: permits, and (when needed) the pool, with why."""

    matches: list[Match]
    pool_reason: str | None  # None: nothing for the pool
    pool_items: list[str] = field(default_factory=list)  # what the pool is asked to look at


# Why a licence (or part of it) goes to the pool.
NO_SCOPE = "NO_SCOPE"  # the licence carries no 经营范围
BOILERPLATE_ONLY = "BOILERPLATE_ONLY"  # only the approval boilerplate, no item: which permit?
PERMIT_ITEMS_UNMATCHED = "PERMIT_ITEMS_UNMATCHED"  # 许可项目 that no rule names
NO_RULE_MATCHED = "NO_RULE_MATCHED"  # items, none of which any rule names


def route(scope_text: str | None, table: RoutingTable) -> Routing:
    """The permits `scope_text` calls for under `table`, and what goes to the pool."""
    scope = parse(scope_text)
    found: dict[str, Match] = {}
    matched_items: set[int] = set()
    for index, item in enumerate(scope.items):
        for rule in table.rules:
            if _applies(rule, item):
                found.setdefault(rule.id, Match(rule, [])).items.append(item.text)
                matched_items.add(index)
    matches = [found[r.id] for r in table.rules if r.id in found]  # in the file's order
    return Routing(matches, *_pool(scope, matches, matched_items, scope_text))


def _applies(rule: RuleSpec, item: Item) -> bool:
    if item.section is Section.GENERAL and not rule.general:
        return False
    text = item.text
    return any(p in text for p in rule.phrases) and not any(u in text for u in rule.unless)


def _pool(
    scope: Scope, matches: list[Match], matched: set[int], raw: str | None
) -> tuple[str | None, list[str]]:
    if not (raw or "").strip():
        return NO_SCOPE, []
    if not scope.items:
        return BOILERPLATE_ONLY, []
    unmatched_permits = [
        item.text
        for index, item in enumerate(scope.items)
        if item.section is Section.LICENSED and index not in matched
    ]
    if unmatched_permits:
        return PERMIT_ITEMS_UNMATCHED, unmatched_permits
    if not matches:
        return NO_RULE_MATCHED, [item.text for item in scope.items]
    return None, []
