"""The one interface every provider adapter implements, and the shapes it speaks."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class AppType(StrEnum):
    """Kinds of client app registered at a provider (seed 004 wdy_wechat_config.config_type)."""

    WECHAT_MINIAPP = "wechat_miniapp"
    WECHAT_OFFICIAL = "wechat_official"  # H5 inside WeChat (公众号 OAuth2)
    WECHAT_APP = "wechat_app"  # open-platform mobile app
    WECHAT_WEB = "wechat_web"  # website QR login (snsapi_login)
    QQ = "qq"
    WEIBO = "weibo"
    ALIPAY = "alipay"
    APPLE = "apple"

    @property
    def provider(self) -> str:
        """The identity family: every WeChat app type is `wechat` (they share the unionid)."""
        return "wechat" if self.value.startswith("wechat_") else self.value


@dataclass(frozen=True, slots=True)
class AppCredentials:
    """One app of ours at a provider, secrets decrypted, as the platform table holds it."""

    app_type: AppType
    app_id: str
    secret: str
    # Provider-specific: Alipay's app private key and Alipay public key (PEM), Apple's allowed
    # audiences, a redirect URI, an API base URL override (local stubs), …
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ExternalIdentity:
    """Who the provider says the person is, verified."""

    app_type: AppType
    app_id: str
    subject: str  # openid / QQ openid / Weibo uid / Alipay user_id or open_id / Apple sub
    union_id: str | None = None
    nickname: str | None = None
    avatar_url: str | None = None
    email: str | None = None  # Apple only (may be a private relay address)
    session_key: str | None = None  # WeChat mini program only: a secret, never logged or shown

    @property
    def provider(self) -> str:
        return self.app_type.provider


@dataclass(frozen=True, slots=True)
class LoginProof:
    """What the client brings: an authorization code (most), or Apple's id_token + nonce."""

    code: str | None = None
    id_token: str | None = None
    nonce: str | None = None
    redirect_uri: str | None = None


class AppDirectory(Protocol):
    """Where our apps at the providers are kept (the platform's client-app table): logins ask
    it for one by type and id, and need nothing else of it."""

    async def get(self, app_type: AppType, app_id: str | None = None) -> AppCredentials:
        """The active app of that type (the only one, when `app_id` is not given); raises
        ClientAppNotFound when there is none."""
        ...


class Provider(Protocol):
    """An adapter for one family of app types."""

    app_types: tuple[AppType, ...]

    async def exchange(self, app: AppCredentials, proof: LoginProof) -> ExternalIdentity:
        """Verify the proof with the provider; raises ProviderCodeInvalid, ProviderRejected or
        ProviderUnavailable (after a bounded retry on busy answers and timeouts)."""
        ...

    def authorize_url(self, app: AppCredentials, *, redirect_uri: str, state: str) -> str:
        """Where a web flow sends the browser (OAuth2 authorize); ValueError if not a web flow."""
        ...
