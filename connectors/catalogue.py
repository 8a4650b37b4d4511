"""The catalogue entries (资源目录) that come with the shipped department profiles: one YAML
file per profile in `profiles/catalogue/`, published by `govgate catalogue publish --shipped`
and by `govgate up --demo`."""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "profiles" / "catalogue"


def shipped_catalogue() -> list[Path]:
    return sorted(FOLDER.glob("*.yaml"))
