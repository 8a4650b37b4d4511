"""Inline SVG bar charts for the bulletin (电子监察月报): no script, no library, no CDN.

Each function returns one `<svg>` element as text, every label escaped, sized by a viewBox so
it scales with the page; colours are plain attributes, so the chart prints and reads without
CSS. Screen readers get a `<title>` and one `<title>` per bar with its figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

YELLOW, RED, BLUE, GREY = "#d4a017", "#c0392b", "#2f6fab", "#888888"
_ROW, _LABEL, _WIDTH, _PAD = 26, 180, 640, 8


@dataclass(frozen=True, slots=True)
class Series:
    """One kind of bar: its name (legend) and colour."""

    name: str
    colour: str


def bar_chart(
    title: str, bars: Sequence[tuple[str, float]], *, colour: str = BLUE, unit: str = ""
) -> str:
    """Horizontal bars, one per (label, value), scaled to the largest value."""
    return stacked_bar_chart(title, [(label, [v]) for label, v in bars], [Series(unit, colour)])


def stacked_bar_chart(
    title: str, bars: Sequence[tuple[str, Sequence[float]]], series: Sequence[Series]
) -> str:
    """Horizontal bars, each stacked from its values in `series` order, with a legend."""
    top = max((sum(values) for _, values in bars), default=0) or 1
    span = _WIDTH - _LABEL - 60
    height = _PAD * 2 + 24 + _ROW * max(len(bars), 1) + (20 if len(series) > 1 else 0)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height}" '
        f'width="{_WIDTH}" height="{height}" '
        f'role="img" class="chart" font-family="sans-serif" font-size="13">',
        f"<title>{escape(title)}</title>",
        f'<text x="{_PAD}" y="{_PAD + 14}" font-weight="bold">{escape(title)}</text>',
    ]
    y = _PAD + 24
    if not bars:
        out.append(f'<text x="{_PAD}" y="{y + 16}" fill="{GREY}">无数据 no data</text>')
    for label, values in bars:
        out.append(
            f'<text x="{_LABEL - 6}" y="{y + 17}" text-anchor="end">{escape(_short(label))}</text>'
        )
        x = float(_LABEL)
        for value, kind in zip(values, series, strict=True):
            width = span * value / top
            if width > 0:
                out.append(
                    f'<rect x="{x:.1f}" y="{y + 4}" width="{width:.1f}" height="{_ROW - 8}" '
                    f'fill="{kind.colour}"><title>{escape(label)} {escape(kind.name)}: '
                    f"{_figure(value)}</title></rect>"
                )
            x += width
        out.append(f'<text x="{x + 4:.1f}" y="{y + 17}">{_figure(sum(values))}</text>')
        y += _ROW
    if len(series) > 1:
        x = float(_LABEL)
        for kind in series:
            out.append(f'<rect x="{x}" y="{y + 6}" width="12" height="12" fill="{kind.colour}"/>')
            out.append(f'<text x="{x + 16}" y="{y + 17}">{escape(kind.name)}</text>')
            x += 28 + 14 * len(kind.name)  # CJK glyphs are about 13 px wide
    out.append("</svg>")
    return "".join(out)


def _figure(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _short(label: str, most: int = 14) -> str:
    return label if len(label) <= most else label[: most - 1] + "…"
