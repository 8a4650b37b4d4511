"""Settings: one frozen object per process, from `GOVGATE_*` variables and an optional TOML file.

Variables map onto the nested models with a single underscore after the section name:
`GOVGATE_DATABASE_URL` → `database.url`, `GOVGATE_KAFKA_BOOTSTRAP` → `kafka.bootstrap`,
`GOVGATE_KAFKA_TOPIC_PREFIX` → `kafka.topic_prefix`. `GOVGATE_CONFIG` names a TOML file whose
tables are the same sections (`[database]`, `[kafka]`, …); variables win over the file.
"""

from __future__ import annotations

import ipaddress
import os
import urllib.parse
from pathlib import Path
from typing import Any, Literal, TypeAlias, get_args

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

# The algorithms an operator may allow, by the names they travel under: RFC 9421 signature
# algorithms (govgate's own `sm2-sm3` among them) and RFC 9530 digest algorithms (and `sm3`).
# gateway.members.keys.Algorithm and gateway.signatures.digests.DigestAlgorithm are the same
# names (tests/gateway/test_settings.py holds them equal); `sm2` is read as `sm2-sm3`.
SignatureAlgorithmName: TypeAlias = Literal["ed25519", "ecdsa-p256-sha256", "sm2-sm3"]
DigestAlgorithmName: TypeAlias = Literal["sha-256", "sha-512", "sm3"]
SIGNATURE_ALGORITHM_NAMES: tuple[SignatureAlgorithmName, ...] = get_args(SignatureAlgorithmName)
DIGEST_ALGORITHM_NAMES: tuple[DigestAlgorithmName, ...] = get_args(DigestAlgorithmName)
_SIGNING, _DIGESTS = frozenset(SIGNATURE_ALGORITHM_NAMES), frozenset(DIGEST_ALGORITHM_NAMES)
_ALIASES = {"sm2": "sm2-sm3"}


def _unalias(value: Any) -> Any:
    if isinstance(value, str):
        return _ALIASES.get(value.strip().lower(), value.strip().lower())
    if isinstance(value, list | tuple):
        return type(value)(_unalias(item) for item in value)
    return value


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
    fetch_max_wait_ms: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="how long a consumer's fetch may wait for data (aiokafka: 500). Apache Kafka "
        "answers a waiting fetch when data arrives; tansu looks again only every half of this, "
        "which feeds (long-poll, SSE) and subscribers would add to their latency",
    )
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


class FilesSettings(_Section):
    """The file store (文件存储) for materials' contents, content-addressed by SHA-256 or SM3.

    A directory under the data dir by default; S3-compatible object storage (MinIO, Ceph RGW,
    SeaweedFS, a cloud's) when `s3_endpoint` is set: `GOVGATE_FILES_S3_ENDPOINT`,
    `GOVGATE_FILES_S3_BUCKET`, `GOVGATE_FILES_S3_ACCESS_KEY`, `GOVGATE_FILES_S3_SECRET_KEY`.
    """

    dir: Path | None = Field(
        default=None, description="folder of the directory backend; default DATA_DIR/files"
    )
    s3_endpoint: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/]+(/.*)?$",
        description="S3 API endpoint URL (e.g. http://minio:9000); set, it selects the S3 backend",
    )
    s3_bucket: str = Field(default="govgate-files", pattern=r"^[a-z0-9][a-z0-9.-]{2,62}$")
    s3_prefix: str = Field(
        default="", pattern=r"^([A-Za-z0-9._-]+/)*$", description="key prefix, e.g. 'county/'"
    )
    s3_region: str = "us-east-1"
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    s3_addressing_style: Literal["path", "virtual"] = Field(
        default="path", description="path-style URLs, as most non-AWS servers want"
    )
    s3_create_bucket: bool = Field(
        default=False, description="create the bucket at start when it does not exist"
    )
    s3_part_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=5 * 1024 * 1024,
        le=512 * 1024 * 1024,
        description="multipart upload part size: the most a put holds in memory",
    )
    timeout_s: float = Field(default=30, gt=0, le=600, description="per object-store request")
    max_bytes: int = Field(
        default=100 * 1024 * 1024,
        ge=1,
        description="largest file a connector copies in; a larger one is a dead letter",
    )
    hash: Literal["sha-256", "sm3"] = Field(
        default="sha-256",
        description="content address of files stored from now on: SHA-256 (sha256/ab/…), or "
        "SM3 (国密, sm3/ab/…; the Material record then carries `sm3` beside `sha256`). Files "
        "stored before keep their address and are served and checked by it",
    )


class GatewaySettings(_Section):
    """The HTTP gateway: where it listens, how it signs, audits and pages.

    `GOVGATE_GATEWAY_AUDIT_SECRET` → `gateway.audit_secret`, and so on for each field.
    """

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="processes serving the port (govgate up --workers); about one per core",
    )
    id: str = Field(
        default="govgate",
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        description="this gateway's name (audit anchors, logs)",
    )
    public_url: str | None = Field(
        default=None,
        description="the gateway's URL as members call it (scheme, host, port; no path), when "
        "a proxy in front changes the Host: request signatures cover this @authority. Unset: "
        "the Host each request arrives with",
    )
    response_key: Path | None = Field(
        default=None,
        description="PEM private key (Ed25519, P-256 or SM2) the gateway signs responses and "
        "webhooks with; default DATA_DIR/keys/gateway.private.pem, generated on first start",
    )
    response_key_alg: SignatureAlgorithmName | None = Field(
        default=None,
        description="algorithm of the response key generated on first start (ed25519, "
        "ecdsa-p256-sha256, sm2-sm3 or its alias sm2); default the first signature "
        "algorithm of `algorithms`. A key file of another algorithm is refused at start",
    )
    algorithms: tuple[SignatureAlgorithmName | DigestAlgorithmName, ...] = Field(
        default=(*SIGNATURE_ALGORITHM_NAMES, *DIGEST_ALGORITHM_NAMES),
        description="signature and Content-Digest algorithms the gateway accepts and uses: "
        "members' keys, request signatures and digests of any other are refused, and the "
        "gateway's own key must be one. The first digest listed is the one responses use when "
        'the caller states no preference. SM-only (国密): ["sm2-sm3", "sm3"]',
    )
    previous_keys: tuple[Path, ...] = Field(
        default=(),
        description="PEM public keys still published at /.well-known/govgate-keys after a "
        "roll-over, so responses signed before it keep verifying",
    )
    audit_hash: Literal["sha-256", "sm3"] = Field(
        default="sha-256",
        description="row hash of an audit chain begun now: HMAC-SHA256, or HMAC-SM3 (国密) "
        "with its key by HKDF-SM3. A chain keeps the algorithm of its first row: the gateway "
        "refuses to append to a chain of the other (AUDIT_HASH_CONFLICT), and "
        "`govgate audit verify` checks each chain with its own",
    )
    audit_secret: SecretStr | None = Field(
        default=None,
        description="HMAC secret for holder ids in the audit log (≥ 16 bytes); default "
        "$GOVGATE_AUDIT_SECRET, else DATA_DIR/keys/audit.secret, generated on first start",
    )
    max_signature_age_s: float = Field(default=300, gt=0, le=3600)
    member_cache_s: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="seconds a member's keys and grants are remembered per worker; a change "
        "made by another process (govgate members revoke) takes effect within it (0: never)",
    )
    clock_skew_s: float = Field(default=30, ge=0, le=600)
    page_size: int = Field(default=50, ge=1, le=100, description="default page size")
    max_page_size: int = Field(default=100, ge=1, le=500)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024, le=16 * 1024 * 1024)
    max_header_bytes: int = Field(
        default=32 * 1024,
        ge=4096,
        le=1024 * 1024,
        description="largest request head (request line and header fields); a larger one is "
        "answered 431 and its connection closed before more is read",
    )
    header_timeout_s: float = Field(
        default=10,
        gt=0,
        le=300,
        description="a request head must be complete this long after the connection opened "
        "or the previous response ended; else the connection is closed (408)",
    )
    keep_alive_s: int = Field(
        default=5, ge=1, le=300, description="idle keep-alive connections close after this"
    )
    max_connections: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="open connections per gateway process; one more is answered 503 and "
        "closed unread (with max_header_bytes, this bounds the memory heads can take)",
    )
    audit_anchor_interval_s: float = Field(
        default=60,
        ge=0,
        description="sign the audit chain head and put it on audit-anchors this often (0: "
        "never); `govgate audit verify` then requires rows older than twice this (+ 60 s) to "
        "be covered by a signed anchor",
    )
    audit_anchor_file: Path | None = Field(
        default=None,
        description="also append each signed anchor to this JSON-lines file (0600, fsynced): "
        "put it where the database's writers cannot write (another disk or host, chattr +a); "
        "`govgate audit verify --anchors FILE` reads it",
    )
    audit_refusals_interval_s: float = Field(
        default=60,
        gt=0,
        le=3600,
        description="refusals of callers that could not be identified (unsigned, bad "
        "signature) are tallied into one audit row per code this often, not one row each",
    )
    max_streams_per_member: int = Field(
        default=4,
        ge=1,
        le=1000,
        description="open SSE feed streams a member may hold per gateway process; one more is "
        "refused 429 TOO_MANY_STREAMS with Retry-After",
    )
    max_streams: int = Field(
        default=200,
        ge=1,
        le=100_000,
        description="open SSE feed streams per gateway process, all members together",
    )
    materialize: bool = Field(
        default=True, description="run the materializer (log → lookup store) in this process"
    )

    _aliases = field_validator("response_key_alg", "algorithms", mode="before")(_unalias)

    @model_validator(mode="after")
    def _algorithms_usable(self) -> GatewaySettings:
        if len(set(self.algorithms)) != len(self.algorithms):
            raise ValueError("gateway.algorithms names an algorithm twice")
        if not self.signature_algorithms:
            raise ValueError("gateway.algorithms must allow a signature algorithm (sm2-sm3, …)")
        if not self.digest_algorithms:
            raise ValueError("gateway.algorithms must allow a digest algorithm (sm3, sha-256, …)")
        if self.response_key_alg is not None and self.response_key_alg not in self.algorithms:
            raise ValueError(
                f"gateway.response_key_alg {self.response_key_alg} is not in gateway.algorithms"
            )
        return self

    @property
    def signature_algorithms(self) -> tuple[SignatureAlgorithmName, ...]:
        """The allowed signature algorithms, in the operator's order."""
        return tuple(a for a in self.algorithms if a in _SIGNING)

    @property
    def digest_algorithms(self) -> tuple[DigestAlgorithmName, ...]:
        """The allowed digest algorithms, in the operator's order (the first is the default)."""
        return tuple(a for a in self.algorithms if a in _DIGESTS)

    @property
    def generated_key_alg(self) -> SignatureAlgorithmName:
        """The algorithm of a response key generated on first start."""
        return self.response_key_alg or self.signature_algorithms[0]

    @field_validator("public_url")
    @classmethod
    def _origin(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urllib.parse.urlsplit(value.strip())
        try:
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError as exc:
            raise ValueError(f"public_url: {value!r}: {exc}") from exc
        if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
            raise ValueError(f"public_url: {value!r} is not an http(s)://host[:port] URL")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"public_url: {value!r} must have no path, query or fragment")
        return f"{parts.scheme}://{parts.netloc.lower()}"

    @property
    def local_url(self) -> str:
        """Where this machine reaches the gateway `govgate up` starts with these settings."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}"


class WebhooksSettings(_Section):
    """Signed webhooks for feed subscribers (`GOVGATE_WEBHOOKS_*`).

    `allowed_hosts` is empty by default: the gateway posts to no host until the operator names
    the receivers it may reach (exact host names or IP literals, or `*.suffix`; `*` allows
    any). A gateway that posts wherever a member asks is an SSRF hole into the network it sits
    in. The addresses those hosts resolve to must moreover be public, or inside
    `allowed_networks`: e-supervision receivers normally sit on the same internal network
    (政务外网), so the operator names that range on purpose, and loopback, link-local (cloud
    metadata) and every other private range stay refused. Both are checked at every delivery.
    """

    deliver: bool = Field(default=True, description="run the deliverer in this process")
    allowed_hosts: tuple[str, ...] = Field(
        default=(), description="target hosts subscriptions may name; empty: none"
    )
    allowed_networks: tuple[str, ...] = Field(
        default=(),
        description="CIDRs of non-public addresses targets may resolve to (e.g. the 政务外网 "
        "range, or 127.0.0.0/8 for a local receiver); empty: public addresses only",
    )
    batch_size: int = Field(default=20, ge=1, le=500, description="events per POST at most")
    timeout_s: float = Field(default=10, gt=0, le=120, description="per delivery attempt")
    backoff_base_s: float = Field(default=1, gt=0, description="first retry delay bound")
    backoff_cap_s: float = Field(default=300, gt=0, description="largest retry delay bound")
    max_failures: int = Field(
        default=10, ge=1, description="consecutive failures after which a subscription pauses"
    )
    lease_s: float = Field(
        default=60, gt=0, description="how long a worker holds a subscription between renewals"
    )
    poll_interval_s: float = Field(
        default=1, gt=0, le=60, description="how often due subscriptions are looked for"
    )
    max_per_member: int = Field(default=20, ge=1, le=1000)
    max_concurrent: int = Field(
        default=50, ge=1, le=10_000, description="subscriptions delivered at once per process"
    )

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            try:
                ipaddress.ip_network(value.strip(), strict=False)
            except ValueError as exc:
                raise ValueError(f"allowed_networks: {value!r} is not a CIDR: {exc}") from exc
        return values

    @model_validator(mode="after")
    def _lease_outlasts_attempt(self) -> WebhooksSettings:
        if self.lease_s < 2 * self.timeout_s:
            raise ValueError("webhooks.lease_s must be at least twice webhooks.timeout_s")
        return self


class SupervisionSettings(_Section):
    """The reference e-supervision subscriber (`govgate supervise`).

    `GOVGATE_SUPERVISION_YELLOW_SHARE` → `supervision.yellow_share`, and so on for each field.
    """

    state_url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL of the subscriber's own state (open cases, cards, its "
        "position); default SQLite at DATA_DIR/supervise.db",
    )
    group: str = Field(
        default="govgate-supervise",
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        description="consumer group it reads case-events with",
    )
    yellow_share: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="yellow card (黄牌) once elapsed days reach this share of the promised limit",
    )
    interval_s: float = Field(
        default=30, gt=0, description="how often open cases are checked against the clock"
    )
    notices_dir: Path | None = Field(
        default=None,
        description="folder of operator holiday notices (<year>.json) for years chinese-calendar "
        "does not know yet, looked at again before each sweep; default DATA_DIR/holiday-notices",
    )


class NoticesSettings(_Section):
    """双告知 routing (`govgate notices run`): new business licences to the departments that
    must follow them up, and the claim clock. `GOVGATE_NOTICES_RULES` → `notices.rules`, …"""

    rules: Path | None = Field(
        default=None,
        description="routing rules (YAML); default the shipped gateway/notices/routing.yaml",
    )
    state_url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL of its own state (licences routed, notice clocks, cards, "
        "positions); default SQLite at DATA_DIR/notices.db",
    )
    interval_s: float = Field(
        default=30, gt=0, description="how often unclaimed notices are checked against the clock"
    )


class GovernanceSettings(_Section):
    """The catalogue (资源目录), sharing applications (共享申请) and grants, and the review clocks
    (`govgate governance run`). `GOVGATE_GOVERNANCE_BUREAU_CODE` → `governance.bureau_code`, …

    The data bureau (大数据局) is a department like the others: the members whose department code
    is `bureau_code` check applications for compliance and may suspend grants.
    """

    bureau_code: str = Field(
        default="DSJJ",
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        description="department code of the data bureau (大数据局)",
    )
    bureau_name: str = Field(default="大数据局", description="its name, on supervision cards")
    region_code: str = Field(
        default="330800",
        pattern=r"^[0-9]{6}$",
        description="行政区划代码 the review clocks' cards are filed under",
    )
    bureau_days: int = Field(default=2, ge=1, description="bureau check (合规审查), working days")
    provider_days: int = Field(
        default=5, ge=1, description="provider decision when the data is on the platform"
    )
    provider_days_unpublished: int = Field(
        default=10, ge=1, description="provider decision when the data must first be published"
    )
    max_days: int = Field(default=366, ge=1, description="longest grant an application may ask")
    state_url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL of the review clocks' state (open steps, cards, position); "
        "default SQLite at DATA_DIR/governance.db",
    )
    interval_s: float = Field(
        default=30, gt=0, description="how often open steps and grant expiries are checked"
    )


ConsoleRole: TypeAlias = Literal["operator", "officer", "supervisor", "auditor", "readonly"]


class ConsoleSettings(_Section):
    """The web console (管理控制台) at /console: people's sessions, lockout, single sign-on.

    `GOVGATE_CONSOLE_SESSION_IDLE_S` → `console.session_idle_s`, and so on for each field.
    Single sign-on (OpenID Connect, e.g. the province's 统一身份认证) is on when `oidc_issuer`,
    `oidc_client_id` and `oidc_client_secret` are set; local accounts keep working beside it.
    """

    enabled: bool = Field(default=True, description="serve the console at /console")
    session_idle_s: int = Field(
        default=30 * 60, ge=60, le=24 * 3600, description="a session unused this long ends"
    )
    session_absolute_s: int = Field(
        default=12 * 3600,
        ge=300,
        le=7 * 24 * 3600,
        description="a session ends this long after sign-in, however busy",
    )
    lockout_failures: int = Field(
        default=5, ge=1, le=100, description="wrong passwords in a row that lock an account"
    )
    lockout_s: int = Field(
        default=15 * 60, ge=1, le=24 * 3600, description="how long a locked account stays locked"
    )
    secure_cookies: bool | None = Field(
        default=None,
        description="mark the session cookie Secure; default: when gateway.public_url is https",
    )
    roles_seeing_ids: tuple[ConsoleRole, ...] = Field(
        default=(),
        description="roles shown personal ids (身份证号) in clear; every other role sees them "
        "masked (330802********1234). Empty: no one",
    )
    password_min_length: int = Field(default=12, ge=8, le=128)
    max_concurrent_hashes: int = Field(
        default=2,
        ge=1,
        le=64,
        description="password checks running at once per process (argon2id takes 64 MiB "
        "each): sign-in attempts beyond wait, so a flood of them costs bounded memory",
    )
    oidc_issuer: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s]+$",
        description="OpenID Connect issuer URL (its /.well-known/openid-configuration is read)",
    )
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scopes: str = "openid profile"
    oidc_role_claim: str = Field(
        default="govgate_role", description="id-token claim that carries the person's role"
    )
    oidc_role_map: dict[str, ConsoleRole] = Field(
        default_factory=dict,
        description='claim value → console role (e.g. {"dsj-yw" = "operator"}); a value '
        "not listed is refused. Empty: the claim must name a role itself",
    )
    oidc_department_claim: str = Field(
        default="department_code", description="claim with an officer's department code"
    )
    oidc_label: str = Field(default="统一身份认证登录", description="the sign-in button's text")

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id and self.oidc_client_secret)


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
    webhooks: WebhooksSettings = WebhooksSettings()
    supervision: SupervisionSettings = SupervisionSettings()
    notices: NoticesSettings = NoticesSettings()
    governance: GovernanceSettings = GovernanceSettings()
    files: FilesSettings = FilesSettings()
    console: ConsoleSettings = ConsoleSettings()

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
    def files_dir(self) -> Path:
        """The directory backend's folder: `files.dir`, or DATA_DIR/files."""
        return self.files.dir or self.data_dir / "files"

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
