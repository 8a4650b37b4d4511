"""Settings: GOVGATE_* variables, an optional TOML file, variables winning over the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.settings import Settings, async_url


def test_defaults_are_the_embedded_deployment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GOVGATE_KAFKA_BOOTSTRAP", "GOVGATE_DATABASE_URL", "GOVGATE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.log_backend == "sql"
    assert settings.database_url == "sqlite+aiosqlite:///var/govgate.db"


def test_flat_variables_reach_the_nested_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVGATE_KAFKA_BOOTSTRAP", "k1:9092,k2:9092")
    monkeypatch.setenv("GOVGATE_KAFKA_TOPIC_PREFIX", "qz")
    monkeypatch.setenv("GOVGATE_DATABASE_URL", "postgresql://gw@db/govgate")
    monkeypatch.setenv("GOVGATE_GATEWAY_PORT", "9000")
    settings = Settings()
    assert settings.log_backend == "kafka"
    assert settings.kafka.bootstrap == "k1:9092,k2:9092"
    assert settings.kafka.topic_prefix == "qz"
    assert settings.database_url == "postgresql+asyncpg://gw@db/govgate"
    assert settings.gateway.port == 9000


def test_toml_file_with_variables_winning(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "govgate.toml"
    config.write_text('[kafka]\nbootstrap = "file:9092"\npartitions = 12\n[gateway]\nport = 7000\n')
    monkeypatch.setenv("GOVGATE_CONFIG", str(config))
    monkeypatch.setenv("GOVGATE_GATEWAY_PORT", "7001")
    settings = Settings()
    assert settings.kafka.bootstrap == "file:9092"
    assert settings.kafka.partitions == 12
    assert settings.gateway.port == 7001


def test_a_misspelt_key_in_the_file_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "govgate.toml"
    config.write_text("[kafka]\nbootstrp = 'x'\n")
    monkeypatch.setenv("GOVGATE_CONFIG", str(config))
    with pytest.raises(ValidationError, match="bootstrp"):
        Settings()


def test_a_missing_config_file_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVGATE_CONFIG", "/nonexistent/govgate.toml")
    with pytest.raises(FileNotFoundError, match="/nonexistent/govgate.toml"):
        Settings()


def test_settings_are_frozen() -> None:
    with pytest.raises(ValidationError):
        Settings().kafka.partitions = 3  # type: ignore[misc]


def test_async_drivers_are_filled_in() -> None:
    assert async_url("sqlite:////data/g.db") == "sqlite+aiosqlite:////data/g.db"
    assert async_url("mysql://root@h/test") == "mysql+aiomysql://root@h/test"
    assert async_url("postgresql+asyncpg://x/y") == "postgresql+asyncpg://x/y"


def test_the_file_store_settings_from_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVGATE_DATA_DIR", "/srv/govgate")
    assert Settings().files_dir == Path("/srv/govgate/files")  # the embedded default
    monkeypatch.setenv("GOVGATE_FILES_S3_ENDPOINT", "http://objects:8333")
    monkeypatch.setenv("GOVGATE_FILES_S3_BUCKET", "qz-files")
    monkeypatch.setenv("GOVGATE_FILES_S3_ACCESS_KEY", "govgate")
    monkeypatch.setenv("GOVGATE_FILES_S3_SECRET_KEY", "s3cr3t-value")
    monkeypatch.setenv("GOVGATE_FILES_MAX_BYTES", "1048576")
    files = Settings().files
    assert (files.s3_endpoint, files.s3_bucket, files.max_bytes) == (
        "http://objects:8333",
        "qz-files",
        1048576,
    )
    assert files.s3_secret_key is not None
    assert files.s3_secret_key.get_secret_value() == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(Settings())
    monkeypatch.setenv("GOVGATE_FILES_S3_BUCKET", "Not_A_Bucket")
    with pytest.raises(ValueError, match="s3_bucket"):
        Settings()


def test_sm3_for_the_audit_chain_and_the_file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """国密 (#18): SHA-256 unless set; `sm3` by variable; anything else refused by name."""
    monkeypatch.delenv("GOVGATE_CONFIG", raising=False)
    for name in ("GOVGATE_GATEWAY_AUDIT_HASH", "GOVGATE_FILES_HASH"):
        monkeypatch.delenv(name, raising=False)
    assert (Settings().gateway.audit_hash, Settings().files.hash) == ("sha-256", "sha-256")
    monkeypatch.setenv("GOVGATE_GATEWAY_AUDIT_HASH", "sm3")
    monkeypatch.setenv("GOVGATE_FILES_HASH", "sm3")
    settings = Settings()
    assert (settings.gateway.audit_hash, settings.files.hash) == ("sm3", "sm3")
    monkeypatch.setenv("GOVGATE_FILES_HASH", "md5")
    with pytest.raises(ValidationError, match="files.hash"):
        Settings()
