"""Stand-ins for the login providers: real HTTP servers on 127.0.0.1 that speak WeChat's, QQ
Connect's, Weibo's, Alipay's and Apple's protocols, for tests and for local demos
(`serve_stubs`, `main`).

Each stub knows its apps and hands out codes for a named person (`code_for`), single-use and
valid five minutes, like the real ones. The same person gets the same unionid in every bound
app of the stub's WeChat Open Platform account (and of its QQ developer account), and a
different openid per app. Magic codes make a stub answer with one of its vendor's errors:

- WeChat: `wx-<errcode>` (`wx-40029`, `wx-40163`, `wx-45011`, `wx-40226`, `wx-48001`,
  `wx-45009`, `wx-99999`, ...), `wx-busy` (-1 every time), `wx-slow` (answers after
  `slow_seconds`), `wx-http-<status>`; `code_for(..., busy_times=1)` is busy once, then fine.
- QQ: `qq-<error>`, `qq-slow`, `qq-http-<status>`. Weibo: `wb-<error_code>`, `wb-slow`,
  `wb-http-<status>`.
- Alipay: `ali-tampered` (a response signature that does not match), `ali-unsigned`,
  `ali-busy` (20000 isp.unknow-error), `ali-40006` (missing permissions), `ali-slow`,
  `ali-http-<status>`.

Apple's stub serves a JWKS and mints id_tokens (`mint_id_token`), expired or for another
audience on request. The checks here are written from the vendors' documentation, apart from
the adapters' code, so an adapter that signs or asks wrongly is refused here as it would be
there.

For demos across processes every stub also answers `GET /_stub/code?app_id=&person=` (and
WeChat `/_stub/phone-code?app_id=&phone=`, Apple `/_stub/id-token?aud=&person=&nonce=`).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import jwt
import phonenumbers
import uvicorn
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from usercenter.providers.base import AppCredentials, AppType

SLOW_SECONDS = 3.0
CODE_TTL_SECONDS = 300.0
DEFAULT_PERSON = "alice"
DEFAULT_PHONE = "+8613812345678"


# --- serving ----------------------------------------------------------------------------------


@contextmanager
def serve(app: Starlette, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run `app` under uvicorn in a thread (on a free port unless `port` is given); yields its
    base URL, without a trailing slash."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_config=None,  # leave the service's logging alone
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            sock.close()
            raise RuntimeError("stub server did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def free_port() -> int:
    """A port nothing listens on (for 'provider down' tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- what every stub shares -------------------------------------------------------------------


@dataclass
class StubGrant:
    """One code handed out by a stub: whose, for which app, and how the stub should treat it."""

    app_id: str
    person: str
    expires_at: float
    scope: str = ""
    phone: str | None = None
    redirect_uri: str | None = None
    busy_times: int = 0
    profile_error: int | None = None
    is_snapshot_user: bool = False
    is_used: bool = False

    @property
    def is_expired(self) -> bool:
        return time.monotonic() > self.expires_at


class _Grants:
    def __init__(self) -> None:
        self._grants: dict[str, StubGrant] = {}

    def issue(self, grant: StubGrant) -> str:
        code = secrets.token_urlsafe(18)
        self._grants[code] = grant
        return code

    def get(self, code: str) -> StubGrant | None:
        return self._grants.get(code)


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("|".join(parts).encode()).digest()


def _b64id(*parts: str, length: int) -> str:
    return base64.urlsafe_b64encode(_digest(*parts)).decode().rstrip("=")[:length]


def _redirect_back(redirect_uri: str, **params: str) -> RedirectResponse:
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(redirect_uri + separator + urlencode(params), status_code=302)


def _magic(code: str, prefix: str) -> tuple[str, int | None] | None:
    """(`slow` | `busy` | `http` | `error`, number) for a magic code of this stub, else None."""
    match = re.fullmatch(
        rf"{prefix}-(?:(?P<word>slow|busy|tampered|unsigned)|http-(?P<status>\d{{3}})|(?P<number>-?\d+))",
        code,
    )
    if match is None:
        return None
    if match["word"]:
        return match["word"], None
    if match["status"]:
        return "http", int(match["status"])
    return "error", int(match["number"])


def _http_failure(status: int) -> Response:
    return PlainTextResponse(f"<html>{status}</html>", status_code=status)


# --- WeChat -----------------------------------------------------------------------------------

WECHAT_MINIAPP_ID = "wxstubminiapp0001"
WECHAT_OFFICIAL_ID = "wxstubofficial001"
WECHAT_APP_ID = "wxstubmobileapp01"
WECHAT_WEB_ID = "wxstubwebsite0001"
WECHAT_UNBOUND_MINIAPP_ID = "wxstubunbound0001"
WECHAT_ACCESS_TOKEN_SECONDS = 7200

WECHAT_MESSAGES: dict[int, str] = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40013: "invalid appid",
    40029: "invalid code",
    40125: "invalid appsecret",
    40163: "code been used",
    40226: "invalid user, high risk",
    41001: "access_token missing",
    41008: "missing code",
    42001: "access_token expired",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit  mustslower  retry next minute",
    47001: "data format error",
    48001: "api unauthorized",
}

_MINIAPP = frozenset({AppType.WECHAT_MINIAPP})
_OAUTH_APPS = frozenset({AppType.WECHAT_OFFICIAL, AppType.WECHAT_APP, AppType.WECHAT_WEB})


@dataclass
class WeChatStubApp:
    app_id: str
    secret: str
    app_type: AppType
    is_bound: bool = True  # bound to the stub's Open Platform account: answers carry unionid


@dataclass
class _AccessToken:
    app_id: str
    expires_at: float


@dataclass
class _UserToken:
    app_id: str
    openid: str
    person: str
    scope: str
    profile_error: int | None


def legacy_encrypt(session_key: str, payload: dict[str, Any]) -> tuple[str, str]:
    """`(encryptedData, iv)` as a mini program gets them: AES-128-CBC, PKCS#7, base64."""
    key = base64.b64decode(session_key)
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    plain = padder.update(json.dumps(payload, ensure_ascii=False).encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    data = encryptor.update(plain) + encryptor.finalize()
    return base64.b64encode(data).decode(), base64.b64encode(iv).decode()


def _split_phone(phone: str) -> tuple[str, str]:
    """(`86`, `13812345678`) from an E.164 number."""
    number = phonenumbers.parse(phone)
    return str(number.country_code), str(number.national_number)


class WeChatStub:
    """api.weixin.qq.com and open.weixin.qq.com on one server.

    `calls[code]` counts the requests that carried each login or phone code;
    `stable_token_calls[app_id]` the access token fetches.
    """

    def __init__(
        self,
        *,
        open_account: str = "stub-open-platform",
        slow_seconds: float = SLOW_SECONDS,
        token_delay: float = 0.05,
        with_demo_apps: bool = True,
    ) -> None:
        self.open_account = open_account
        self.slow_seconds = slow_seconds
        self.token_delay = token_delay
        self.apps: dict[str, WeChatStubApp] = {}
        self.calls: Counter[str] = Counter()
        self.stable_token_calls: Counter[str] = Counter()
        self.session_keys: dict[tuple[str, str], str] = {}
        self._codes = _Grants()
        self._phone_codes = _Grants()
        self._access_tokens: dict[str, _AccessToken] = {}
        self._current_access_token: dict[str, str] = {}
        self._revoked: set[str] = set()
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

    def add_app(
        self, app_id: str, secret: str, app_type: AppType, *, is_bound: bool = True
    ) -> WeChatStubApp:
        if app_type.provider != "wechat":
            raise ValueError(f"not a WeChat app type: {app_type}")
        app = WeChatStubApp(app_id, secret, app_type, is_bound)
        self.apps[app_id] = app
        return app

    def credentials(self, app_id: str, base_url: str, **extra: Any) -> AppCredentials:
        """What the service should be configured with to log in through this stub's app."""
        app = self.apps[app_id]
        return AppCredentials(
            app.app_type,
            app.app_id,
            app.secret,
            {"api_base": base_url, "open_base": base_url, **extra},
        )

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
            StubGrant(
                app_id,
                person,
                time.monotonic() + CODE_TTL_SECONDS,
                scope=scope,
                busy_times=busy_times,
                profile_error=userinfo_errcode,
                is_snapshot_user=is_snapshot_user,
            )
        )

    def phone_code_for(
        self, app_id: str, phone: str = DEFAULT_PHONE, *, busy_times: int = 0
    ) -> str:
        """A phone button code (getPhoneNumber's `code`) for the E.164 number `phone`."""
        if self.apps[app_id].app_type is not AppType.WECHAT_MINIAPP:
            raise ValueError("phone codes come from mini programs")
        return self._phone_codes.issue(
            StubGrant(
                app_id,
                "",
                time.monotonic() + CODE_TTL_SECONDS,
                phone=phone,
                busy_times=busy_times,
            )
        )

    def openid_for(self, app_id: str, person: str) -> str:
        return "o" + _b64id("wechat-openid", app_id, person, length=27)

    def unionid_for(self, person: str) -> str:
        return "o" + _b64id("wechat-unionid", self.open_account, person, length=27)

    def legacy_phone_data(
        self, app_id: str, person: str, phone: str = DEFAULT_PHONE
    ) -> tuple[str, str]:
        """`(encryptedData, iv)` of getPhoneNumber's legacy answer, under the session_key of
        `person`'s last login to `app_id`."""
        session_key = self.session_keys[(app_id, self.openid_for(app_id, person))]
        country, pure = _split_phone(phone)
        return legacy_encrypt(
            session_key,
            {
                "phoneNumber": pure if country == "86" else f"+{country}{pure}",
                "purePhoneNumber": pure,
                "countryCode": country,
                "watermark": {"timestamp": int(time.time()), "appid": app_id},
            },
        )

    def invalidate_access_token(self, app_id: str) -> None:
        """The app's current access token stops working (40001), as after a force refresh
        elsewhere; the next stable_token call hands out a new one."""
        token = self._current_access_token.pop(app_id, None)
        if token is not None:
            self._revoked.add(token)

    # --- the protocol -------------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/sns/jscode2session", self._jscode2session),
                Route("/sns/oauth2/access_token", self._oauth2_access_token),
                Route("/sns/userinfo", self._userinfo),
                Route("/cgi-bin/stable_token", self._stable_token, methods=["POST"]),
                Route(
                    "/wxa/business/getuserphonenumber",
                    self._getuserphonenumber,
                    methods=["POST"],
                ),
                Route("/connect/oauth2/authorize", self._authorize),
                Route("/connect/qrconnect", self._authorize),
                Route("/_stub/code", self._stub_code),
                Route("/_stub/phone-code", self._stub_phone_code),
            ]
        )

    @staticmethod
    def _error(errcode: int, message: str | None = None) -> JSONResponse:
        text = message or WECHAT_MESSAGES.get(errcode, "stub error")
        return JSONResponse({"errcode": errcode, "errmsg": f"{text}, rid: {secrets.token_hex(12)}"})

    async def _magic_answer(self, code: str) -> Response | None:
        magic = _magic(code, "wx")
        if magic is None:
            return None
        kind, number = magic
        if kind == "slow":
            await asyncio.sleep(self.slow_seconds)
            return self._error(-1)
        if kind == "busy":
            return self._error(-1)
        if kind == "http" and number is not None:
            return _http_failure(number)
        if kind == "error" and number is not None:
            return self._error(number)
        return None

    def _app_checked(
        self, app_id: str, secret: str, kinds: frozenset[AppType]
    ) -> WeChatStubApp | Response:
        app = self.apps.get(app_id)
        if app is None or app.app_type not in kinds:
            return self._error(40013)
        if not hmac.compare_digest(app.secret.encode(), secret.encode()):
            return self._error(40125)
        return app

    def _grant(self, grants: _Grants, app: WeChatStubApp, code: str) -> StubGrant | Response:
        grant = grants.get(code)
        if grant is None or grant.app_id != app.app_id or grant.is_expired:
            return self._error(40029)
        if grant.is_used:
            return self._error(40163)
        if grant.busy_times > 0:
            grant.busy_times -= 1
            return self._error(-1)
        grant.is_used = True
        return grant

    async def _login(
        self, request: Request, code_param: str, kinds: frozenset[AppType]
    ) -> tuple[WeChatStubApp, StubGrant] | Response:
        query = request.query_params
        code = query.get(code_param, "")
        self.calls[code] += 1
        app = self._app_checked(query.get("appid", ""), query.get("secret", ""), kinds)
        if isinstance(app, Response):
            return app
        if query.get("grant_type") != "authorization_code":
            return self._error(40002)
        if not code:
            return self._error(41008)
        answer = await self._magic_answer(code)
        if answer is not None:
            return answer
        grant = self._grant(self._codes, app, code)
        if isinstance(grant, Response):
            return grant
        return app, grant

    async def _jscode2session(self, request: Request) -> Response:
        checked = await self._login(request, "js_code", _MINIAPP)
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
        checked = await self._login(request, "code", _OAUTH_APPS)
        if isinstance(checked, Response):
            return checked
        app, grant = checked
        openid = (
            "o" + _b64id("snapshot", secrets.token_hex(8), length=27)
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
            return self._error(40001)
        if query.get("openid") != token.openid:
            return self._error(40003)
        if token.scope == "snsapi_base":
            return self._error(48001)
        if token.profile_error is not None:
            return self._error(token.profile_error)
        app = self.apps[token.app_id]
        body: dict[str, Any] = {
            "openid": token.openid,
            "nickname": token.person.title(),
            "sex": 0,
            "province": "",
            "city": "",
            "country": "",
            "headimgurl": "https://thirdwx.qlogo.cn/mmopen/vi_32/"
            + _b64id("avatar", token.person, length=40)
            + "/132",
            "privilege": [],
        }
        if app.is_bound:
            body["unionid"] = self.unionid_for(token.person)
        return JSONResponse(body)

    async def _stable_token(self, request: Request) -> Response:
        try:
            payload = json.loads(await request.body())
        except ValueError:
            return self._error(47001)
        if not isinstance(payload, dict):
            return self._error(47001)
        self.stable_token_calls[str(payload.get("appid", ""))] += 1
        if payload.get("grant_type") != "client_credential":
            return self._error(40002)
        app = self._app_checked(
            str(payload.get("appid", "")),
            str(payload.get("secret", "")),
            _MINIAPP | _OAUTH_APPS,
        )
        if isinstance(app, Response):
            return app
        await asyncio.sleep(self.token_delay)
        now = time.monotonic()
        current = self._current_access_token.get(app.app_id)
        record = self._access_tokens.get(current) if current else None
        if payload.get("force_refresh") is True or record is None or record.expires_at <= now:
            if current is not None:
                self._revoked.add(current)
            current = "stub_at_" + secrets.token_urlsafe(32)
            record = _AccessToken(app.app_id, now + WECHAT_ACCESS_TOKEN_SECONDS)
            self._access_tokens[current] = record
            self._current_access_token[app.app_id] = current
        return JSONResponse({"access_token": current, "expires_in": int(record.expires_at - now)})

    async def _getuserphonenumber(self, request: Request) -> Response:
        token = request.query_params.get("access_token", "")
        if not token:
            return self._error(41001)
        record = self._access_tokens.get(token)
        if record is None or token in self._revoked:
            return self._error(40001)
        if record.expires_at <= time.monotonic():
            return self._error(42001)
        try:
            payload = json.loads(await request.body())
        except ValueError:
            return self._error(47001)
        code = str(payload.get("code", "")) if isinstance(payload, dict) else ""
        self.calls[code] += 1
        if not code:
            return self._error(41008)
        answer = await self._magic_answer(code)
        if answer is not None:
            return answer
        grant = self._grant(self._phone_codes, self.apps[record.app_id], code)
        if isinstance(grant, Response):
            return grant
        country, pure = _split_phone(grant.phone or DEFAULT_PHONE)
        return JSONResponse(
            {
                "errcode": 0,
                "errmsg": "ok",
                "phone_info": {
                    "phoneNumber": pure if country == "86" else f"+{country}{pure}",
                    "purePhoneNumber": pure,
                    "countryCode": country,
                    "watermark": {"timestamp": int(time.time()), "appid": record.app_id},
                },
            }
        )

    async def _authorize(self, request: Request) -> Response:
        """The consent page, consented at once for `person` (alice unless the URL says)."""
        query = request.query_params
        app = self.apps.get(query.get("appid", ""))
        redirect_uri = query.get("redirect_uri", "")
        if app is None or app.app_type not in _OAUTH_APPS or not redirect_uri:
            return PlainTextResponse("invalid appid or redirect_uri", status_code=400)
        code = self.code_for(
            app.app_id, query.get("person", DEFAULT_PERSON), scope=query.get("scope") or None
        )
        return _redirect_back(redirect_uri, code=code, state=query.get("state", ""))

    async def _stub_code(self, request: Request) -> Response:
        query = request.query_params
        if query.get("app_id", "") not in self.apps:
            return JSONResponse({"error": "unknown app_id"}, status_code=404)
        code = self.code_for(query["app_id"], query.get("person", DEFAULT_PERSON))
        return JSONResponse({"code": code})

    async def _stub_phone_code(self, request: Request) -> Response:
        query = request.query_params
        app = self.apps.get(query.get("app_id", ""))
        if app is None or app.app_type is not AppType.WECHAT_MINIAPP:
            return JSONResponse({"error": "unknown mini program"}, status_code=404)
        return JSONResponse(
            {"code": self.phone_code_for(app.app_id, query.get("phone", DEFAULT_PHONE))}
        )


# --- QQ Connect -------------------------------------------------------------------------------

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


@dataclass
class QQStubApp:
    app_id: str
    secret: str
    is_bound: bool = True  # unionid granted for the stub's developer account


@dataclass
class _QQToken:
    app_id: str
    person: str
    profile_error: int | None


class QQStub:
    """graph.qq.com. `calls[code]` counts the token requests that carried each code."""

    def __init__(
        self,
        *,
        account: str = "stub-qq-developer",
        slow_seconds: float = SLOW_SECONDS,
        with_demo_apps: bool = True,
    ) -> None:
        self.account = account
        self.slow_seconds = slow_seconds
        self.apps: dict[str, QQStubApp] = {}
        self.calls: Counter[str] = Counter()
        self._codes = _Grants()
        self._tokens: dict[str, _QQToken] = {}
        if with_demo_apps:
            self.add_app(QQ_APP_ID, "stub-qq-secret")
            self.add_app(QQ_UNBOUND_APP_ID, "stub-qq-unbound-secret", is_bound=False)

    def add_app(self, app_id: str, secret: str, *, is_bound: bool = True) -> QQStubApp:
        app = QQStubApp(app_id, secret, is_bound)
        self.apps[app_id] = app
        return app

    def credentials(self, app_id: str, base_url: str, **extra: Any) -> AppCredentials:
        app = self.apps[app_id]
        return AppCredentials(
            AppType.QQ,
            app.app_id,
            app.secret,
            {"api_base": base_url, "redirect_uri": "https://example.test/callback/qq", **extra},
        )

    def code_for(
        self,
        app_id: str,
        person: str = DEFAULT_PERSON,
        *,
        redirect_uri: str | None = None,
        profile_error: int | None = None,
    ) -> str:
        """An authorization code; checked against `redirect_uri` when given."""
        if app_id not in self.apps:
            raise KeyError(app_id)
        return self._codes.issue(
            StubGrant(
                app_id,
                person,
                time.monotonic() + CODE_TTL_SECONDS,
                redirect_uri=redirect_uri,
                profile_error=profile_error,
            )
        )

    def openid_for(self, app_id: str, person: str) -> str:
        return _digest("qq-openid", app_id, person).hex()[:32].upper()

    def unionid_for(self, person: str) -> str:
        return "UID_" + _digest("qq-unionid", self.account, person).hex()[:32].upper()

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
        magic = _magic(code, "qq")
        if magic is not None:
            kind, number = magic
            if kind == "slow":
                await asyncio.sleep(self.slow_seconds)
            elif kind == "http" and number is not None:
                return _http_failure(number)
            return self._error(number if kind == "error" and number else 100019, is_json=is_json)
        grant = self._codes.get(code)
        if grant is None or grant.app_id != app.app_id or grant.is_expired:
            return self._error(100019, is_json=is_json)
        if grant.is_used:
            return self._error(100020, is_json=is_json)
        if grant.redirect_uri is not None and grant.redirect_uri != query.get("redirect_uri"):
            return self._error(100010, is_json=is_json)
        grant.is_used = True
        token = secrets.token_hex(16).upper()
        self._tokens[token] = _QQToken(app.app_id, grant.person, grant.profile_error)
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
        picture = "https://thirdqq.qlogo.cn/g?b=oidb&k=" + _b64id("qq", token.person, length=20)
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

    async def _authorize(self, request: Request) -> Response:
        query = request.query_params
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id", "") not in self.apps or not redirect_uri:
            return PlainTextResponse("invalid client_id or redirect_uri", status_code=400)
        code = self.code_for(
            query["client_id"], query.get("person", DEFAULT_PERSON), redirect_uri=redirect_uri
        )
        return _redirect_back(redirect_uri, code=code, state=query.get("state", ""))

    async def _stub_code(self, request: Request) -> Response:
        query = request.query_params
        if query.get("app_id", "") not in self.apps:
            return JSONResponse({"error": "unknown app_id"}, status_code=404)
        return JSONResponse({"code": self.code_for(query["app_id"], query.get("person", "alice"))})


# --- Weibo ------------------------------------------------------------------------------------

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


@dataclass
class WeiboStubApp:
    app_id: str
    secret: str


@dataclass
class _WeiboToken:
    app_id: str
    person: str
    profile_error: int | None


class WeiboStub:
    """api.weibo.com. `calls[code]` counts the token requests that carried each code."""

    def __init__(self, *, slow_seconds: float = SLOW_SECONDS, with_demo_apps: bool = True) -> None:
        self.slow_seconds = slow_seconds
        self.apps: dict[str, WeiboStubApp] = {}
        self.calls: Counter[str] = Counter()
        self._codes = _Grants()
        self._tokens: dict[str, _WeiboToken] = {}
        if with_demo_apps:
            self.add_app(WEIBO_APP_ID, "stub-weibo-secret")

    def add_app(self, app_id: str, secret: str) -> WeiboStubApp:
        app = WeiboStubApp(app_id, secret)
        self.apps[app_id] = app
        return app

    def credentials(self, app_id: str, base_url: str, **extra: Any) -> AppCredentials:
        app = self.apps[app_id]
        return AppCredentials(
            AppType.WEIBO,
            app.app_id,
            app.secret,
            {
                "api_base": base_url,
                "redirect_uri": "https://example.test/callback/weibo",
                **extra,
            },
        )

    def code_for(
        self,
        app_id: str,
        person: str = DEFAULT_PERSON,
        *,
        redirect_uri: str | None = None,
        profile_error: int | None = None,
    ) -> str:
        if app_id not in self.apps:
            raise KeyError(app_id)
        return self._codes.issue(
            StubGrant(
                app_id,
                person,
                time.monotonic() + CODE_TTL_SECONDS,
                redirect_uri=redirect_uri,
                profile_error=profile_error,
            )
        )

    def uid_for(self, person: str) -> str:
        """Weibo uids are global (the same in every app): ten digits."""
        return "5" + str(int.from_bytes(_digest("weibo-uid", person)[:8], "big") % 10**9).zfill(9)

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
        magic = _magic(code, "wb")
        if magic is not None:
            kind, number = magic
            if kind == "slow":
                await asyncio.sleep(self.slow_seconds)
            elif kind == "http" and number is not None:
                return _http_failure(number)
            return self._error(number if kind == "error" and number else 21325, path)
        grant = self._codes.get(code)
        if grant is None or grant.app_id != app.app_id or grant.is_expired or grant.is_used:
            return self._error(21325, path)
        if grant.redirect_uri is not None and grant.redirect_uri != params["redirect_uri"]:
            return self._error(21322, path)
        grant.is_used = True
        token = "2.00" + secrets.token_hex(16)
        self._tokens[token] = _WeiboToken(app.app_id, grant.person, grant.profile_error)
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
        picture = "https://tvax1.sinaimg.cn/crop.0.0.180.180.180/" + _b64id(
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

    async def _authorize(self, request: Request) -> Response:
        query = request.query_params
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id", "") not in self.apps or not redirect_uri:
            return PlainTextResponse("invalid client_id or redirect_uri", status_code=400)
        code = self.code_for(
            query["client_id"], query.get("person", DEFAULT_PERSON), redirect_uri=redirect_uri
        )
        return _redirect_back(redirect_uri, code=code, state=query.get("state", ""))

    async def _stub_code(self, request: Request) -> Response:
        query = request.query_params
        if query.get("app_id", "") not in self.apps:
            return JSONResponse({"error": "unknown app_id"}, status_code=404)
        return JSONResponse({"code": self.code_for(query["app_id"], query.get("person", "alice"))})


# --- Alipay -----------------------------------------------------------------------------------

ALIPAY_APP_ID = "2021000000000001"
ALIPAY_CHINA_TIME = timezone(timedelta(hours=8))
ALIPAY_RESPONSE_KEY = "alipay_system_oauth_token_response"


def _pem_private(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _pem_public(key: rsa.RSAPublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def alipay_string_to_sign(params: dict[str, str]) -> str:
    """Alipay's rule: every parameter but `sign` with a non-empty value, sorted by name,
    `name=value` joined by `&`, values not URL-encoded."""
    return "&".join(
        f"{name}={params[name]}" for name in sorted(params) if name != "sign" and params[name] != ""
    )


@dataclass
class AlipayStubApp:
    app_id: str
    private_key_pem: str  # the app's key: configure the service with it
    public_key_pem: str  # what the app uploaded to Alipay
    subject_field: str = "open_id"  # open_id (current apps), user_id (legacy) or both


class AlipayStub:
    """openapi.alipay.com/gateway.do. Keys are generated when the stub is made:
    `alipay_public_key_pem` and each app's `private_key_pem` go into the app's `extra`."""

    def __init__(self, *, slow_seconds: float = SLOW_SECONDS, with_demo_apps: bool = True) -> None:
        self.slow_seconds = slow_seconds
        self._alipay_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.alipay_public_key_pem = _pem_public(self._alipay_key.public_key())
        self.apps: dict[str, AlipayStubApp] = {}
        self.calls: Counter[str] = Counter()
        self._codes = _Grants()
        if with_demo_apps:
            self.add_app(ALIPAY_APP_ID)

    def add_app(self, app_id: str, *, subject_field: str = "open_id") -> AlipayStubApp:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        app = AlipayStubApp(app_id, _pem_private(key), _pem_public(key.public_key()), subject_field)
        self.apps[app_id] = app
        return app

    def credentials(self, app_id: str, base_url: str, **extra: Any) -> AppCredentials:
        app = self.apps[app_id]
        return AppCredentials(
            AppType.ALIPAY,
            app.app_id,
            "",
            {
                "gateway": base_url + "/gateway.do",
                "private_key": app.private_key_pem,
                "alipay_public_key": self.alipay_public_key_pem,
                **extra,
            },
        )

    def code_for(self, app_id: str, person: str = DEFAULT_PERSON, *, busy_times: int = 0) -> str:
        if app_id not in self.apps:
            raise KeyError(app_id)
        return self._codes.issue(
            StubGrant(app_id, person, time.monotonic() + CODE_TTL_SECONDS, busy_times=busy_times)
        )

    def user_id_for(self, person: str) -> str:
        digits = int.from_bytes(_digest("alipay-user", person)[:8], "big") % 10**12
        return f"2088{digits:012d}"

    def open_id_for(self, app_id: str, person: str) -> str:
        return "0" + _b64id("alipay-open", app_id, person, length=42)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/gateway.do", self._gateway, methods=["POST"]),
                Route("/_stub/code", self._stub_code),
            ]
        )

    def _sign(self, text: str) -> str:
        signature = self._alipay_key.sign(
            text.encode("utf-8"), rsa_padding.PKCS1v15(), hashes.SHA256()
        )
        return base64.b64encode(signature).decode()

    def _signed(self, key: str, content: dict[str, Any], *, sign: str | None = None) -> Response:
        # Compact and unescaped, as Alipay writes it: a verifier that re-serializes fails.
        text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
        signature = self._sign(text) if sign is None else sign
        body = f'{{"{key}":{text},"sign":"{signature}"}}' if signature else f'{{"{key}":{text}}}'
        return Response(body.encode("utf-8"), media_type="text/html;charset=utf-8")

    def _error(self, code: str, msg: str, sub_code: str, sub_msg: str) -> Response:
        return self._signed(
            "error_response",
            {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg},
        )

    def _invalid(self, sub_code: str, sub_msg: str) -> Response:
        return self._error("40002", "Invalid Arguments", sub_code, sub_msg)

    def _request_refused(self, params: dict[str, str]) -> Response | None:
        if not params.get("app_id"):
            return self._error(
                "40001", "Missing Required Arguments", "isv.missing-app-id", "缺少AppID参数"
            )
        app = self.apps.get(params["app_id"])
        if app is None:
            return self._invalid("isv.invalid-app-id", "无效的AppID参数")
        if params.get("method") != "alipay.system.oauth.token":
            return self._invalid("isv.invalid-method", "不存在的方法名")
        if params.get("charset", "").lower() != "utf-8":
            return self._invalid("isv.invalid-charset", "字符集错误")
        if params.get("sign_type") != "RSA2":
            return self._invalid("isv.invalid-signature-type", "无效的签名类型")
        if params.get("version") != "1.0":
            return self._invalid("isv.invalid-version", "版本号错误")
        try:
            sent = datetime.strptime(params.get("timestamp", ""), "%Y-%m-%d %H:%M:%S").replace(
                tzinfo=ALIPAY_CHINA_TIME
            )
        except ValueError:
            return self._invalid("isv.invalid-timestamp", "非法的时间戳参数")
        if abs((datetime.now(ALIPAY_CHINA_TIME) - sent).total_seconds()) > 900:
            return self._invalid("isv.invalid-timestamp", "非法的时间戳参数")
        public_key = serialization.load_pem_public_key(app.public_key_pem.encode())
        assert isinstance(public_key, rsa.RSAPublicKey)
        try:
            public_key.verify(
                base64.b64decode(params.get("sign", ""), validate=True),
                alipay_string_to_sign(params).encode("utf-8"),
                rsa_padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, ValueError):
            return self._invalid(
                "isv.invalid-signature",
                "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为："
                + alipay_string_to_sign(params),
            )
        if params.get("grant_type") != "authorization_code":
            return self._invalid("isv.grant-type-invalid", "grant_type参数不正确")
        return None

    async def _gateway(self, request: Request) -> Response:
        params = dict(request.query_params)
        params.update({key: str(value) for key, value in (await request.form()).items()})
        code = params.get("code", "")
        self.calls[code] += 1
        refused = self._request_refused(params)
        if refused is not None:
            return refused
        app = self.apps[params["app_id"]]
        magic = _magic(code, "ali")
        if magic is not None and magic[0] not in {"tampered", "unsigned"}:
            kind, number = magic
            if kind == "slow":
                await asyncio.sleep(self.slow_seconds)
            elif kind == "http" and number is not None:
                return _http_failure(number)
            elif kind == "busy":
                return self._error(
                    "20000", "Service Currently Unavailable", "isp.unknow-error", "系统繁忙"
                )
            elif number == 40006:
                return self._error(
                    "40006",
                    "Insufficient Permissions",
                    "isv.insufficient-isv-permissions",
                    "ISV权限不足",
                )
            return self._invalid("isv.code-invalid", "授权码code无效")
        if magic is not None:
            person, subject_field = DEFAULT_PERSON, app.subject_field
        else:
            grant = self._codes.get(code)
            if grant is None or grant.app_id != app.app_id or grant.is_expired or grant.is_used:
                return self._invalid("isv.code-invalid", "授权码code无效")
            if grant.busy_times > 0:
                grant.busy_times -= 1
                return self._error(
                    "20000", "Service Currently Unavailable", "isp.unknow-error", "系统繁忙"
                )
            grant.is_used = True
            person, subject_field = grant.person, app.subject_field
        content: dict[str, Any] = {}
        if subject_field in {"user_id", "both"}:
            content["user_id"] = self.user_id_for(person)
        if subject_field in {"open_id", "both"}:
            content["open_id"] = self.open_id_for(app.app_id, person)
        content.update(
            {
                "access_token": "authusrB" + secrets.token_hex(16),
                "expires_in": 1296000,
                "refresh_token": "authusrB" + secrets.token_hex(16),
                "re_expires_in": 2592000,
                "auth_start": datetime.now(ALIPAY_CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S"),
            }
        )
        if magic is not None and magic[0] == "tampered":
            return self._signed(ALIPAY_RESPONSE_KEY, content, sign=self._sign("something else"))
        if magic is not None and magic[0] == "unsigned":
            return self._signed(ALIPAY_RESPONSE_KEY, content, sign="")
        return self._signed(ALIPAY_RESPONSE_KEY, content)

    async def _stub_code(self, request: Request) -> Response:
        query = request.query_params
        if query.get("app_id", "") not in self.apps:
            return JSONResponse({"error": "unknown app_id"}, status_code=404)
        return JSONResponse({"code": self.code_for(query["app_id"], query.get("person", "alice"))})


# --- Apple ------------------------------------------------------------------------------------

APPLE_ISSUER = "https://appleid.apple.com"
APPLE_SERVICE_ID = "com.example.usercenter.web"
APPLE_BUNDLE_ID = "com.example.usercenter"


class AppleStub:
    """appleid.apple.com: the JWKS at `/auth/keys` (`jwks_calls` counts its fetches) and id
    tokens minted here with the published keys."""

    def __init__(self, *, team: str = "STUBTEAM01") -> None:
        self.team = team
        self.jwks_calls = 0
        self._keys: dict[str, rsa.RSAPrivateKey] = {}
        self._current_kid = ""
        self._unpublished_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.rotate_key()

    def rotate_key(self) -> str:
        """Publish a new signing key and sign with it from now on; returns its kid."""
        kid = f"stub-{len(self._keys) + 1}-{secrets.token_hex(3)}"
        self._keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._current_kid = kid
        return kid

    def credentials(self, base_url: str, **extra: Any) -> AppCredentials:
        return AppCredentials(
            AppType.APPLE,
            APPLE_SERVICE_ID,
            "",
            {"keys_url": base_url + "/auth/keys", "audiences": [APPLE_BUNDLE_ID], **extra},
        )

    def subject_for(self, person: str) -> str:
        """Apple's `sub`: stable per person and team."""
        digest = _digest("apple-sub", self.team, person).hex()
        head, tail = int(digest[:8], 16) % 10000, int(digest[40:48], 16) % 10000
        return f"00{head:04d}.{digest[8:40]}.{tail:04d}"

    def mint_id_token(
        self,
        audience: str = APPLE_SERVICE_ID,
        person: str = DEFAULT_PERSON,
        *,
        nonce: str | None = None,
        hash_nonce: bool = True,
        email: str | None = None,
        issuer: str = APPLE_ISSUER,
        is_expired: bool = False,
        lifetime: int = 600,
        is_published: bool = True,
        kid: str | None = None,
    ) -> str:
        """An id_token for `person`; `nonce` goes in as its SHA-256 hex (as Apple does for
        native apps) unless `hash_nonce` is false. `is_published=False` signs with a key the
        JWKS does not list."""
        now = int(time.time())
        issued_at = now - lifetime - 60 if is_expired else now
        claims: dict[str, Any] = {
            "iss": issuer,
            "aud": audience,
            "exp": issued_at + lifetime,
            "iat": issued_at,
            "sub": self.subject_for(person),
            "c_hash": secrets.token_urlsafe(16),
            "email": email or f"{person}@privaterelay.appleid.com",
            "email_verified": True,
            "is_private_email": email is None,
            "auth_time": issued_at,
            "nonce_supported": True,
        }
        if nonce is not None:
            claims["nonce"] = hashlib.sha256(nonce.encode()).hexdigest() if hash_nonce else nonce
        if is_published:
            key_id = kid or self._current_kid
            key = self._keys[key_id]
        else:
            key_id, key = kid or "stub-unpublished", self._unpublished_key
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": key_id})

    def mint_unsigned_id_token(
        self, audience: str = APPLE_SERVICE_ID, person: str = DEFAULT_PERSON
    ) -> str:
        """A token with `alg: none` and no signature (which must never be accepted)."""

        def part(value: dict[str, Any]) -> str:
            raw = json.dumps(value, separators=(",", ":")).encode()
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")

        now = int(time.time())
        header = {"alg": "none", "kid": self._current_kid, "typ": "JWT"}
        claims = {
            "iss": APPLE_ISSUER,
            "aud": audience,
            "exp": now + 600,
            "iat": now,
            "sub": self.subject_for(person),
        }
        return f"{part(header)}.{part(claims)}."

    def app(self) -> Starlette:
        return Starlette(
            routes=[Route("/auth/keys", self._jwks), Route("/_stub/id-token", self._stub_token)]
        )

    async def _jwks(self, request: Request) -> Response:
        self.jwks_calls += 1
        keys = []
        for kid, key in self._keys.items():
            jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return JSONResponse({"keys": keys})

    async def _stub_token(self, request: Request) -> Response:
        query = request.query_params
        token = self.mint_id_token(
            query.get("aud", APPLE_SERVICE_ID),
            query.get("person", DEFAULT_PERSON),
            nonce=query.get("nonce"),
        )
        return JSONResponse({"id_token": token})


# --- all of them ------------------------------------------------------------------------------


@dataclass
class RunningStubs:
    """The stubs being served, their base URLs, and apps configured to use them."""

    wechat: WeChatStub
    qq: QQStub
    weibo: WeiboStub
    alipay: AlipayStub
    apple: AppleStub
    urls: dict[str, str] = field(default_factory=dict)

    def apps(self) -> list[AppCredentials]:
        """One AppCredentials per demo app, pointing at the stubs."""
        return [
            *(self.wechat.credentials(app_id, self.urls["wechat"]) for app_id in self.wechat.apps),
            *(self.qq.credentials(app_id, self.urls["qq"]) for app_id in self.qq.apps),
            *(self.weibo.credentials(app_id, self.urls["weibo"]) for app_id in self.weibo.apps),
            *(self.alipay.credentials(app_id, self.urls["alipay"]) for app_id in self.alipay.apps),
            self.apple.credentials(self.urls["apple"]),
        ]

    def app(self, app_id: str) -> AppCredentials:
        """The demo app `app_id`."""
        for app in self.apps():
            if app.app_id == app_id:
                return app
        raise KeyError(app_id)


@contextmanager
def serve_stubs(
    *,
    host: str = "127.0.0.1",
    base_port: int | None = None,
    wechat: WeChatStub | None = None,
    qq: QQStub | None = None,
    weibo: WeiboStub | None = None,
    alipay: AlipayStub | None = None,
    apple: AppleStub | None = None,
) -> Iterator[RunningStubs]:
    """Serve every stub (new ones with the demo apps unless given) on free ports, or on
    `base_port` to `base_port + 4`, until the block ends."""
    running = RunningStubs(
        wechat=wechat or WeChatStub(),
        qq=qq or QQStub(),
        weibo=weibo or WeiboStub(),
        alipay=alipay or AlipayStub(),
        apple=apple or AppleStub(),
    )
    stubs: dict[str, Starlette] = {
        "wechat": running.wechat.app(),
        "qq": running.qq.app(),
        "weibo": running.weibo.app(),
        "alipay": running.alipay.app(),
        "apple": running.apple.app(),
    }
    with ExitStack() as stack:
        for offset, (name, app) in enumerate(stubs.items()):
            port = 0 if base_port is None else base_port + offset
            running.urls[name] = stack.enter_context(serve(app, host=host, port=port))
        yield running


def _client_app_setting(app: AppCredentials) -> dict[str, Any]:
    return {
        "app_type": app.app_type.value,
        "app_id": app.app_id,
        "secret": app.secret,
        "name": f"stub {app.app_type.value}",
        "extra": app.extra,
    }


def usage(running: RunningStubs) -> str:
    """What `main` prints: the URLs, the demo apps as USERCENTER_CLIENT_APPS, how to get codes."""
    wechat, apple = running.urls["wechat"], running.urls["apple"]
    apps = json.dumps([_client_app_setting(app) for app in running.apps()], ensure_ascii=False)
    lines = [
        *(f"{name:7} {url}" for name, url in running.urls.items()),
        "",
        f"USERCENTER_CLIENT_APPS={apps}",
        "",
        "A login code:  GET <stub>/_stub/code?app_id=<app id>&person=alice",
        f"  e.g.         GET {wechat}/_stub/code?app_id={WECHAT_MINIAPP_ID}&person=alice",
        f"A phone code:  GET {wechat}/_stub/phone-code?app_id={WECHAT_MINIAPP_ID}"
        "&phone=%2B8613812345678",
        f"Apple token:   GET {apple}/_stub/id-token?aud={APPLE_SERVICE_ID}&person=alice&nonce=n",
        "Magic codes:   wx-40029 wx-40163 wx-45011 wx-40226 wx-48001 wx-45009 wx-busy wx-slow",
        "               wx-http-502, qq-100019 qq-slow, wb-21325 wb-slow,",
        "               ali-tampered ali-unsigned ali-busy ali-40006 ali-slow",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Serve every stub until interrupted, after printing `usage`."""
    parser = argparse.ArgumentParser(description="Serve the login provider stubs")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--base-port", type=int, default=None)
    args = parser.parse_args(argv)
    with serve_stubs(host=args.host, base_port=args.base_port) as running:
        print(usage(running), flush=True)
        with suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
