"""The Alipay stub (openapi.alipay.com/gateway.do, `alipay.system.oauth.token`): it checks the
request's RSA2 signature and signs its answers with a key of its own, as Alipay does.

Magic codes: `ali-tampered` (a response signature that does not match), `ali-unsigned`,
`ali-busy` (20000 isp.unknow-error), `ali-40006` (missing permissions), `ali-slow`,
`ali-http-<status>`."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from usercenter.providers.base import AppCredentials, AppType
from usercenter.providers.stubs.base import (
    DEFAULT_PERSON,
    SLOW_SECONDS,
    VendorStub,
    b64id,
    digest,
    http_failure,
    magic_code,
)

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


class AlipayStub(VendorStub[AlipayStubApp]):
    """openapi.alipay.com/gateway.do. Keys are generated when the stub is made:
    `alipay_public_key_pem` and each app's `private_key_pem` go into the app's `extra`."""

    magic_prefix = "ali"
    magic_words = "slow|busy|tampered|unsigned"

    def __init__(self, *, slow_seconds: float = SLOW_SECONDS, with_demo_apps: bool = True) -> None:
        super().__init__(slow_seconds=slow_seconds)
        self._alipay_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.alipay_public_key_pem = _pem_public(self._alipay_key.public_key())
        if with_demo_apps:
            self.add_app(ALIPAY_APP_ID)

    def add_app(self, app_id: str, *, subject_field: str = "open_id") -> AlipayStubApp:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        app = AlipayStubApp(app_id, _pem_private(key), _pem_public(key.public_key()), subject_field)
        return self._register(app_id, app)

    def _credentials(self, app: AlipayStubApp, base_url: str) -> AppCredentials:
        extra = {
            "gateway": base_url + "/gateway.do",
            "private_key": app.private_key_pem,
            "alipay_public_key": self.alipay_public_key_pem,
        }
        return AppCredentials(AppType.ALIPAY, app.app_id, "", extra)

    def code_for(self, app_id: str, person: str = DEFAULT_PERSON, *, busy_times: int = 0) -> str:
        if app_id not in self.apps:
            raise KeyError(app_id)
        return self._codes.issue(app_id, person, busy_times=busy_times)

    def user_id_for(self, person: str) -> str:
        digits = int.from_bytes(digest("alipay-user", person)[:8], "big") % 10**12
        return f"2088{digits:012d}"

    def open_id_for(self, app_id: str, person: str) -> str:
        return "0" + b64id("alipay-open", app_id, person, length=42)

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

    def _busy(self) -> Response:
        return self._error("20000", "Service Currently Unavailable", "isp.unknow-error", "系统繁忙")

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

    async def _magic_failure(self, kind: str, number: int | None) -> Response:
        """The answer to a magic code that fails the call (all but tampered and unsigned)."""
        if kind == "slow":
            await asyncio.sleep(self.slow_seconds)
        elif kind == "http" and number is not None:
            return http_failure(number)
        elif kind == "busy":
            return self._busy()
        elif number == 40006:
            return self._error(
                "40006",
                "Insufficient Permissions",
                "isv.insufficient-isv-permissions",
                "ISV权限不足",
            )
        return self._invalid("isv.code-invalid", "授权码code无效")

    async def _gateway(self, request: Request) -> Response:
        params = dict(request.query_params)
        params.update({key: str(value) for key, value in (await request.form()).items()})
        code = params.get("code", "")
        self.calls[code] += 1
        refused = self._request_refused(params)
        if refused is not None:
            return refused
        app = self.apps[params["app_id"]]
        magic = magic_code(code, self.magic_prefix, self.magic_words)
        if magic is not None and magic[0] not in {"tampered", "unsigned"}:
            return await self._magic_failure(*magic)
        if magic is not None:
            person = DEFAULT_PERSON
        else:
            grant = self._codes.redeem(code, app.app_id)
            if grant == "busy":
                return self._busy()
            if isinstance(grant, str):
                return self._invalid("isv.code-invalid", "授权码code无效")
            person = grant.person
        content: dict[str, Any] = {}
        if app.subject_field in {"user_id", "both"}:
            content["user_id"] = self.user_id_for(person)
        if app.subject_field in {"open_id", "both"}:
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
