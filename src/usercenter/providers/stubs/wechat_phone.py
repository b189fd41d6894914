"""The WeChat stub's server side: the apps' access tokens (`/cgi-bin/stable_token`) and the
mini program's phone number (`/wxa/business/getuserphonenumber`, and the legacy encrypted
data), with the WeChat app kinds and error answers both halves of the stub use."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import phonenumbers
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from usercenter.providers.base import AppType
from usercenter.providers.stubs.base import DEFAULT_PHONE, Grants

if TYPE_CHECKING:
    from usercenter.providers.stubs.wechat import WeChatStub

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

MINIAPP = frozenset({AppType.WECHAT_MINIAPP})
OAUTH_APPS = frozenset({AppType.WECHAT_OFFICIAL, AppType.WECHAT_APP, AppType.WECHAT_WEB})


@dataclass
class WeChatStubApp:
    app_id: str
    secret: str
    app_type: AppType
    is_bound: bool = True  # bound to the stub's Open Platform account: answers carry unionid


def wechat_error(errcode: int, message: str | None = None) -> JSONResponse:
    """WeChat's error answer: HTTP 200 with `errcode` and `errmsg` (and a request id)."""
    text = message or WECHAT_MESSAGES.get(errcode, "stub error")
    return JSONResponse({"errcode": errcode, "errmsg": f"{text}, rid: {secrets.token_hex(12)}"})


@dataclass
class _AccessToken:
    app_id: str
    expires_at: float


def legacy_encrypt(session_key: str, payload: dict[str, Any]) -> tuple[str, str]:
    """`(encryptedData, iv)` as a mini program gets them: AES-128-CBC, PKCS#7, base64."""
    key = base64.b64decode(session_key)
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    plain = padder.update(json.dumps(payload, ensure_ascii=False).encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    data = encryptor.update(plain) + encryptor.finalize()
    return base64.b64encode(data).decode(), base64.b64encode(iv).decode()


def _phone_info(phone: str, app_id: str) -> dict[str, Any]:
    """What WeChat says about the E.164 number `phone` (`+86…` as the national number)."""
    number = phonenumbers.parse(phone)
    country, pure = str(number.country_code), str(number.national_number)
    return {
        "phoneNumber": pure if country == "86" else f"+{country}{pure}",
        "purePhoneNumber": pure,
        "countryCode": country,
        "watermark": {"timestamp": int(time.time()), "appid": app_id},
    }


class WeChatPhoneDesk:
    """The access tokens and phone codes of one WeChat stub (`stub`), and their endpoints.
    `stable_token_calls[app_id]` counts the access token fetches."""

    def __init__(self, stub: WeChatStub, *, token_delay: float) -> None:
        self.stub = stub
        self.token_delay = token_delay
        self.stable_token_calls: Counter[str] = Counter()
        self._phone_codes = Grants()
        self._access_tokens: dict[str, _AccessToken] = {}
        self._current_access_token: dict[str, str] = {}
        self._revoked: set[str] = set()

    def code_for(self, app_id: str, phone: str = DEFAULT_PHONE, *, busy_times: int = 0) -> str:
        """A phone button code (getPhoneNumber's `code`) for the E.164 number `phone`."""
        if self.stub.apps[app_id].app_type is not AppType.WECHAT_MINIAPP:
            raise ValueError("phone codes come from mini programs")
        return self._phone_codes.issue(app_id, "", phone=phone, busy_times=busy_times)

    @staticmethod
    def legacy_data(session_key: str, app_id: str, phone: str) -> tuple[str, str]:
        """`(encryptedData, iv)` of getPhoneNumber's legacy answer under `session_key`."""
        return legacy_encrypt(session_key, _phone_info(phone, app_id))

    def invalidate_access_token(self, app_id: str) -> None:
        """The app's current access token stops working (40001)."""
        token = self._current_access_token.pop(app_id, None)
        if token is not None:
            self._revoked.add(token)

    async def stable_token(self, request: Request) -> Response:
        try:
            payload = json.loads(await request.body())
        except ValueError:
            return wechat_error(47001)
        if not isinstance(payload, dict):
            return wechat_error(47001)
        self.stable_token_calls[str(payload.get("appid", ""))] += 1
        if payload.get("grant_type") != "client_credential":
            return wechat_error(40002)
        app = self.stub.app_checked(
            str(payload.get("appid", "")), str(payload.get("secret", "")), MINIAPP | OAUTH_APPS
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

    async def getuserphonenumber(self, request: Request) -> Response:
        token = request.query_params.get("access_token", "")
        if not token:
            return wechat_error(41001)
        record = self._access_tokens.get(token)
        if record is None or token in self._revoked:
            return wechat_error(40001)
        if record.expires_at <= time.monotonic():
            return wechat_error(42001)
        try:
            payload = json.loads(await request.body())
        except ValueError:
            return wechat_error(47001)
        code = str(payload.get("code", "")) if isinstance(payload, dict) else ""
        self.stub.calls[code] += 1
        if not code:
            return wechat_error(41008)
        answer = await self.stub.magic_answer(code)
        if answer is not None:
            return answer
        grant = self.stub.redeem(self._phone_codes, self.stub.apps[record.app_id], code)
        if isinstance(grant, Response):
            return grant
        info = _phone_info(grant.phone or DEFAULT_PHONE, record.app_id)
        return JSONResponse({"errcode": 0, "errmsg": "ok", "phone_info": info})

    async def stub_phone_code(self, request: Request) -> Response:
        """`GET /_stub/phone-code?app_id=&phone=`: a phone code over HTTP, for demos."""
        query = request.query_params
        app = self.stub.apps.get(query.get("app_id", ""))
        if app is None or app.app_type is not AppType.WECHAT_MINIAPP:
            return JSONResponse({"error": "unknown mini program"}, status_code=404)
        return JSONResponse({"code": self.code_for(app.app_id, query.get("phone", DEFAULT_PHONE))})
