from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from usercenter.config import Backend, Settings

from .conftest import make_settings


@pytest.mark.parametrize(
    ("url", "backend", "driver"),
    [
        ("sqlite:///./x.db", Backend.SQLITE, "sqlite+aiosqlite"),
        ("mysql://root@db/uc", Backend.MYSQL, "mysql+asyncmy"),
        ("mariadb://root@db/uc", Backend.MYSQL, "mysql+asyncmy"),
        ("mysql+aiomysql://root@db/uc", Backend.MYSQL, "mysql+aiomysql"),
        ("postgres://u@db/uc", Backend.POSTGRESQL, "postgresql+asyncpg"),
        ("postgresql://u@db/uc", Backend.POSTGRESQL, "postgresql+asyncpg"),
    ],
)
def test_database_urls_get_the_async_driver(url: str, backend: Backend, driver: str) -> None:
    settings = make_settings(url)
    assert settings.backend is backend
    assert settings.database.drivername == driver


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nosuchdb://x", "unknown database scheme 'nosuchdb'"),
        ("not a url", "malformed database URL"),
        ("sqlite://", "SQLite needs a file path"),
        ("postgresql:///uc", "names no host"),
    ],
)
def test_bad_database_urls_are_refused_with_a_clear_message(url: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        make_settings(url)
    assert message in str(caught.value)


def test_defaults_are_the_embedded_ones(workdir: object) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.backend is Backend.SQLITE
    assert settings.redis_url is None
    assert settings.broker_url is None


def test_environment_and_dotenv_are_read(workdir: object, monkeypatch: pytest.MonkeyPatch) -> None:
    with open(".env", "w", encoding="utf-8") as env:
        env.write("USERCENTER_LOG_LEVEL=debug\nUSERCENTER_UID_WIDTH=7\n")
    monkeypatch.setenv("USERCENTER_SECRET_KEYS", "k2, k1")
    settings = Settings()
    assert settings.log_level == "DEBUG"
    assert settings.uid_width == 7
    assert [key.get_secret_value() for key in settings.secret_keys] == ["k2", "k1"]


def test_wrong_service_urls_are_refused() -> None:
    with pytest.raises(ValidationError, match="redis://"):
        make_settings("sqlite:///x.db", redis_url="http://localhost")
    with pytest.raises(ValidationError, match="amqp://"):
        make_settings("sqlite:///x.db", broker_url="redis://localhost")


PROJECT = Path(__file__).resolve().parents[1]


class TestHttpSettings:
    def test_cors_origins_are_a_comma_separated_allow_list(
        self, workdir: object, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv(
            "USERCENTER_CORS_ORIGINS", "https://h5.example.com, http://localhost:5173/"
        )
        settings = Settings(_env_file=None)
        assert settings.cors_origins == ["https://h5.example.com", "http://localhost:5173"]
        assert Settings(_env_file=None, cors_origins="*").cors_origins == ["*"]

    def test_none_by_default(self, workdir: object) -> None:
        settings = Settings(_env_file=None)
        assert settings.cors_origins == []
        assert settings.metrics_token is None
        assert settings.log_format is None

    @pytest.mark.parametrize(
        "origin", ["h5.example.com", "https://h5.example.com/app", "ftp://h5.example.com"]
    )
    def test_an_origin_with_a_path_or_no_scheme_is_refused(self, origin: str) -> None:
        with pytest.raises(ValidationError, match="is not an origin"):
            make_settings("sqlite:///x.db", cors_origins=origin)

    def test_a_short_metrics_token_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="at least 16 characters"):
            make_settings("sqlite:///x.db", metrics_token="short")


class TestEnvExample:
    def test_lists_only_real_settings_and_parses(self, workdir: object) -> None:
        path = PROJECT / ".env.example"
        names = re.findall(r"^#?\s*USERCENTER_([A-Z0-9_]+)=", path.read_text(), re.MULTILINE)
        assert len(names) > 20
        unknown = [name for name in names if name.lower() not in Settings.model_fields]
        assert unknown == []
        settings = Settings(_env_file=path)
        assert settings.backend is Backend.MYSQL
        assert settings.sms_provider.value == "aliyun"
        assert settings.cors_origins == ["https://h5.example.com", "https://admin.example.com"]
        assert settings.client_apps[0].app_type == "wechat_miniapp"


def test_trusted_proxies_are_addresses_or_networks(
    workdir: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Settings(_env_file=None).trusted_proxies == []  # none by default
    monkeypatch.setenv("USERCENTER_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,::1")
    assert [str(n) for n in Settings(_env_file=None).trusted_proxies] == [
        "127.0.0.1/32",
        "10.0.0.0/8",
        "::1/128",
    ]
    for wrong in ("<img src=x>", "10.0.0.1/8", "localhost"):
        with pytest.raises(ValidationError, match="not an IP address or network"):
            make_settings("sqlite:///x.db", trusted_proxies=wrong)


def test_a_cache_namespace_is_a_short_plain_word() -> None:
    assert make_settings("sqlite:///x.db", cache_namespace="shop-prod").cache_namespace
    for wrong in ("a b", "x" * 65, "<img>"):
        with pytest.raises(ValidationError):
            make_settings("sqlite:///x.db", cache_namespace=wrong)
