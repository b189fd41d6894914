"""The Weibo stub (api.weibo.com): token, the profile (`/2/users/show.json`) and the authorize
page. Magic codes: `wb-<error_code>`, `wb-slow`, `wb-http-<status>`."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
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

WEIBO_APP_ID = "2100000001"

WEIBO_ERRORS: dict[int, str] = {
    10022: "IP requests out of rate limit!",
    10023: "User requests out of rate limit!",
    10024: "User requests for this api out of rate limit!",
    21322: "redirect_uri_mismatch",
    21323: "invalid_request",
    21324: "invalid_client",
    21325: "invalid_grant",
    21327: "expired_token",
    21330: "access_denied",
}

_REFUSALS: dict[Refusal, int] = {
    "invalid": 21325,
    "used": 21325,
    "redirect_mismatch": 21322,
    "busy": 21325,
}


@dataclass
class WeiboStubApp:
    app_id: str
    secret: str


class WeiboStub(OAuthVendorStub[WeiboStubApp]):
    """api.weibo.com. `calls[code]` counts the token requests that carried each code."""

    magic_prefix = "wb"

    def __init__(self, *, slow_seconds: float = SLOW_SECONDS, with_demo_apps: bool = True) -> None:
        super().__init__(slow_seconds=slow_seconds)
        self._tokens: dict[str, PersonToken] = {}
        if with_demo_apps:
            self.add_app(WEIBO_APP_ID, "stub-weibo-secret")

    def add_app(self, app_id: str, secret: str) -> WeiboStubApp:
        return self._register(app_id, WeiboStubApp(app_id, secret))

    def _credentials(self, app: WeiboStubApp, base_url: str) -> AppCredentials:
        extra = {"api_base": base_url, "redirect_uri": "https://example.test/callback/weibo"}
        return AppCredentials(AppType.WEIBO, app.app_id, app.secret, extra)

    def uid_for(self, person: str) -> str:
        """Weibo uids are global (the same in every app): ten digits."""
        return "5" + str(int.from_bytes(digest("weibo-uid", person)[:8], "big") % 10**9).zfill(9)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/oauth2/access_token", self._access_token, methods=["POST"]),
                Route("/2/users/show.json", self._users_show),
                Route("/oauth2/authorize", self._authorize),
                Route("/_stub/code", self._stub_code),
            ]
        )

    @staticmethod
    def _error(code: int, path: str) -> JSONResponse:
        name = WEIBO_ERRORS.get(code, "stub error")
        return JSONResponse(
            {
                "error": name,
                "error_code": code,
                "request": path,
                "error_uri": path,
                "error_description": f"stub: {name}",
            },
            status_code=400 if code >= 20000 else 403,
        )

    async def _access_token(self, request: Request) -> Response:
        path = "/oauth2/access_token"
        params = dict(request.query_params)
        params.update({key: str(value) for key, value in (await request.form()).items()})
        code = params.get("code", "")
        self.calls[code] += 1
        app = self.apps.get(params.get("client_id", ""))
        if app is None or not hmac.compare_digest(
            app.secret.encode(), params.get("client_secret", "").encode()
        ):
            return self._error(21324, path)
        if params.get("grant_type") != "authorization_code" or not code:
            return self._error(21323, path)
        if not params.get("redirect_uri"):
            return self._error(21323, path)

        def error(number: int) -> Response:
            return self._error(number, path)

        magic = await self.magic_failure(code, error, 21325)
        if magic is not None:
            return magic
        grant = self._codes.redeem(code, app.app_id, redirect_uri=params["redirect_uri"])
        if isinstance(grant, str):
            return error(_REFUSALS[grant])
        token = "2.00" + secrets.token_hex(16)
        self._tokens[token] = PersonToken(app.app_id, grant.person, grant.profile_error)
        return JSONResponse(
            {
                "access_token": token,
                "remind_in": "157679999",
                "expires_in": 157679999,
                "uid": self.uid_for(grant.person),
                "isRealName": "true",
            }
        )

    async def _users_show(self, request: Request) -> Response:
        path = "/2/users/show.json"
        query = request.query_params
        token = self._tokens.get(query.get("access_token", ""))
        if token is None:
            return self._error(21327, path)
        if token.profile_error is not None:
            return self._error(token.profile_error, path)
        uid = query.get("uid", "")
        if uid != self.uid_for(token.person):
            return self._error(21323, path)
        picture = "https://tvax1.sinaimg.cn/crop.0.0.180.180.180/" + b64id(
            "weibo", token.person, length=20
        )
        return JSONResponse(
            {
                "id": int(uid),
                "idstr": uid,
                "screen_name": token.person.title(),
                "name": token.person.title(),
                "profile_image_url": picture + ".jpg",
                "avatar_large": picture + "_large.jpg",
                "avatar_hd": picture + "_hd.jpg",
            }
        )
