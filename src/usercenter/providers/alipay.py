"""Alipay: `alipay.system.oauth.token` through the open API gateway, the request signed with
the app's private key (RSA2: SHA256withRSA) and the answer verified with Alipay's public key.

Alipay signs the exact text of the response object as it appears in the body; re-serializing
would change spacing and escapes and break the signature, so the raw member text is cut out of
the body (`top_level_members`) and verified as is. An answer whose signature does not verify,
or a success that comes unsigned, is ProviderUnavailable and logged as an error: somebody
between us and Alipay may be forging answers.

Errors come as `{"error_response": {"code": "40002", "sub_code": "isv.code-invalid", ...}}`:
an invalid or used code is ProviderCodeInvalid, missing permissions (40006)
ProviderRejected, 20000 (service unavailable) is tried again `retries` times, and everything
else (a wrong signature of ours, an unknown app id) is ProviderUnavailable.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from datetime import timedelta, timezone
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from usercenter.kit import clock
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

PROVIDER = "alipay"
GATEWAY = "https://openapi.alipay.com/gateway.do"
OPEN_BASE = "https://openauth.alipay.com"
METHOD = "alipay.system.oauth.token"
RESPONSE_KEY = "alipay_system_oauth_token_response"
ERROR_KEY = "error_response"
CHINA_TIME = timezone(timedelta(hours=8))
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"

CODE_INVALID_SUB_CODES = frozenset({"isv.code-invalid", "isv.invalid-auth-code"})
REJECTED_CODES = frozenset({"40006"})
BUSY_CODE = "20000"

_DECODER = json.JSONDecoder()
_WHITESPACE = re.compile(r"[ \t\n\r]*")


# --- signatures -------------------------------------------------------------------------------


def sign_content(params: Mapping[str, str]) -> str:
    """What RSA2 signs: `k=v` of every non-empty parameter but `sign`, sorted, joined by `&`."""
    return "&".join(
        f"{key}={params[key]}" for key in sorted(params) if key != "sign" and params[key]
    )


@lru_cache(maxsize=64)
def load_private_key(text: str) -> rsa.RSAPrivateKey:
    """An RSA private key from PEM, or from the bare base64 (PKCS#8) Alipay's tool prints."""
    key = (
        serialization.load_pem_private_key(text.encode(), password=None)
        if "-----BEGIN" in text
        else serialization.load_der_private_key(base64.b64decode(text), password=None)
    )
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


@lru_cache(maxsize=64)
def load_public_key(text: str) -> rsa.RSAPublicKey:
    """An RSA public key from PEM, or from bare base64 (X.509 SubjectPublicKeyInfo)."""
    key = (
        serialization.load_pem_public_key(text.encode())
        if "-----BEGIN" in text
        else serialization.load_der_public_key(base64.b64decode(text))
    )
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def rsa2_sign(content: str, private_key: rsa.RSAPrivateKey) -> str:
    signature = private_key.sign(content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def rsa2_verify(content: str, signature: str, public_key: rsa.RSAPublicKey) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        public_key.verify(raw, content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def top_level_members(text: str) -> dict[str, str]:
    """The raw text of each member value of the JSON object `text`, exactly as written.
    ValueError when `text` is not one JSON object."""

    def skip(position: int) -> int:
        match = _WHITESPACE.match(text, position)
        return match.end() if match else position

    position = skip(0)
    if text[position : position + 1] != "{":
        raise ValueError("not a JSON object")
    position = skip(position + 1)
    members: dict[str, str] = {}
    if text[position : position + 1] == "}":
        return members
    while True:
        key, position = _DECODER.raw_decode(text, position)
        if not isinstance(key, str):
            raise ValueError("member name is not a string")
        position = skip(position)
        if text[position : position + 1] != ":":
            raise ValueError("expected ':'")
        start = skip(position + 1)
        _, end = _DECODER.raw_decode(text, start)
        members[key] = text[start:end]
        position = skip(end)
        separator = text[position : position + 1]
        if separator == "}":
            if text[skip(position + 1) :]:
                raise ValueError("text after the object")
            return members
        if separator != ",":
            raise ValueError("expected ',' or '}'")
        position = skip(position + 1)


def error_for(code: str, sub_code: str) -> type[ProviderError]:
    if sub_code in CODE_INVALID_SUB_CODES:
        return ProviderCodeInvalid
    if code in REJECTED_CODES:
        return ProviderRejected
    return ProviderUnavailable


def _is_busy(response: httpx.Response) -> str | None:
    data = json_object(response)
    error = data.get(ERROR_KEY) if data else None
    if isinstance(error, dict) and str(error.get("code")) == BUSY_CODE:
        return f"{BUSY_CODE} {error.get('sub_code') or ''}".strip()
    return None


# --- the adapter ------------------------------------------------------------------------------


class AlipayProvider:
    """Alipay login. The app's `extra` holds `private_key` (the app private key) and
    `alipay_public_key`, PEM or bare base64; `gateway` points it at another gateway (a local
    stub or the sandbox)."""

    app_types: tuple[AppType, ...] = (AppType.ALIPAY,)

    def __init__(
        self,
        http: httpx.AsyncClient | None = None,
        *,
        gateway: str = GATEWAY,
        open_base: str = OPEN_BASE,
        timeout: float = 5.0,
        retries: int = 1,
        backoff: float = 0.2,
    ) -> None:
        self._http = VendorHttp(PROVIDER, http, timeout=timeout, retries=retries, backoff=backoff)
        self._gateway = gateway
        self._open_base = open_base

    def _keys(self, app: AppCredentials) -> tuple[rsa.RSAPrivateKey, rsa.RSAPublicKey]:
        try:
            return (
                load_private_key(str(app.extra["private_key"])),
                load_public_key(str(app.extra["alipay_public_key"])),
            )
        except (KeyError, ValueError, TypeError, binascii.Error):
            raise self._http.failure(
                ProviderUnavailable,
                app_id=app.app_id,
                operation=METHOD,
                vendor_code="private_key or alipay_public_key missing or unreadable",
                loud=True,
            ) from None

    def signed_params(self, app: AppCredentials, code: str) -> dict[str, str]:
        """The form of one token request, signed."""
        private_key, _ = self._keys(app)
        params = {
            "app_id": app.app_id,
            "method": METHOD,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": clock.now().astimezone(CHINA_TIME).strftime(TIMESTAMP_FORMAT),
            "version": "1.0",
            "grant_type": "authorization_code",
            "code": code,
        }
        params["sign"] = rsa2_sign(sign_content(params), private_key)
        return params

    async def exchange(self, app: AppCredentials, proof: LoginProof) -> ExternalIdentity:
        """The person behind an auth code; raises ProviderCodeInvalid, ProviderRejected or
        ProviderUnavailable (also for an answer that is not Alipay's)."""
        if not proof.code:
            raise ProviderCodeInvalid(provider=PROVIDER, vendor_code="missing code")
        _, alipay_key = self._keys(app)
        response = await self._http.request(
            "POST",
            str(app.extra.get("gateway") or self._gateway),
            app_id=app.app_id,
            operation=METHOD,
            data=self.signed_params(app, proof.code),
            is_busy=_is_busy,
        )
        content = self._verified_content(app, response, alipay_key)
        subject = content.get("open_id") or content.get("user_id")
        if not isinstance(subject, str) or not subject:
            raise self._http.failure(
                ProviderUnavailable,
                app_id=app.app_id,
                operation=METHOD,
                vendor_code="answer without open_id or user_id",
            )
        return ExternalIdentity(app_type=app.app_type, app_id=app.app_id, subject=subject)

    def _verified_content(
        self, app: AppCredentials, response: httpx.Response, alipay_key: rsa.RSAPublicKey
    ) -> dict[str, Any]:
        """The signed response object; raises for an error answer or a bad signature."""
        try:
            members = top_level_members(response.content.decode("utf-8"))
            sign = json.loads(members["sign"]) if "sign" in members else None
        except (ValueError, UnicodeDecodeError):
            raise self._http.failure(
                ProviderUnavailable,
                app_id=app.app_id,
                operation=METHOD,
                vendor_code=f"HTTP {response.status_code} without a JSON object",
            ) from None
        is_success = RESPONSE_KEY in members
        raw = members.get(RESPONSE_KEY) or members.get(ERROR_KEY)
        if raw is None:
            raise self._http.failure(
                ProviderUnavailable,
                app_id=app.app_id,
                operation=METHOD,
                vendor_code="answer without a response object",
            )
        # An error may come unsigned (Alipay does not sign some); a success never may.
        if (sign is not None or is_success) and not self._signature_holds(raw, sign, alipay_key):
            raise self._http.failure(
                ProviderUnavailable,
                app_id=app.app_id,
                operation=METHOD,
                vendor_code="response signature invalid" if sign else "response unsigned",
                loud=True,
            )
        content = json.loads(raw)
        if not isinstance(content, dict):
            raise self._http.failure(
                ProviderUnavailable,
                app_id=app.app_id,
                operation=METHOD,
                vendor_code="response is not an object",
            )
        code = str(content.get("code") or "")
        if not is_success or (code and code != "10000"):
            sub_code = str(content.get("sub_code") or "")
            raise self._http.failure(
                error_for(code, sub_code),
                app_id=app.app_id,
                operation=METHOD,
                vendor_code=f"{code} {sub_code}".strip(),
                message=content.get("sub_msg") or content.get("msg"),
            )
        return content

    @staticmethod
    def _signature_holds(raw: str, sign: object, alipay_key: rsa.RSAPublicKey) -> bool:
        if not isinstance(sign, str) or not sign:
            return False
        if rsa2_verify(raw, sign, alipay_key):
            return True
        # Alipay's own SDKs accept a signature over the text with `\/` unescaped.
        return "\\/" in raw and rsa2_verify(raw.replace("\\/", "/"), sign, alipay_key)

    def authorize_url(self, app: AppCredentials, *, redirect_uri: str, state: str) -> str:
        """Alipay's web authorization page (scope `app.extra["scope"]`, auth_user by default)."""
        base = str(app.extra.get("open_base") or self._open_base).rstrip("/")
        query = urlencode(
            {
                "app_id": app.app_id,
                "scope": str(app.extra.get("scope") or "auth_user"),
                "redirect_uri": redirect_uri,
                "state": state,
            }
        )
        return f"{base}/oauth2/publicAppAuthorize.htm?{query}"
