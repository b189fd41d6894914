"""Error codes of third-party login."""

from __future__ import annotations

from typing import Any

from usercenter.kit.errors import UserCenterError
from usercenter.kit.i18n import Text


class ProviderError(UserCenterError):
    """`provider` and `vendor_code` go to the logs, never to the caller."""

    code = "provider_error"

    def __init__(
        self, *, provider: str | None = None, vendor_code: str | None = None, **kwargs: Any
    ) -> None:
        self.provider = provider
        self.vendor_code = vendor_code
        super().__init__(**kwargs)


class ProviderCodeInvalid(ProviderError):
    """The code (or id_token) is wrong, expired or already used."""

    code = "provider_code_invalid"
    status = 400
    title = Text("授权码无效或已过期，请重新授权", "The authorization code is invalid or expired")
    default_field = "code"


class ProviderRejected(ProviderError):
    """The provider refused this person or app (risk control, rate limit, scope)."""

    code = "provider_rejected"
    status = 403
    title = Text("第三方平台拒绝了本次登录", "The provider refused this login")


class ProviderUnavailable(ProviderError):
    code = "provider_unavailable"
    status = 503
    title = Text("第三方平台暂不可用，请稍后重试", "The provider is unavailable; try again later")


class ProviderNotConfigured(ProviderError):
    code = "provider_not_configured"
    status = 404
    title = Text("未配置该登录方式", "This login method is not set up")
    default_field = "provider"


class ClientAppNotFound(UserCenterError):
    """No active app of ours at the provider answers to that type (and id): raised by the
    app directory (`base.AppDirectory`, the platform's client-app table)."""

    code = "client_app_not_found"
    status = 404
    title = Text("未配置该应用", "No such app is set up")
    detail_text = Text(
        "没有启用的 {app_type} 应用 {app_id}", "There is no active {app_type} app {app_id}"
    )
    default_field = "app_id"
