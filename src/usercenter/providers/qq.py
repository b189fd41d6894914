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
from usercenter.providers.oauth_json import (
    JsonOAuthProvider,
    JsonVendorApi,
    ProfileCall,
    VendorFault,
    code_and_redirect_uri,
    optional_text,
    vendor_number,
    with_profile,
)

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


class _QQApi(JsonVendorApi):
    """graph.qq.com: JSON (or JSONP) answers with `error` on failure."""

    provider = PROVIDER
    code_invalid = CODE_INVALID_ERRORS

    def read(self, response: httpx.Response) -> dict[str, Any] | None:
        return _qq_json(response)

    def fault(self, data: dict[str, Any]) -> VendorFault | None:
        if "error" not in data:
            return None
        return VendorFault(
            vendor_number(data["error"]), str(data["error"]), data.get("error_description")
        )


class QQProvider(JsonOAuthProvider):
    """QQ Connect; `app.extra["api_base"]` points an app at another host (a local stub),
    `app.extra["redirect_uri"]` is used when the proof carries none."""

    app_types: tuple[AppType, ...] = (AppType.QQ,)
    api_class = _QQApi
    default_api_base = API_BASE

    async def exchange(self, app: AppCredentials, proof: LoginProof) -> ExternalIdentity:
        """The person behind an authorization code; raises ProviderCodeInvalid or
        ProviderUnavailable."""
        code, redirect_uri = code_and_redirect_uri(PROVIDER, app, proof)
        token = await self._api.call(
            app,
            "GET",
            "/oauth2.0/token",
            operation="token",
            params={
                "grant_type": "authorization_code",
                "client_id": app.app_id,
                "client_secret": app.secret,
                "code": code,
                "redirect_uri": redirect_uri,
                "fmt": "json",
            },
        )
        access_token = self._api.text(app, token, "access_token", operation="token")
        me = await self._api.call(
            app,
            "GET",
            "/oauth2.0/me",
            operation="me",
            params={"access_token": access_token, "unionid": "1", "fmt": "json"},
        )
        if str(me.get("client_id")) != app.app_id:
            self._api.unavailable(
                app, operation="me", vendor_code="token of another app", loud=True
            )
        identity = ExternalIdentity(
            app_type=app.app_type,
            app_id=app.app_id,
            subject=self._api.text(app, me, "openid", operation="me"),
            union_id=optional_text(me.get("unionid")),
        )
        return await self._profiled(app, identity, access_token)

    def _profile_call(
        self, app: AppCredentials, identity: ExternalIdentity, access_token: str
    ) -> ProfileCall:
        params = {
            "access_token": access_token,
            "oauth_consumer_key": app.app_id,
            "openid": identity.subject,
        }
        # Its errors are `ret` codes (see `_read_profile`).
        return ProfileCall("/user/get_user_info", "get_user_info", params, check=False)

    def _read_profile(
        self, app: AppCredentials, identity: ExternalIdentity, info: dict[str, Any]
    ) -> ExternalIdentity:
        if info.get("ret") != 0:
            _log.info(
                "qq_profile_unavailable",
                app_id=app.app_id,
                vendor_code=info.get("ret"),
                vendor_message=str(info.get("msg"))[:200],
            )
            return identity
        avatar = info.get("figureurl_qq_2") or info.get("figureurl_qq_1") or info.get("figureurl")
        return with_profile(identity, nickname=info.get("nickname"), avatar=avatar)

    def authorize_url(self, app: AppCredentials, *, redirect_uri: str, state: str) -> str:
        """QQ's authorization page (scope `app.extra["scope"]`, get_user_info by default)."""
        base = str(app.extra.get("open_base") or app.extra.get("api_base") or self._api.api_base)
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
