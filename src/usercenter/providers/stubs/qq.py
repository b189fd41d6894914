"""The QQ Connect stub (graph.qq.com): token, `/me` (openid and unionid), the profile, and the
authorize page. Magic codes: `qq-<error>`, `qq-slow`, `qq-http-<status>`."""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from usercenter.providers.base import AppCredentials, AppType
from usercenter.providers.stubs.base import (
    SLOW_SECONDS,
    OAuthVendorStub,
    PersonToken,
    Refusal,
    b64id,
    digest,
)

QQ_APP_ID = "101000001"
QQ_UNBOUND_APP_ID = "101000002"

QQ_MESSAGES: dict[int, str] = {
    100005: "param code is wrong or missing",
    100008: "client id is illegal",
    100009: "client secret is illegal",
    100010: "redirect uri is illegal",
    100016: "access token check failed",
    100019: "code to access token error",
    100020: "code is reused error",
}

_REFUSALS: dict[Refusal, int] = {
    "invalid": 100019,
    "used": 100020,
    "redirect_mismatch": 100010,
    "busy": 100019,
}


@dataclass
class QQStubApp:
    app_id: str
    secret: str
    is_bound: bool = True  # unionid granted for the stub's developer account


class QQStub(OAuthVendorStub[QQStubApp]):
    """graph.qq.com. `calls[code]` counts the token requests that carried each code."""

    magic_prefix = "qq"

    def __init__(
        self,
        *,
        account: str = "stub-qq-developer",
        slow_seconds: float = SLOW_SECONDS,
        with_demo_apps: bool = True,
    ) -> None:
        super().__init__(slow_seconds=slow_seconds)
        self.account = account
        self._tokens: dict[str, PersonToken] = {}
        if with_demo_apps:
            self.add_app(QQ_APP_ID, "stub-qq-secret")
            self.add_app(QQ_UNBOUND_APP_ID, "stub-qq-unbound-secret", is_bound=False)

    def add_app(self, app_id: str, secret: str, *, is_bound: bool = True) -> QQStubApp:
        return self._register(app_id, QQStubApp(app_id, secret, is_bound))

    def _credentials(self, app: QQStubApp, base_url: str) -> AppCredentials:
        extra = {"api_base": base_url, "redirect_uri": "https://example.test/callback/qq"}
        return AppCredentials(AppType.QQ, app.app_id, app.secret, extra)

    def openid_for(self, app_id: str, person: str) -> str:
        return digest("qq-openid", app_id, person).hex()[:32].upper()

    def unionid_for(self, person: str) -> str:
        return "UID_" + digest("qq-unionid", self.account, person).hex()[:32].upper()

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/oauth2.0/token", self._token),
                Route("/oauth2.0/me", self._me),
                Route("/user/get_user_info", self._user_info),
                Route("/oauth2.0/authorize", self._authorize),
                Route("/_stub/code", self._stub_code),
            ]
        )

    @staticmethod
    def _answer(body: dict[str, Any], *, is_json: bool) -> Response:
        if is_json:
            return JSONResponse(body)
        # Without fmt=json QQ answers JSONP for /me and errors.
        return PlainTextResponse(f"callback( {json.dumps(body)} );")

    def _error(self, error: int, *, is_json: bool) -> Response:
        body = {"error": error, "error_description": QQ_MESSAGES.get(error, "stub error")}
        return self._answer(body, is_json=is_json)

    async def _token(self, request: Request) -> Response:
        query = request.query_params
        is_json = query.get("fmt") == "json"
        code = query.get("code", "")
        self.calls[code] += 1
        if query.get("grant_type") != "authorization_code":
            return self._error(100004, is_json=is_json)
        app = self.apps.get(query.get("client_id", ""))
        if app is None:
            return self._error(100008, is_json=is_json)
        if not hmac.compare_digest(app.secret.encode(), query.get("client_secret", "").encode()):
            return self._error(100009, is_json=is_json)
        if not code:
            return self._error(100005, is_json=is_json)

        def error(number: int) -> Response:
            return self._error(number, is_json=is_json)

        magic = await self.magic_failure(code, error, 100019)
        if magic is not None:
            return magic
        grant = self._codes.redeem(code, app.app_id, redirect_uri=query.get("redirect_uri"))
        if isinstance(grant, str):
            return error(_REFUSALS[grant])
        token = secrets.token_hex(16).upper()
        self._tokens[token] = PersonToken(app.app_id, grant.person, grant.profile_error)
        if is_json:
            return JSONResponse(
                {"access_token": token, "expires_in": "7776000", "refresh_token": token[::-1]}
            )
        return PlainTextResponse(
            urlencode({"access_token": token, "expires_in": "7776000", "refresh_token": token})
        )

    async def _me(self, request: Request) -> Response:
        query = request.query_params
        is_json = query.get("fmt") == "json"
        token = self._tokens.get(query.get("access_token", ""))
        if token is None:
            return self._error(100016, is_json=is_json)
        body = {"client_id": token.app_id, "openid": self.openid_for(token.app_id, token.person)}
        if query.get("unionid") == "1" and self.apps[token.app_id].is_bound:
            body["unionid"] = self.unionid_for(token.person)
        return self._answer(body, is_json=is_json)

    async def _user_info(self, request: Request) -> Response:
        query = request.query_params
        token = self._tokens.get(query.get("access_token", ""))
        if (
            token is None
            or query.get("oauth_consumer_key") != token.app_id
            or query.get("openid") != self.openid_for(token.app_id, token.person)
        ):
            return JSONResponse({"ret": 1002, "msg": "请先登录"})
        if token.profile_error is not None:
            return JSONResponse({"ret": token.profile_error, "msg": "stub profile error"})
        picture = "https://thirdqq.qlogo.cn/g?b=oidb&k=" + b64id("qq", token.person, length=20)
        return JSONResponse(
            {
                "ret": 0,
                "msg": "",
                "is_lost": 0,
                "nickname": token.person.title(),
                "gender": "男",
                "figureurl": picture + "&s=30",
                "figureurl_1": picture + "&s=50",
                "figureurl_2": picture + "&s=100",
                "figureurl_qq_1": picture + "&s=40",
                "figureurl_qq_2": picture + "&s=100",
            }
        )
