"""The one settings object. Nothing else in the service reads the environment."""

from __future__ import annotations

import re
from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError


class Backend(StrEnum):
    SQLITE = "sqlite"
    MYSQL = "mysql"
    POSTGRESQL = "postgresql"


# Scheme a person may write -> (backend, async driver URL scheme).
_DATABASE_SCHEMES: dict[str, tuple[Backend, str]] = {
    "sqlite": (Backend.SQLITE, "sqlite+aiosqlite"),
    "sqlite+aiosqlite": (Backend.SQLITE, "sqlite+aiosqlite"),
    "mysql": (Backend.MYSQL, "mysql+asyncmy"),
    "mysql+asyncmy": (Backend.MYSQL, "mysql+asyncmy"),
    "mysql+aiomysql": (Backend.MYSQL, "mysql+aiomysql"),
    "mariadb": (Backend.MYSQL, "mysql+asyncmy"),
    "mariadb+asyncmy": (Backend.MYSQL, "mysql+asyncmy"),
    "mariadb+aiomysql": (Backend.MYSQL, "mysql+aiomysql"),
    "postgres": (Backend.POSTGRESQL, "postgresql+asyncpg"),
    "postgresql": (Backend.POSTGRESQL, "postgresql+asyncpg"),
    "postgresql+asyncpg": (Backend.POSTGRESQL, "postgresql+asyncpg"),
}


def normalize_database_url(raw: str) -> URL:
    """Parse a database URL and swap in the async driver; raise ValueError in one clear line."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ValueError(f"malformed database URL {raw!r}") from None
    known = _DATABASE_SCHEMES.get(url.drivername)
    if known is None:
        names = "sqlite, mysql, mariadb, postgresql"
        raise ValueError(f"unknown database scheme {url.drivername!r} (use one of: {names})")
    _, driver = known
    url = url.set(drivername=driver)
    if known[0] is Backend.SQLITE:
        if not url.database or url.database == ":memory:":
            raise ValueError("SQLite needs a file path (sqlite:///path/to/usercenter.db)")
    elif not url.host:
        raise ValueError(f"database URL {raw!r} names no host")
    return url


def backend_of(url: URL) -> Backend:
    return _DATABASE_SCHEMES[url.drivername][0]


class SmsProvider(StrEnum):
    CONSOLE = "console"
    ALIYUN = "aliyun"
    TENCENT = "tencent"


class VerificationMode(StrEnum):
    """Who decides a real-name verification: staff, the ID check vendor, or the vendor first
    and staff where it finds no match."""

    STAFF = "staff"
    VENDOR = "vendor"
    VENDOR_THEN_STAFF = "vendor_then_staff"


class MailProvider(StrEnum):
    CONSOLE = "console"
    SMTP = "smtp"


class TokenAlgorithm(StrEnum):
    ES256 = "ES256"
    RS256 = "RS256"
    EDDSA = "EdDSA"


class ClientAppSetting(BaseModel):
    """One app at a login provider, as USERCENTER_CLIENT_APPS lists it (a JSON array)."""

    app_type: str = Field(
        description="wechat_miniapp, wechat_official, wechat_app, wechat_web, "
        "qq, weibo, alipay or apple"
    )
    app_id: str = Field(min_length=1, max_length=128)
    secret: SecretStr = Field(default=SecretStr(""))
    name: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)
    is_active: bool = True


_ORIGIN = re.compile(r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?/?")


class LogFormat(StrEnum):
    JSON = "json"
    CONSOLE = "console"


class ProfileSettings(BaseSettings):
    """The profile module's knobs (part of `Settings`, kept apart so each class stays short)."""

    # Real-name verification (the vendor: Tencent Cloud FaceID, signed with tencent_secret_*)
    profile_verification_mode: VerificationMode = VerificationMode.STAFF
    faceid_endpoint: str = "https://faceid.tencentcloudapi.com/"
    verification_vendor_timeout_seconds: float = Field(default=5.0, gt=0)

    # Profile: addresses
    profile_address_limit: int = Field(
        default=20, ge=1, le=1000, description="Live delivery addresses a user may keep"
    )
    # Profile: payment password
    profile_payment_password_required: bool = Field(
        default=False,
        description="Every user needs a payment ticket for transfers, withdrawals and payout "
        "account changes (false: only users who have set a payment password)",
    )
    profile_payment_password_max_failures: int = Field(
        default=5, ge=1, description="Wrong payment passwords in a row before it locks"
    )
    profile_payment_password_lock_seconds: int = Field(
        default=86_400, ge=1, description="How long a locked payment password stays locked"
    )
    profile_payment_ticket_ttl_seconds: int = Field(
        default=300, ge=10, le=3600, description="How long a payment ticket may be spent"
    )
    # Profile: consents (PIPL)
    profile_privacy_policy_version: str = Field(
        default="1",
        min_length=1,
        max_length=32,
        description="The privacy policy in force: a login answers that a user who has not "
        "accepted this version must (consents_required)",
    )
    profile_terms_version: str = Field(
        default="1",
        min_length=1,
        max_length=32,
        description="The terms of service in force, as the privacy policy's version",
    )


class Settings(ProfileSettings):
    """Every knob of the service; set as USERCENTER_<NAME> or in a `.env` file."""

    model_config = SettingsConfigDict(
        env_prefix="USERCENTER_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        default="sqlite:///./usercenter.db",
        description="sqlite:///file.db, mysql://user:pw@host/db (MariaDB too) "
        "or postgresql://user:pw@host/db",
    )
    database_pool_size: int = Field(
        default=20,
        ge=1,
        le=200,
        description="Connections kept per process; opened when first needed, then reused",
    )
    database_max_overflow: int = Field(
        default=0,
        ge=0,
        le=200,
        description="Extra connections in a burst. Each is closed as soon as it is returned, "
        "so a load that keeps going past the pool opens and closes them without pause (on "
        "PostgreSQL a backend process each): better a pool as large as the load needs",
    )
    database_pool_timeout: float = Field(default=10.0, gt=0)
    database_echo: bool = False
    database_pool_pre_ping: bool = Field(
        default=False,
        description="Test each connection when it leaves the pool (a round trip each time); "
        "off: connections are recycled after 5 minutes and a dead one fails one request",
    )
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=0)

    redis_url: str | None = Field(default=None, description="redis://host:6379/0; none: in-process")
    broker_url: str | None = Field(default=None, description="amqp://user:pw@host:5672/vhost")
    events_enabled: bool = Field(
        default=True,
        description="Write an event with every change other services react to (the outbox)",
    )
    events_relay: bool = Field(
        default=True,
        description="Run the relay in `serve` (one process holds it at a time); false: "
        "run `usercenter relay` apart",
    )
    events_exchange: str = Field(
        default="usercenter.events",
        min_length=1,
        max_length=127,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="The durable topic exchange events are published to",
    )
    events_source: str = Field(
        default="/usercenter",
        min_length=1,
        max_length=200,
        description="The CloudEvents `source` of every event (a URI reference)",
    )
    events_relay_lease_seconds: float = Field(
        default=5.0, ge=1, le=300, description="How long a silent relay keeps its lease"
    )
    events_relay_poll_seconds: float = Field(
        default=0.2, gt=0, le=60, description="How often an idle relay looks for new events"
    )
    events_relay_batch: int = Field(default=500, ge=1, le=10_000)
    events_retention_days: float = Field(
        default=7.0, gt=0, description="Published events older than this are deleted"
    )
    events_retention_sweep_seconds: float = Field(
        default=300.0, gt=0, description="How often the relay deletes old events"
    )
    cache_namespace: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Prefix of this deployment's Redis keys; none: derived from the database "
        "URL, so two databases sharing one Redis never read each other's entries",
    )

    secret_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Field-encryption keys as comma-separated `kid:base64-of-32-bytes`, newest "
        "first; none: generated into keys_dir on first start (SQLite only: required on a server "
        "database)",
    )
    blind_index_key: SecretStr | None = Field(
        default=None,
        description="base64 of 32 bytes for the HMAC blind index; none: generated into keys_dir "
        "(SQLite only: required on a server database)",
    )
    keys_dir: Path = Field(default=Path("keys"), description="Where generated key files are kept")

    # Passwords (argon2id, OWASP: m=19 MiB, t=2, p=1)
    password_memory_kib: int = Field(default=19_456, ge=8_192)
    password_time_cost: int = Field(default=2, ge=1)
    password_parallelism: int = Field(default=1, ge=1)
    password_min_length: int = Field(default=8, ge=6)
    password_hash_concurrency: int | None = Field(
        default=None,
        ge=1,
        description="Password hashes one process runs at once; none: the cores it may use "
        "(serve --workers N sets cores / N)",
    )

    # Registration and display uids
    registration_open: bool = True
    uid_default_province: str = Field(default="GD", min_length=2, max_length=2)

    # SMS codes
    sms_provider: SmsProvider = SmsProvider.CONSOLE
    sms_code_ttl_seconds: int = Field(default=300, ge=30)
    sms_code_max_attempts: int = Field(default=5, ge=1)
    sms_resend_interval_seconds: int = Field(default=60, ge=0)
    sms_daily_limit_per_phone: int = Field(default=10, ge=1)
    sms_daily_limit_per_address: int = Field(default=50, ge=1)
    sms_captcha_after_per_address: int = Field(
        default=5, ge=0, description="Sends per address per day before a captcha is demanded"
    )
    sms_timeout_seconds: float = Field(default=5.0, gt=0)
    aliyun_access_key_id: str | None = None
    aliyun_access_key_secret: SecretStr | None = None
    aliyun_sms_sign_name: str | None = None
    aliyun_sms_template_code: str | None = None
    aliyun_sms_endpoint: str = "https://dysmsapi.aliyuncs.com/"
    tencent_secret_id: str | None = None
    tencent_secret_key: SecretStr | None = None
    tencent_sms_sdk_app_id: str | None = None
    tencent_sms_sign_name: str | None = None
    tencent_sms_template_id: str | None = None
    tencent_sms_region: str = "ap-guangzhou"
    tencent_sms_endpoint: str = "https://sms.tencentcloudapi.com/"

    # E-mail
    mail_provider: MailProvider = MailProvider.CONSOLE
    mail_from: str = "usercenter@localhost"
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_use_tls: bool = False
    mail_timeout_seconds: float = Field(default=10.0, gt=0)

    # Brute force
    login_max_failures: int = Field(default=5, ge=1)
    login_failure_window_seconds: int = Field(default=3600, ge=60)
    login_lock_seconds: int = Field(default=900, ge=1)
    login_captcha_after_address_failures: int = Field(default=10, ge=1)
    trusted_proxies: Annotated[list[IPv4Network | IPv6Network], NoDecode] = Field(
        default_factory=list,
        description="Proxies whose X-Forwarded-For is believed, as comma-separated addresses "
        "or networks (10.0.0.0/8,::1); none: the peer's own address is the client's",
    )

    # Third-party login
    client_apps: list[ClientAppSetting] = Field(
        default_factory=list,
        description="Apps at login providers, seeded into the client_apps table at start",
    )
    oauth_state_ttl_seconds: int = Field(default=600, ge=60)

    # Tokens and sessions
    token_algorithm: TokenAlgorithm = TokenAlgorithm.ES256
    token_issuer: str = "usercenter"
    token_audience: str = "usercenter"
    access_token_ttl_seconds: int = Field(default=900, ge=60)
    refresh_token_ttl_seconds: int = Field(default=30 * 86400, ge=300)
    refresh_reuse_grace_seconds: float = Field(default=10.0, ge=0)
    single_device_platforms: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Platforms allowing one live session, e.g. APP,MINIAPP"
    )
    introspection_clients: Annotated[dict[str, SecretStr], NoDecode] = Field(
        default_factory=dict, description="Services allowed to introspect: `id:secret,id2:secret2`"
    )

    service_clients: Annotated[dict[str, SecretStr], NoDecode] = Field(
        default_factory=dict,
        description="Services allowed to call the wallet and staff routes: `id:secret,id2:secret2`",
    )

    # Access: staff accounts and permission checks
    staff_session_ttl_seconds: int = Field(
        default=4 * 3600, ge=300, description="A staff login's lifetime (no refresh)"
    )
    staff_totp_issuer: str = Field(default="usercenter", description="Shown in authenticator apps")
    staff_totp_required: bool = Field(
        default=True,
        description="Staff log in with an authenticator code; an account without one gets a "
        "session that can only set it up. false: password alone (local demos only; warned at "
        "start)",
    )
    access_memo_seconds: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="How long a process trusts the access version it last read: a revoked "
        "grant is refused everywhere within this",
    )

    # Wallet
    wallet_batching: bool = Field(
        default=True, description="Group concurrent money calls into shared transactions"
    )
    wallet_batch_max: int = Field(default=128, ge=1, le=5000)
    wallet_batch_workers: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Transactions the ledger runs at once per process; best a divisor of "
        "wallet_system_account_shards, so each shard row stays with one worker",
    )
    wallet_system_account_shards: int = Field(
        default=8, ge=1, le=256, description="Rows each busy system account is split into"
    )
    wallet_hold_sweep_seconds: float = Field(
        default=30.0, ge=0, description="How often expired holds are released (0: never)"
    )
    stats_rollup_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How often the daily statistics of today are rolled up (0: only on demand)",
    )
    wallet_vip_grant_coins: int = Field(default=2000, ge=0)
    wallet_withdrawal_minimum: int = Field(default=100, ge=1, description="In fen")
    wallet_withdrawal_fee_bps: int = Field(default=0, ge=0, le=10_000)
    wallet_withdrawal_min_fee: int = Field(default=0, ge=0, description="In fen")
    wallet_balance_limit: int = Field(
        default=10**15,
        ge=1,
        le=10**18,
        description="The most a user or sponsor balance may hold, in the asset's smallest "
        "unit (10^15 fen: ten trillion yuan); a call that would pass it is refused",
    )
    wallet_payout_accounts_max: int = Field(
        default=10, ge=1, le=1000, description="Payout accounts a user may save"
    )

    log_level: str = "INFO"
    log_format: LogFormat | None = Field(
        default=None,
        description="json or console; none: console when the log goes to a terminal, else json",
    )

    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    uid_width: int = Field(default=6, ge=4, le=12, description="Digits after the province code")
    uid_block_size: int = Field(
        default=50, ge=1, le=10_000, description="Province uids a process reserves at a time"
    )

    # HTTP: browsers and operations
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins (https://h5.example.com) whose pages may call the API from a "
        "browser, comma-separated; `*` for any; none: no cross-origin calls",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token that /metrics and the details of /readyz require; "
        "none: /metrics is open and /readyz shows no details",
    )

    @field_validator("database_url")
    @classmethod
    def _database_url_is_known(cls, value: str) -> str:
        normalize_database_url(value)
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url_is_redis(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value or None

    @field_validator("broker_url")
    @classmethod
    def _broker_url_is_amqp(cls, value: str | None) -> str | None:
        if value and not value.startswith(("amqp://", "amqps://")):
            raise ValueError("must start with amqp:// or amqps://")
        return value or None

    @field_validator("secret_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("single_device_platforms", mode="before")
    @classmethod
    def _split_platforms(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().upper() for part in value.split(",") if part.strip()]
        return value

    @field_validator("introspection_clients", "service_clients", mode="before")
    @classmethod
    def _split_clients(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        clients: dict[str, str] = {}
        for part in filter(None, (item.strip() for item in value.split(","))):
            client_id, sep, secret = part.partition(":")
            if not sep or not client_id or not secret:
                raise ValueError("each client must be written `id:secret`")
            clients[client_id] = secret
        return clients

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins_are_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: write scheme://host[:port], no path, or *"
                )
        return [origin.rstrip("/") for origin in value]

    @field_validator("metrics_token")
    @classmethod
    def _token_is_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and 0 < len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (or unset)")
        return value if value and value.get_secret_value() else None

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_proxies(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        networks: list[IPv4Network | IPv6Network] = []
        for part in filter(None, (item.strip() for item in value.split(","))):
            try:
                networks.append(ip_network(part))
            except ValueError:
                raise ValueError(f"{part!r} is not an IP address or network") from None
        return networks

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @property
    def database(self) -> URL:
        return normalize_database_url(self.database_url)

    @property
    def backend(self) -> Backend:
        return backend_of(self.database)
