"""QQ Connect (QQ互联): the OAuth2 code becomes an access token, the token an openid and a
unionid (`/oauth2.0/me?unionid=1`), and the profile (`/user/get_user_info`) a nickname and an
avatar.

Errors come as `{"error": 100019, "error_description": "..."}` (or, without `fmt=json`, inside
`callback( ... );`). 100019 (the code could not be exchanged) and 100020 (the code was used)
are ProviderCodeInvalid; every other code, a timeout, a network error or an HTTP 5xx is
ProviderUnavailable (the last three after `retries` more tries). The profile is a nicety: when
it fails the login still succeeds, without a nickname.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import httpx

from usercenter.kit.log import get_logger
from usercenter.providers.base import AppCredentials, AppType, ExternalIdentity, LoginProof
from usercenter.providers.errors import (
    ProviderCodeInvalid,
    ProviderError,
    ProviderUnavailable,
)
from usercenter.providers.vendor_http import VendorHttp

_log = get_logger(__name__)

PROVIDER = "qq"
API_BASE = "https://graph.qq.com"
CODE_INVALID_ERRORS = frozenset({100019, 100020})

_JSONP = re.compile(r"^\s*callback\(\s*(?P<body>.*?)\s*\);?\s*$", re.DOTALL)


def _qq_json(response: httpx.Response) -> dict[str, Any] | None:
    """The answer as a dict, JSON or JSONP (`callback( {...} );`)."""
    text = response.text
    match = _JSONP.match(text)
    try:
        data = json.loads(match["body"] if match else text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def error_for(code: int) -> type[ProviderError]:
    return ProviderCodeInvalid if code in CODE_INVALID_ERRORS else ProviderUnavailable


class QQProvider:
    """QQ Connect; `app.extra["api_base"]` points an app at another host (a local stub),
    `app.extra["redirect_uri"]` is used when the proof carries none."""

    app_types: tuple[AppType, ...] = (AppType.QQ,)

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

    def _url(self, app: AppCredentials, path: str) -> str:
        return str(app.extra.get("api_base") or self._api_base).rstrip("/") + path

    async def _get(
        self, app: AppCredentials, path: str, params: dict[str, str], *, operation: str
    ) -> dict[str, Any]:
        response = await self._http.request(
            "GET", self._url(app, path), app_id=app.app_id, operation=operation, params=params
        )
        data = _qq_json(response)
        if data is None:
            self._http.fail(
                ProviderUnavailable,
                app_id=app.app_id,
                operation=operation,
                vendor_code=f"HTTP {response.status_code} without JSON",
            )
        return data

    def _check(self, app: AppCredentials, data: dict[str, Any], *, operation: str) -> None:
        if "error" not in data:
            return
        try:
            code = int(data["error"])
        except (TypeError, ValueError):
            code = -1
        self._http.fail(
            error_for(code),
            app_id=app.app_id,
            operation=operation,
            vendor_code=str(data["error"]),
            message=data.get("error_description"),
        )

    def _text(self, app: AppCredentials, data: dict[str, Any], key: str, operation: str) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value:
            self._http.fail(
                ProviderUnavailable,
                app_id=app.app_id,
                operation=operation,
                vendor_code=f"answer without {key}",
            )
        return value

    async def exchange(self, app: AppCredentials, proof: LoginProof) -> ExternalIdentity:
        """The person behind an authorization code; raises ProviderCodeInvalid or
        ProviderUnavailable."""
        if not proof.code:
            raise ProviderCodeInvalid(provider=PROVIDER, vendor_code="missing code")
        redirect_uri = proof.redirect_uri or app.extra.get("redirect_uri")
        if not redirect_uri:
            raise ProviderCodeInvalid(
                provider=PROVIDER, vendor_code="missing redirect_uri", field="redirect_uri"
            )
        token = await self._get(
            app,
            "/oauth2.0/token",
            {
                "grant_type": "authorization_code",
                "client_id": app.app_id,
                "client_secret": app.secret,
                "code": proof.code,
                "redirect_uri": str(redirect_uri),
                "fmt": "json",
            },
            operation="token",
        )
        self._check(app, token, operation="token")
        access_token = self._text(app, token, "access_token", "token")
        me = await self._get(
            app,
            "/oauth2.0/me",
            {"access_token": access_token, "unionid": "1", "fmt": "json"},
            operation="me",
        )
        self._check(app, me, operation="me")
        if str(me.get("client_id")) != app.app_id:
            self._http.fail(
                ProviderUnavailable,
                app_id=app.app_id,
                operation="me",
                vendor_code="token of another app",
                loud=True,
            )
        unionid = me.get("unionid")
        identity = ExternalIdentity(
            app_type=app.app_type,
            app_id=app.app_id,
            subject=self._text(app, me, "openid", "me"),
            union_id=unionid if isinstance(unionid, str) and unionid else None,
        )
        if app.extra.get("fetch_profile", True) is False:
            return identity
        return await self._with_profile(app, identity, access_token)

    async def _with_profile(
        self, app: AppCredentials, identity: ExternalIdentity, access_token: str
    ) -> ExternalIdentity:
        try:
            info = await self._get(
                app,
                "/user/get_user_info",
                {
                    "access_token": access_token,
                    "oauth_consumer_key": app.app_id,
                    "openid": identity.subject,
                },
                operation="get_user_info",
            )
        except ProviderError:
            return identity
        if info.get("ret") != 0:
            _log.info(
                "qq_profile_unavailable",
                app_id=app.app_id,
                vendor_code=info.get("ret"),
                vendor_message=str(info.get("msg"))[:200],
            )
            return identity
        avatar = info.get("figureurl_qq_2") or info.get("figureurl_qq_1") or info.get("figureurl")
        nickname = info.get("nickname")
        return ExternalIdentity(
            app_type=identity.app_type,
            app_id=identity.app_id,
            subject=identity.subject,
            union_id=identity.union_id,
            nickname=nickname if isinstance(nickname, str) and nickname else None,
            avatar_url=avatar if isinstance(avatar, str) and avatar else None,
        )

    def authorize_url(self, app: AppCredentials, *, redirect_uri: str, state: str) -> str:
        """QQ's authorization page (scope `app.extra["scope"]`, get_user_info by default)."""
        base = str(app.extra.get("open_base") or app.extra.get("api_base") or self._api_base)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": app.app_id,
                "redirect_uri": redirect_uri,
                "state": state,
                "scope": str(app.extra.get("scope") or "get_user_info"),
            }
        )
        return f"{base.rstrip('/')}/oauth2.0/authorize?{query}"
