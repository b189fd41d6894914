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

import httpx

from usercenter.kit.log import get_logger
from usercenter.providers.base import AppCredentials, AppType, ExternalIdentity, LoginProof
from usercenter.providers.errors import (
    ProviderCodeInvalid,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
)
from usercenter.providers.vendor_http import VendorHttp, json_object

_log = get_logger(__name__)

PROVIDER = "weibo"
API_BASE = "https://api.weibo.com"
CODE_INVALID_ERRORS = frozenset({21325})
REJECTED_ERRORS = frozenset({21330, 10022, 10023, 10024})


def error_for(code: int) -> type[ProviderError]:
    if code in CODE_INVALID_ERRORS:
        return ProviderCodeInvalid
    if code in REJECTED_ERRORS:
        return ProviderRejected
    return ProviderUnavailable


class WeiboProvider:
    """Weibo; `app.extra["api_base"]` points an app at another host (a local stub),
    `app.extra["redirect_uri"]` is used when the proof carries none."""

    app_types: tuple[AppType, ...] = (AppType.WEIBO,)

    def __init__(
        self,
        http: httpx.AsyncClient | None = None,
        *,
        api_base: str = API_BASE,
        timeout: float = 5.0,
        retries: int = 1,
        backoff: float = 0.2,
    ) -> None:
        self._http = VendorHttp(PROVIDER, http, timeout=timeout, retries=retries, backoff=backoff)
        self._api_base = api_base

    def _base(self, app: AppCredentials) -> str:
        return str(app.extra.get("api_base") or self._api_base).rstrip("/")

    def _answer(
        self, app: AppCredentials, response: httpx.Response, *, operation: str
    ) -> dict[str, Any]:
        data = json_object(response)
        if data is None:
            self._http.fail(
                ProviderUnavailable,
                app_id=app.app_id,
                operation=operation,
                vendor_code=f"HTTP {response.status_code} without JSON",
            )
        if "error_code" in data or "error" in data:
            raw = data.get("error_code")
            try:
                code = int(raw) if raw is not None else -1
            except (TypeError, ValueError):
                code = -1
            self._http.fail(
                error_for(code),
                app_id=app.app_id,
                operation=operation,
                vendor_code=str(raw if raw is not None else data.get("error")),
                message=data.get("error_description") or data.get("error"),
            )
        return data

    async def exchange(self, app: AppCredentials, proof: LoginProof) -> ExternalIdentity:
        """The person behind an authorization code; raises ProviderCodeInvalid,
        ProviderRejected or ProviderUnavailable."""
        if not proof.code:
            raise ProviderCodeInvalid(provider=PROVIDER, vendor_code="missing code")
        redirect_uri = proof.redirect_uri or app.extra.get("redirect_uri")
        if not redirect_uri:
            raise ProviderCodeInvalid(
                provider=PROVIDER, vendor_code="missing redirect_uri", field="redirect_uri"
            )
        operation = "access_token"
        response = await self._http.request(
            "POST",
            self._base(app) + "/oauth2/access_token",
            app_id=app.app_id,
            operation=operation,
            data={
                "client_id": app.app_id,
                "client_secret": app.secret,
                "grant_type": "authorization_code",
                "code": proof.code,
                "redirect_uri": str(redirect_uri),
            },
        )
        data = self._answer(app, response, operation=operation)
        access_token = data.get("access_token")
        uid = data.get("uid")
        if not isinstance(access_token, str) or not access_token or uid in (None, ""):
            self._http.fail(
                ProviderUnavailable,
                app_id=app.app_id,
                operation=operation,
                vendor_code="answer without access_token or uid",
            )
        identity = ExternalIdentity(app_type=app.app_type, app_id=app.app_id, subject=str(uid))
        if app.extra.get("fetch_profile", True) is False:
            return identity
        return await self._with_profile(app, identity, access_token)

    async def _with_profile(
        self, app: AppCredentials, identity: ExternalIdentity, access_token: str
    ) -> ExternalIdentity:
        try:
            response = await self._http.request(
                "GET",
                self._base(app) + "/2/users/show.json",
                app_id=app.app_id,
                operation="users_show",
                params={"access_token": access_token, "uid": identity.subject},
            )
            info = self._answer(app, response, operation="users_show")
        except ProviderError:
            return identity
        nickname = info.get("screen_name")
        avatar = info.get("avatar_large") or info.get("profile_image_url")
        return ExternalIdentity(
            app_type=identity.app_type,
            app_id=identity.app_id,
            subject=identity.subject,
            nickname=nickname if isinstance(nickname, str) and nickname else None,
            avatar_url=avatar if isinstance(avatar, str) and avatar else None,
        )

    def authorize_url(self, app: AppCredentials, *, redirect_uri: str, state: str) -> str:
        """Weibo's authorization page."""
        base = str(app.extra.get("open_base") or self._base(app)).rstrip("/")
        query = urlencode(
            {
                "client_id": app.app_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "state": state,
            }
        )
        return f"{base}/oauth2/authorize?{query}"
