"""Settings: one frozen object per process, from `GOVGATE_*` variables and an optional TOML file.

Variables map onto the nested models with a single underscore after the section name:
`GOVGATE_DATABASE_URL` → `database.url`, `GOVGATE_KAFKA_BOOTSTRAP` → `kafka.bootstrap`,
`GOVGATE_KAFKA_TOPIC_PREFIX` → `kafka.topic_prefix`. `GOVGATE_CONFIG` names a TOML file whose
tables are the same sections (`[database]`, `[kafka]`, …); variables win over the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DatabaseSettings(_Section):
    """The gateway's own database: the SQL event log (when no Kafka) and, later, the stores."""

    url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL (secret: it may hold a password); default SQLite at "
        "DATA_DIR/govgate.db. postgresql://… and sqlite:///… are given their async drivers.",
    )
    pool_size: int = 10
    migrate_on_start: bool = True
    echo: bool = False


class KafkaSettings(_Section):
    """The Kafka event log; unset `bootstrap` means the SQL log in the gateway's database."""

    bootstrap: str | None = None
    topic_prefix: str = Field(default="gov", pattern=r"^[A-Za-z0-9._-]{1,64}$")
    partitions: int = Field(default=6, ge=1, le=1000)
    replication_factor: int = Field(default=1, ge=1, le=7)
    client_id: str = "govgate"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = Field(default=None, description="CA bundle for SSL / SASL_SSL")
    ssl_certfile: Path | None = Field(default=None, description="client certificate (mTLS)")
    ssl_keyfile: Path | None = Field(default=None, description="client key (mTLS)")
    retention_ms: int = Field(
        default=-1,
        ge=-1,
        description="retention of the streams that are not compacted; -1 keeps them forever, "
        "since the log is the source of truth",
    )
    linger_ms: int = Field(default=5, ge=0)
    request_timeout_ms: int = Field(default=30_000, ge=1_000)
    startup_wait_s: float = Field(
        default=120, ge=0, description="how long a starting process retries unreachable brokers"
    )
    session_timeout_ms: int = Field(
        default=10_000, ge=1_000, description="consumer-group session and rebalance timeout"
    )


class LogSettings(_Section):
    """Behaviour of the SQL log's readers."""

    poll_interval_ms: int = Field(
        default=100, ge=5, description="how often a reader in another process checks for appends"
    )


class ConnectorsSettings(_Section):
    """Where connector files (YAML: source + mapping) are found."""

    dir: Path | None = Field(default=None, description="folder of the operator's connector files")
    shipped: bool = Field(
        default=True, description="also load the shipped department profiles (connectors/profiles)"
    )


class GatewaySettings(_Section):
    """The HTTP gateway: where it listens, how it signs, audits and pages.

    `GOVGATE_GATEWAY_AUDIT_SECRET` → `gateway.audit_secret`, and so on for each field.
    """

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    id: str = Field(
        default="govgate",
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        description="this gateway's name (audit anchors, logs)",
    )
    response_key: Path | None = Field(
        default=None,
        description="PEM private key (Ed25519 or P-256) the gateway signs responses with; "
        "default DATA_DIR/keys/gateway.private.pem, generated on first start",
    )
    previous_keys: tuple[Path, ...] = Field(
        default=(),
        description="PEM public keys still published at /.well-known/govgate-keys after a "
        "roll-over, so responses signed before it keep verifying",
    )
    audit_secret: SecretStr | None = Field(
        default=None,
        description="HMAC secret for holder ids in the audit log (≥ 16 bytes); default "
        "$GOVGATE_AUDIT_SECRET, else DATA_DIR/keys/audit.secret, generated on first start",
    )
    max_signature_age_s: float = Field(default=300, gt=0, le=3600)
    clock_skew_s: float = Field(default=30, ge=0, le=600)
    page_size: int = Field(default=50, ge=1, le=100, description="default page size")
    max_page_size: int = Field(default=100, ge=1, le=500)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024, le=16 * 1024 * 1024)
    audit_anchor_interval_s: float = Field(
        default=60, ge=0, description="anchor the audit chain head on audit-anchors (0: never)"
    )
    materialize: bool = Field(
        default=True, description="run the materializer (log → lookup store) in this process"
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GOVGATE_",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        frozen=True,
        extra="ignore",  # GOVGATE_CONFIG and GOVGATE_TEST_* are not settings
    )

    data_dir: Path = Path("var")
    database: DatabaseSettings = DatabaseSettings()
    kafka: KafkaSettings = KafkaSettings()
    log: LogSettings = LogSettings()
    gateway: GatewaySettings = GatewaySettings()
    connectors: ConnectorsSettings = ConnectorsSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config := os.environ.get("GOVGATE_CONFIG"):
            if not Path(config).is_file():
                raise FileNotFoundError(f"GOVGATE_CONFIG={config!r}: no such file")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config))
        return tuple(sources)

    @property
    def log_backend(self) -> Literal["kafka", "sql"]:
        return "kafka" if self.kafka.bootstrap else "sql"

    @property
    def database_url(self) -> str:
        """The database URL with an async driver, defaulting to SQLite in the data directory."""
        given = self.database.url.get_secret_value() if self.database.url else None
        url = given or f"sqlite:///{self.data_dir / 'govgate.db'}"
        return async_url(url)


def async_url(url: str) -> str:
    """Give a plain SQLAlchemy URL its asyncio driver (asyncpg, aiosqlite, aiomysql)."""
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
        ("mysql://", "mysql+aiomysql://"),
        ("mariadb://", "mysql+aiomysql://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url
