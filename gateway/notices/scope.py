"""A business scope (经营范围) as it is really written, taken apart into items.

Real scopes are long run-on texts: items joined by 、，；, full-width or not, sometimes under
the 2021 headers "一般项目：…" and "许可项目：…", wrapped in boilerplate that names no
department ("依法须经批准的项目，经相关部门批准后方可开展经营活动", "除依法须经批准的项目外，凭营业
执照依法自主开展经营活动", "具体经营项目以审批结果为准"), with exclusions in brackets
("（不含危险化学品）") that must not count as the thing excluded.

`parse` normalizes the text (NFKC: full-width punctuation and letters to half-width), removes
the boilerplate (noting whether it said permits may be needed), removes the exclusions, and
splits what is left into items at the separators outside brackets, each with its section.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass


class Section(enum.StrEnum):
    GENERAL = "一般项目"  # needs no permit as written (备案 items excepted, see the rules)
    LICENSED = "许可项目"  # needs a permit
    UNSPECIFIED = "未分类"  # a scope written before the 2021 headers


_HEADERS = {
    "一般项目": Section.GENERAL,
    "一般经营项目": Section.GENERAL,
    "许可项目": Section.LICENSED,
    "许可经营项目": Section.LICENSED,
    "前置许可经营项目": Section.LICENSED,
}
_HEADER = re.compile("(" + "|".join(sorted(_HEADERS, key=len, reverse=True)) + r")\s*:")
# Sentences that name no item. Each may be bracketed or not, and end in any punctuation.
_BOILERPLATE = [
    r"依法须经批准的项目,?经相关部门批准后方可开展经营活动",
    r"除依法须经批准的项目外,?凭营业执照依法自主开展经营活动",
    r"具体经营项目以(?:审批结果|相关部门批准文件或许可证件)为准",
    r"涉及许可经营项目,?应取得相关部门许可后方可经营",
    r"依法须经批准的项目外",
]
_BOILERPLATE_RE = re.compile(r"\(?(?:" + "|".join(_BOILERPLATE) + r")\)?[.;,。]?")
_APPROVAL = re.compile(
    r"依法须经批准的项目,?经相关部门批准后方可开展经营活动|具体经营项目以审批结果"
)
# An exclusion in brackets: what follows is *not* in the scope.
_EXCLUSION = re.compile(r"\((?:不含|除|不得|不从事|不涉及|不包括)[^()]*\)")
_SEPARATORS = set(";,、。;\n\t ")


@dataclass(frozen=True, slots=True)
class Item:
    """One item of a scope, as written (exclusions removed), and its section."""

    text: str
    section: Section


@dataclass(frozen=True, slots=True)
class Scope:
    items: list[Item]
    says_approval_needed: bool  # the boilerplate said some item needs approval, naming none

    @property
    def licensed(self) -> list[Item]:
        return [i for i in self.items if i.section is Section.LICENSED]


def normalize(text: str) -> str:
    """Full-width to half-width (NFKC); 。 and 、 are kept, they separate items too."""
    return unicodedata.normalize("NFKC", text).replace("\u3000", " ")


def parse(text: str | None) -> Scope:
    """The items of a business scope; an empty or missing scope has none."""
    text = normalize(text or "")
    says_approval = bool(_APPROVAL.search(text))
    text = _BOILERPLATE_RE.sub(";", text)
    items: list[Item] = []
    for section, part in _sections(text):
        for piece in _split(_EXCLUSION.sub("", part)):
            cleaned = _unwrapped(piece.strip())
            if cleaned and not _only_punctuation(cleaned):
                items.append(Item(cleaned, section))
    return Scope(items, says_approval)


def _sections(text: str) -> list[tuple[Section, str]]:
    parts: list[tuple[Section, str]] = []
    section, start = Section.UNSPECIFIED, 0
    for header in _HEADER.finditer(text):
        parts.append((section, text[start : header.start()]))
        section, start = _HEADERS[header.group(1)], header.end()
    parts.append((section, text[start:]))
    return [(s, p) for s, p in parts if p.strip()]


def _split(text: str) -> list[str]:
    """Pieces between separators outside brackets ("货物专用运输(冷藏、冷冻)" stays whole)."""
    pieces: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char in "([【":
            depth += 1
        elif char in ")]】":
            depth = max(0, depth - 1)
        if char in _SEPARATORS and depth == 0:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return pieces


def _unwrapped(text: str) -> str:
    """Without brackets left unbalanced at its ends by the split ("(a" → "a", "b)" → "b")."""
    while text[:1] in ("(", "[", "【") and text.count(text[0]) > text.count(_CLOSE[text[0]]):
        text = text[1:].strip()
    while text[-1:] in (")", "]", "】") and text.count(text[-1]) > text.count(_OPEN[text[-1]]):
        text = text[:-1].strip()
    return text


_CLOSE = {"(": ")", "[": "]", "【": "】"}
_OPEN = {v: k for k, v in _CLOSE.items()}


def _only_punctuation(text: str) -> bool:
    return all(unicodedata.category(c).startswith(("P", "Z")) for c in text)
