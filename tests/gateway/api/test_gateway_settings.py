"""The gateway's settings section, from GOVGATE_GATEWAY_* variables."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.api.services import load_audit_secret
from gateway.settings import Settings


def test_gateway_variables_reach_the_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVGATE_GATEWAY_AUDIT_SECRET", "s" * 20)
    monkeypatch.setenv("GOVGATE_GATEWAY_MAX_SIGNATURE_AGE_S", "60")
    monkeypatch.setenv("GOVGATE_GATEWAY_RESPONSE_KEY", "/etc/govgate/gw.pem")
    monkeypatch.setenv("GOVGATE_GATEWAY_ID", "kecheng-1")
    gateway = Settings().gateway
    assert gateway.audit_secret is not None
    assert gateway.audit_secret.get_secret_value() == "s" * 20
    assert "s" * 20 not in repr(gateway)
    assert (gateway.max_signature_age_s, gateway.id) == (60, "kecheng-1")
    assert gateway.response_key == Path("/etc/govgate/gw.pem")
    assert (gateway.page_size, gateway.max_page_size, gateway.max_body_bytes) == (50, 100, 262144)


def test_page_sizes_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVGATE_GATEWAY_PAGE_SIZE", "0")
    with pytest.raises(ValidationError):
        Settings()


def test_an_audit_secret_is_made_once_when_none_is_given(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    monkeypatch.delenv("GOVGATE_AUDIT_SECRET", raising=False)
    monkeypatch.delenv("GOVGATE_GATEWAY_AUDIT_SECRET", raising=False)
    settings = Settings(data_dir=data_dir)
    secret = load_audit_secret(settings)
    assert len(secret) >= 16 and load_audit_secret(settings) == secret
    assert oct((data_dir / "keys" / "audit.secret").stat().st_mode & 0o777) == "0o600"
    monkeypatch.setenv("GOVGATE_AUDIT_SECRET", "e" * 16)  # the CLI's variable wins over the file
    assert load_audit_secret(settings) == b"e" * 16
