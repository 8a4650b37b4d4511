"""`bench/spy.py` ranks a py-spy raw profile's functions by inclusive and self share."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _spy() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_spy", ROOT / "bench" / "spy.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


PROCESS = 'process 10:"python bench/lookup.py --serve gateway"'
RUN = "run (/x/site-packages/uvicorn/server.py:68)"
RAW = "\n".join(
    [
        f"{PROCESS};{RUN};_answer (/w/gateway/api/hot.py:120);"
        "verify (/w/gateway/signatures/verify.py:40) 6",
        f"{PROCESS};{RUN};_answer (/w/gateway/api/hot.py:121);"
        "view (/w/gateway/api/policy.py:150) 3",
        f"{PROCESS};run (/x/site-packages/uvicorn/server.py:70) 1",
        "not a stack line",
    ]
)


def test_top_frames_by_inclusive_and_self_share(tmp_path: Path) -> None:
    raw = tmp_path / "profile.raw"
    raw.write_text(RAW, encoding="utf-8")
    total, inclusive, own = _spy().top_frames(raw, limit=3)
    assert total == 10
    assert [(f.name, f.inclusive, f.self) for f in inclusive] == [
        ("run (uvicorn/server.py)", 100.0, 10.0),
        ("_answer (gateway/api/hot.py)", 90.0, 0.0),  # lines of one function count together
        ("verify (gateway/signatures/verify.py)", 60.0, 60.0),
    ]
    assert [f.name for f in own] == [
        "verify (gateway/signatures/verify.py)",
        "view (gateway/api/policy.py)",
        "run (uvicorn/server.py)",
    ]


def test_an_empty_profile_has_no_frames(tmp_path: Path) -> None:
    raw = tmp_path / "empty.raw"
    raw.write_text("", encoding="utf-8")
    assert _spy().top_frames(raw) == (0, [], [])


def test_the_inclusive_ranking_can_hold_govgate_functions_only(tmp_path: Path) -> None:
    raw = tmp_path / "profile.raw"
    raw.write_text(RAW, encoding="utf-8")
    _, inclusive, own = _spy().top_frames(raw, limit=5, own_prefix="gateway/")
    assert [f.name for f in inclusive] == [
        "_answer (gateway/api/hot.py)",
        "verify (gateway/signatures/verify.py)",
        "view (gateway/api/policy.py)",
    ]
    assert own[0].name == "verify (gateway/signatures/verify.py)"  # self: every function
