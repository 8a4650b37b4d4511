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


def test_example_toml_names_only_real_settings_and_every_section() -> None:
    import tomllib

    example = tomllib.loads((DEPLOY / "govgate.example.toml").read_text(encoding="utf-8"))
    sections = {
        k for k, v in Settings.model_fields.items() if hasattr(v.annotation, "model_fields")
    }
    assert sections <= set(example), f"sections missing from the example: {sections - set(example)}"
    for section, values in example.items():
        if isinstance(values, dict):
            known = type(getattr(Settings(), section)).model_fields
            assert set(values) <= set(known), f"[{section}] {set(values) - set(known)}"
