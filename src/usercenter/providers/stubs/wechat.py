"""The WeChat stub (api.weixin.qq.com and open.weixin.qq.com on one server): mini program
login (jscode2session), OAuth2 for the official account, mobile app and website, userinfo and
the authorize pages. The server access token and the phone number are in `wechat_phone`.

The same person gets the same unionid in every bound app of the stub's Open Platform account,
and a different openid per app. Magic codes: `wx-<errcode>` (`wx-40029`, `wx-40163`,
`wx-45011`, `wx-40226`, `wx-48001`, `wx-45009`, `wx-99999`, ...), `wx-busy` (-1 every time),
`wx-slow` (answers after `slow_seconds`), `wx-http-<status>`; `code_for(..., busy_times=1)`
is busy once, then fine."""

from __future__ import annotations

import base64
import hmac
import os
import secrets
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from usercenter.providers.base import AppCredentials, AppType
from usercenter.providers.stubs.base import (
    DEFAULT_PERSON,
    DEFAULT_PHONE,
    SLOW_SECONDS,
    Grants,
    StubGrant,
    VendorStub,
    b64id,
    redirect_back,
)
from usercenter.providers.stubs.wechat_phone import (
    MINIAPP,
    OAUTH_APPS,
    WeChatPhoneDesk,
    WeChatStubApp,
    wechat_error,
)

WECHAT_MINIAPP_ID = "wxstubminiapp0001"
WECHAT_OFFICIAL_ID = "wxstubofficial001"
WECHAT_APP_ID = "wxstubmobileapp01"
WECHAT_WEB_ID = "wxstubwebsite0001"
WECHAT_UNBOUND_MINIAPP_ID = "wxstubunbound0001"


@dataclass
class _UserToken:
    app_id: str
    openid: str
    person: str
    scope: str
    profile_error: int | None


class WeChatStub(VendorStub[WeChatStubApp]):
    """api.weixin.qq.com and open.weixin.qq.com on one server.

    `calls[code]` counts the requests that carried each login or phone code;
    `stable_token_calls[app_id]` the access token fetches.
    """

    magic_prefix = "wx"
    magic_words = "slow|busy"

    def __init__(
        self,
        *,
        open_account: str = "stub-open-platform",
        slow_seconds: float = SLOW_SECONDS,
        token_delay: float = 0.05,
        with_demo_apps: bool = True,
    ) -> None:
        super().__init__(slow_seconds=slow_seconds)
        self.open_account = open_account
        self.session_keys: dict[tuple[str, str], str] = {}
        self.phone = WeChatPhoneDesk(self, token_delay=token_delay)
        self.stable_token_calls = self.phone.stable_token_calls
        self._user_tokens: dict[str, _UserToken] = {}
        if with_demo_apps:
            self.add_app(WECHAT_MINIAPP_ID, "stub-miniapp-secret", AppType.WECHAT_MINIAPP)
            self.add_app(WECHAT_OFFICIAL_ID, "stub-official-secret", AppType.WECHAT_OFFICIAL)
            self.add_app(WECHAT_APP_ID, "stub-mobileapp-secret", AppType.WECHAT_APP)
            self.add_app(WECHAT_WEB_ID, "stub-website-secret", AppType.WECHAT_WEB)
            self.add_app(
                WECHAT_UNBOUND_MINIAPP_ID,
                "stub-unbound-secret",
                AppType.WECHAT_MINIAPP,
                is_bound=False,
            )

    # --- helpers for tests and demos ----------------------------------------------------------

    @property
    def token_delay(self) -> float:
        """How long a stable_token call takes (a race for the refresh lock wants a little)."""
        return self.phone.token_delay

    @token_delay.setter
    def token_delay(self, seconds: float) -> None:
        self.phone.token_delay = seconds

    def add_app(
        self, app_id: str, secret: str, app_type: AppType, *, is_bound: bool = True
    ) -> WeChatStubApp:
        if app_type.provider != "wechat":
            raise ValueError(f"not a WeChat app type: {app_type}")
        return self._register(app_id, WeChatStubApp(app_id, secret, app_type, is_bound))

    def _credentials(self, app: WeChatStubApp, base_url: str) -> AppCredentials:
        extra = {"api_base": base_url, "open_base": base_url}
        return AppCredentials(app.app_type, app.app_id, app.secret, extra)

    def code_for(
        self,
        app_id: str,
        person: str = DEFAULT_PERSON,
        *,
        scope: str | None = None,
        busy_times: int = 0,
        userinfo_errcode: int | None = None,
        is_snapshot_user: bool = False,
    ) -> str:
        """A login code (wx.login's, or the OAuth2 redirect's) for `person` in `app_id`.

        `scope` defaults to snsapi_userinfo (official account, mobile app) or snsapi_login
        (website); the code answers -1 (busy) `busy_times` times before it works; userinfo
        answers `userinfo_errcode` when given."""
        app = self.apps[app_id]
        if scope is None:
            scope = {
                AppType.WECHAT_MINIAPP: "",
                AppType.WECHAT_WEB: "snsapi_login",
            }.get(app.app_type, "snsapi_userinfo")
        return self._codes.issue(
            app_id,
            person,
            scope=scope,
            busy_times=busy_times,
            profile_error=userinfo_errcode,
            is_snapshot_user=is_snapshot_user,
        )

    def phone_code_for(
        self, app_id: str, phone: str = DEFAULT_PHONE, *, busy_times: int = 0
    ) -> str:
        """A phone button code (getPhoneNumber's `code`) for the E.164 number `phone`."""
        return self.phone.code_for(app_id, phone, busy_times=busy_times)

    def openid_for(self, app_id: str, person: str) -> str:
        return "o" + b64id("wechat-openid", app_id, person, length=27)

    def unionid_for(self, person: str) -> str:
        return "o" + b64id("wechat-unionid", self.open_account, person, length=27)

    def legacy_phone_data(
        self, app_id: str, person: str, phone: str = DEFAULT_PHONE
    ) -> tuple[str, str]:
        """`(encryptedData, iv)` of getPhoneNumber's legacy answer, under the session_key of
        `person`'s last login to `app_id`."""
        session_key = self.session_keys[(app_id, self.openid_for(app_id, person))]
        return self.phone.legacy_data(session_key, app_id, phone)

    def invalidate_access_token(self, app_id: str) -> None:
        """The app's current access token stops working (40001), as after a force refresh
        elsewhere; the next stable_token call hands out a new one."""
        self.phone.invalidate_access_token(app_id)

    # --- the protocol -------------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/sns/jscode2session", self._jscode2session),
                Route("/sns/oauth2/access_token", self._oauth2_access_token),
                Route("/sns/userinfo", self._userinfo),
                Route("/cgi-bin/stable_token", self.phone.stable_token, methods=["POST"]),
                Route(
                    "/wxa/business/getuserphonenumber",
                    self.phone.getuserphonenumber,
                    methods=["POST"],
                ),
                Route("/connect/oauth2/authorize", self._authorize),
                Route("/connect/qrconnect", self._authorize),
                Route("/_stub/code", self._stub_code),
                Route("/_stub/phone-code", self.phone.stub_phone_code),
            ]
        )

    async def magic_answer(self, code: str) -> Response | None:
        """The answer to a magic code (`wx-…`), None for any other code."""
        return await self.magic_failure(code, wechat_error, -1)

    def app_checked(
        self, app_id: str, secret: str, kinds: frozenset[AppType]
    ) -> WeChatStubApp | Response:
        """The app, if it is of `kinds` and `secret` is its secret; else WeChat's error."""
        app = self.apps.get(app_id)
        if app is None or app.app_type not in kinds:
            return wechat_error(40013)
        if not hmac.compare_digest(app.secret.encode(), secret.encode()):
            return wechat_error(40125)
        return app

    @staticmethod
    def redeem(grants: Grants, app: WeChatStubApp, code: str) -> StubGrant | Response:
        """The grant behind a login or phone code, now used; or WeChat's error."""
        grant = grants.redeem(code, app.app_id)
        if isinstance(grant, str):
            return wechat_error({"used": 40163, "busy": -1}.get(grant, 40029))
        return grant

    async def _login(
        self, request: Request, code_param: str, kinds: frozenset[AppType]
    ) -> tuple[WeChatStubApp, StubGrant] | Response:
        query = request.query_params
        code = query.get(code_param, "")
        self.calls[code] += 1
        app = self.app_checked(query.get("appid", ""), query.get("secret", ""), kinds)
        if isinstance(app, Response):
            return app
        if query.get("grant_type") != "authorization_code":
            return wechat_error(40002)
        if not code:
            return wechat_error(41008)
        answer = await self.magic_answer(code)
        if answer is not None:
            return answer
        grant = self.redeem(self._codes, app, code)
        if isinstance(grant, Response):
            return grant
        return app, grant

    async def _jscode2session(self, request: Request) -> Response:
        checked = await self._login(request, "js_code", MINIAPP)
        if isinstance(checked, Response):
            return checked
        app, grant = checked
        openid = self.openid_for(app.app_id, grant.person)
        session_key = base64.b64encode(os.urandom(16)).decode()
        self.session_keys[(app.app_id, openid)] = session_key
        body = {"openid": openid, "session_key": session_key}
        if app.is_bound:
            body["unionid"] = self.unionid_for(grant.person)
        return JSONResponse(body)

    async def _oauth2_access_token(self, request: Request) -> Response:
        checked = await self._login(request, "code", OAUTH_APPS)
        if isinstance(checked, Response):
            return checked
        app, grant = checked
        openid = (
            "o" + b64id("snapshot", secrets.token_hex(8), length=27)
            if grant.is_snapshot_user
            else self.openid_for(app.app_id, grant.person)
        )
        token = secrets.token_urlsafe(24)
        self._user_tokens[token] = _UserToken(
            app.app_id, openid, grant.person, grant.scope, grant.profile_error
        )
        body: dict[str, Any] = {
            "access_token": token,
            "expires_in": 7200,
            "refresh_token": secrets.token_urlsafe(24),
            "openid": openid,
            "scope": grant.scope,
        }
        if grant.is_snapshot_user:
            body["is_snapshotuser"] = 1
        # WeChat tells the unionid with the token only when the person authorized more than
        # the silent snsapi_base scope.
        if app.is_bound and grant.scope != "snsapi_base":
            body["unionid"] = self.unionid_for(grant.person)
        return JSONResponse(body)

    async def _userinfo(self, request: Request) -> Response:
        query = request.query_params
        token = self._user_tokens.get(query.get("access_token", ""))
        if token is None:
            return wechat_error(40001)
        if query.get("openid") != token.openid:
            return wechat_error(40003)
        if token.scope == "snsapi_base":
            return wechat_error(48001)
        if token.profile_error is not None:
            return wechat_error(token.profile_error)
        app = self.apps[token.app_id]
        body: dict[str, Any] = {
            "openid": token.openid,
            "nickname": token.person.title(),
            "sex": 0,
            "province": "",
            "city": "",
            "country": "",
            "headimgurl": "https://thirdwx.qlogo.cn/mmopen/vi_32/"
            + b64id("avatar", token.person, length=40)
            + "/132",
            "privilege": [],
        }
        if app.is_bound:
            body["unionid"] = self.unionid_for(token.person)
        return JSONResponse(body)

    async def _authorize(self, request: Request) -> Response:
        """The consent page, consented at once for `person` (alice unless the URL says)."""
        query = request.query_params
        app = self.apps.get(query.get("appid", ""))
        redirect_uri = query.get("redirect_uri", "")
        if app is None or app.app_type not in OAUTH_APPS or not redirect_uri:
            return PlainTextResponse("invalid appid or redirect_uri", status_code=400)
        code = self.code_for(
            app.app_id, query.get("person", DEFAULT_PERSON), scope=query.get("scope") or None
        )
        return redirect_back(redirect_uri, code=code, state=query.get("state", ""))
