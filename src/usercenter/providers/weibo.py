"""Weibo OAuth2: the code becomes `{access_token, uid, expires_in}`, and the profile
(`/2/users/show.json`) a screen name and an avatar.

Errors come as `{"error": "invalid_grant", "error_code": 21325, ...}` (HTTP 400). 21325 (the
code is wrong, expired or used) is ProviderCodeInvalid; 21330 (the person refused) and the
rate limits 10022-10024 are ProviderRejected; every other code, a timeout, a network error or
an HTTP 5xx is ProviderUnavailable (the last three after `retries` more tries). The profile is
a nicety: when it fails the login still succeeds, without a nickname.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from usercenter.providers.base import AppCredentials, AppType, ExternalIdentity, LoginProof
from usercenter.providers.oauth_json import (
    UNREADABLE,
    JsonOAuthProvider,
    JsonVendorApi,
    ProfileCall,
    VendorFault,
    code_and_redirect_uri,
    vendor_number,
    with_profile,
)

PROVIDER = "weibo"
API_BASE = "https://api.weibo.com"
CODE_INVALID_ERRORS = frozenset({21325})
REJECTED_ERRORS = frozenset({21330, 10022, 10023, 10024})


class _WeiboApi(JsonVendorApi):
    """api.weibo.com: JSON answers with `error_code` and `error` on failure."""

    provider = PROVIDER
    code_invalid = CODE_INVALID_ERRORS
    rejected = REJECTED_ERRORS

    def fault(self, data: dict[str, Any]) -> VendorFault | None:
        if "error_code" not in data and "error" not in data:
            return None
        raw = data.get("error_code")
        return VendorFault(
            vendor_number(raw) if raw is not None else UNREADABLE,
            str(raw if raw is not None else data.get("error")),
            data.get("error_description") or data.get("error"),
        )


class WeiboProvider(JsonOAuthProvider):
    """Weibo; `app.extra["api_base"]` points an app at another host (a local stub),
    `app.extra["redirect_uri"]` is used when the proof carries none."""

    app_types: tuple[AppType, ...] = (AppType.WEIBO,)
    api_class = _WeiboApi
    default_api_base = API_BASE

    async def exchange(self, app: AppCredentials, proof: LoginProof) -> ExternalIdentity:
        """The person behind an authorization code; raises ProviderCodeInvalid,
        ProviderRejected or ProviderUnavailable."""
        code, redirect_uri = code_and_redirect_uri(PROVIDER, app, proof)
        operation = "access_token"
        data = await self._api.call(
            app,
            "POST",
            "/oauth2/access_token",
            operation=operation,
            data={
                "client_id": app.app_id,
                "client_secret": app.secret,
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
            },
        )
        access_token = data.get("access_token")
        uid = data.get("uid")
        if not isinstance(access_token, str) or not access_token or uid in (None, ""):
            self._api.unavailable(
                app, operation=operation, vendor_code="answer without access_token or uid"
            )
        identity = ExternalIdentity(app_type=app.app_type, app_id=app.app_id, subject=str(uid))
        return await self._profiled(app, identity, access_token)

    def _profile_call(
        self, app: AppCredentials, identity: ExternalIdentity, access_token: str
    ) -> ProfileCall:
        params = {"access_token": access_token, "uid": identity.subject}
        return ProfileCall("/2/users/show.json", "users_show", params)

    def _read_profile(
        self, app: AppCredentials, identity: ExternalIdentity, info: dict[str, Any]
    ) -> ExternalIdentity:
        return with_profile(
            identity,
            nickname=info.get("screen_name"),
            avatar=info.get("avatar_large") or info.get("profile_image_url"),
        )

    def authorize_url(self, app: AppCredentials, *, redirect_uri: str, state: str) -> str:
        """Weibo's authorization page."""
        base = str(app.extra.get("open_base") or self._api.base(app)).rstrip("/")
        query = urlencode(
            {
                "client_id": app.app_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "state": state,
            }
        )
        return f"{base}/oauth2/authorize?{query}"
