"""deploy/: no Docker engine or cluster here, so at least every file parses and the example
configuration loads into the real settings model."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gateway.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.mark.parametrize("path", sorted(DEPLOY.rglob("*.yaml")), ids=lambda p: p.name)
def test_yaml_parses(path: Path) -> None:
    documents = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    assert documents, f"{path} is empty"


def test_example_toml_loads_into_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVGATE_CONFIG", str(DEPLOY / "govgate.example.toml"))
    settings = Settings()
    assert settings.kafka.topic_prefix
    assert settings.gateway.port > 0
