"""Every console template keeps to the Content-Security-Policy and the intranet: no inline
script, style or event handler (the browser would refuse them), no asset from another host
(a government intranet has no CDN); and every template compiles."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.api.console.templating import TEMPLATES, environment

FILES = sorted(TEMPLATES.rglob("*.html"))
INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", re.IGNORECASE)
REMOTE = re.compile(r"""(?:src|href)=["'](?:https?:)?//""", re.IGNORECASE)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_a_template_has_no_inline_code_and_no_remote_asset(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not INLINE.search(text), INLINE.search(text)
    assert not REMOTE.search(text), REMOTE.search(text)
    environment().get_template(str(path.relative_to(TEMPLATES)))


def test_the_static_files_are_all_local() -> None:
    static = TEMPLATES.parent / "static"
    for path in static.glob("*.css"):
        assert "url(http" not in path.read_text(encoding="utf-8"), path
    assert (static / "htmx.min.js").stat().st_size > 30_000  # the vendored htmx, whole
