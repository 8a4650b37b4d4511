"""A sampling profile of a running server with py-spy (the [dev] extra), and its top frames.

`record(pid, seconds, out)` starts `py-spy record` on the process and its children (a server's
workers) without pausing them (`--nonblocking`), counting only samples that hold the GIL
(`--gil`: the Python work that costs CPU, not threads waiting); it writes py-spy's raw format,
one collapsed stack a line with its sample count. `top_frames` reads it back and ranks
functions by the share of samples they are on the stack of (inclusive) and at the top of (self).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

_FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>[^():]*)(?::\d+)?\)$")


@dataclass(frozen=True)
class Frame:
    """A function and its share of the samples, inclusive and self, in percent."""

    name: str
    inclusive: float
    self: float


def py_spy() -> str:
    """The py-spy executable beside this Python, or on PATH; a clear error without one."""
    here = Path(sys.executable).parent / "py-spy"
    found = str(here) if here.exists() else shutil.which("py-spy")
    if found is None:
        raise SystemExit("--py-spy needs py-spy: pip install -e '.[dev]' (it is in the dev extra)")
    return found


def record(pid: int, seconds: float, out: Path, rate: int = 200) -> subprocess.Popen[bytes]:
    """Start sampling `pid` (and its children) for `seconds`; wait on the process it returns."""
    return subprocess.Popen(
        [
            py_spy(),
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--nonblocking",
            "--gil",
            "--rate",
            str(rate),
            "--duration",
            str(max(1, round(seconds))),
            "--format",
            "raw",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _function(frame: str) -> str:
    """`name (file:line)` → `name (file)`: lines of one function count together."""
    found = _FRAME.match(frame.strip())
    if found is None:
        return frame.strip()
    path = found["file"]
    for marker in ("site-packages/", "/gateway/", "/bench/", "/lib/python3"):
        if marker in path:
            path = path[path.index(marker) + len(marker) :].lstrip("/")
            if marker in ("/gateway/", "/bench/"):
                path = marker.strip("/") + "/" + path
            break
    return f"{found['name']} ({path})"


def top_frames(
    raw: Path, limit: int = 15, own_prefix: str | None = None
) -> tuple[int, list[Frame], list[Frame]]:
    """The total samples, and the `limit` functions with the most inclusive and self samples;
    with `own_prefix`, the inclusive ranking holds only functions of files under it (govgate's
    own: the server's trunk, uvicorn and the middleware stack, tops every profile otherwise)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        # the first entry is the process (with --subprocesses) or thread; functions follow
        functions = [_function(f) for f in stack.split(";") if "(" in f]
        if not functions:
            continue
        total += samples
        for name in set(functions):
            inclusive[name] += samples
        own[functions[-1]] += samples
    if not total:
        return 0, [], []

    def ranked(counts: Counter[str]) -> list[Frame]:
        return [
            Frame(name, round(100 * inclusive[name] / total, 1), round(100 * own[name] / total, 1))
            for name, _ in counts.most_common(limit)
        ]

    mine = (
        inclusive
        if own_prefix is None
        else Counter({name: n for name, n in inclusive.items() if f"({own_prefix}" in name})
    )
    return total, ranked(mine), ranked(own)


def print_top(raw: Path, limit: int = 15) -> dict[str, list[dict[str, object]]]:
    """Print the top frames of a raw profile; the same as JSON-ready lists."""
    total, by_inclusive, by_self = top_frames(raw, limit, own_prefix="gateway/")
    print(f"py-spy profile of the gateway ({total:,} samples holding the GIL; raw: {raw})")
    for title, frames in (("inclusive (govgate's functions)", by_inclusive), ("self", by_self)):
        print(f"  top {len(frames)} by {title} share (inclusive% self% function):")
        for frame in frames:
            print(f"    {frame.inclusive:5.1f} {frame.self:5.1f}  {frame.name}")
    return {
        "samples": [{"total": total}],
        "inclusive": [vars(frame) for frame in by_inclusive],
        "self": [vars(frame) for frame in by_self],
    }
