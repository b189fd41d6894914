"""WeChat: mini program login (jscode2session), OAuth2 for the official account, mobile app
and website, the mini program's phone number and legacy encrypted data. The calls, what
WeChat's errcodes become and the server access token are in `wechat_api`.

A retried exchange can meet 40163 when the first try reached WeChat but its answer did not
reach us: the code is spent either way, and the client has to get a new one.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from typing import Any
from urllib.parse import urlencode

import httpx
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from usercenter.kit.cache import MemoryCache
from usercenter.kit.log import get_logger
from usercenter.providers.base import AppCredentials, AppType, ExternalIdentity, LoginProof
from usercenter.providers.errors import (
    ProviderCodeInvalid,
    ProviderRejected,
)
from usercenter.providers.oauth_json import (
    JsonOAuthProvider,
    optional_text,
    with_profile,
)
from usercenter.providers.wechat_api import (
    ACCESS_TOKEN_INVALID_ERRCODES,
    API_BASE,
    PROVIDER,
    WeChatApi,
    errcode,
)
from usercenter.providers.wechat_api import (
    WeChatAccessTokens as WeChatAccessTokens,  # re-exported: the registry builds it here
)

_log = get_logger(__name__)

OPEN_BASE = "https://open.weixin.qq.com"
PROFILE_SCOPES = frozenset({"snsapi_userinfo", "snsapi_login"})

_E164 = re.compile(r"\+[1-9]\d{6,14}")


def decrypt_legacy(session_key: str, encrypted_data: str, iv: str, app_id: str) -> dict[str, Any]:
    """The JSON of a mini program's legacy `encryptedData` (AES-128-CBC, PKCS#7, key = the
    session_key). ProviderCodeInvalid when it cannot be decrypted (bad base64, a stale
    session_key, garbage); ProviderRejected when its watermark names another app."""

    def invalid(reason: str) -> ProviderCodeInvalid:
        _log.info("wechat_legacy_decrypt_failed", app_id=app_id, reason=reason)
        return ProviderCodeInvalid(provider=PROVIDER, vendor_code=reason, field="encrypted_data")

    try:
        key = base64.b64decode(session_key, validate=True)
        ciphertext = base64.b64decode(encrypted_data, validate=True)
        vector = base64.b64decode(iv, validate=True)
    except (binascii.Error, ValueError):
        raise invalid("bad base64") from None
    if len(key) != 16 or len(vector) != 16 or not ciphertext or len(ciphertext) % 16:
        raise invalid("bad lengths")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(vector)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        plain = unpadder.update(padded) + unpadder.finalize()
        payload = json.loads(plain.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise invalid("bad padding or content") from None
    if not isinstance(payload, dict):
        raise invalid("not an object")
    watermark = payload.get("watermark")
    owner = watermark.get("appid") if isinstance(watermark, dict) else None
    if not isinstance(owner, str) or not hmac.compare_digest(owner, app_id):
        _log.warning("wechat_legacy_watermark_mismatch", app_id=app_id)
        raise ProviderRejected(provider=PROVIDER, vendor_code="watermark appid mismatch")
    return payload


class WeChatProvider(JsonOAuthProvider):
    """Every WeChat app type; `app.extra["api_base"]` points one app at another API host
    (a local stub), `app.extra["open_base"]` its authorize pages."""

    app_types: tuple[AppType, ...] = (
        AppType.WECHAT_MINIAPP,
        AppType.WECHAT_OFFICIAL,
        AppType.WECHAT_APP,
        AppType.WECHAT_WEB,
    )
    api_class = WeChatApi
    default_api_base = API_BASE

    def __init__(
        self,
        http: httpx.AsyncClient | None = None,
        *,
        api_base: str = API_BASE,
        open_base: str = OPEN_BASE,
        timeout: float = 5.0,
        retries: int = 1,
        backoff: float = 0.2,
        tokens: WeChatAccessTokens | None = None,
    ) -> None:
        super().__init__(http, api_base=api_base, timeout=timeout, retries=retries, backoff=backoff)
        self._open_base = open_base
        # Without a shared cache the token lives in this process only (fine for one worker).
        self.tokens = tokens or WeChatAccessTokens(
            MemoryCache(), http, api_base, timeout=timeout, retries=retries, backoff=backoff
        )

    # --- login ----------------------------------------------------------------------------

    async def exchange(self, app: AppCredentials, proof: LoginProof) -> ExternalIdentity:
        """The person behind a login code. Raises ProviderCodeInvalid, ProviderRejected or
        ProviderUnavailable (see the module)."""
        if app.app_type not in self.app_types:
            raise ValueError(f"not a WeChat app: {app.app_type}")
        if not proof.code:
            raise ProviderCodeInvalid(provider=PROVIDER, vendor_code="missing code")
        if app.app_type is AppType.WECHAT_MINIAPP:
            return await self._exchange_miniapp(app, proof.code)
        return await self._exchange_oauth(app, proof.code)

    async def _redeem(
        self, app: AppCredentials, path: str, code: dict[str, str], operation: str
    ) -> dict[str, Any]:
        """The answer to a login code (`code`: its parameter), checked."""
        params = {"appid": app.app_id, "secret": app.secret, **code}
        params["grant_type"] = "authorization_code"
        return await self._api.call(app, "GET", path, operation=operation, params=params)

    async def _exchange_miniapp(self, app: AppCredentials, code: str) -> ExternalIdentity:
        operation = "jscode2session"
        data = await self._redeem(app, "/sns/jscode2session", {"js_code": code}, operation)
        return ExternalIdentity(
            app_type=app.app_type,
            app_id=app.app_id,
            subject=self._api.text(app, data, "openid", operation=operation),
            union_id=optional_text(data.get("unionid")),
            session_key=self._api.text(app, data, "session_key", operation=operation),
        )

    async def _exchange_oauth(self, app: AppCredentials, code: str) -> ExternalIdentity:
        operation = "oauth2_access_token"
        data = await self._redeem(app, "/sns/oauth2/access_token", {"code": code}, operation)
        openid = self._api.text(app, data, "openid", operation=operation)
        if data.get("is_snapshotuser") == 1:
            # A "snapshot page" visitor: WeChat hands out a virtual openid, not a person.
            raise self._api.http.failure(
                ProviderRejected,
                app_id=app.app_id,
                operation=operation,
                vendor_code="is_snapshotuser",
            )
        identity = ExternalIdentity(
            app_type=app.app_type,
            app_id=app.app_id,
            subject=openid,
            union_id=optional_text(data.get("unionid")),
        )
        scopes = set(str(data.get("scope") or "").split(","))
        if not scopes & PROFILE_SCOPES:
            return identity
        access_token = self._api.text(app, data, "access_token", operation=operation)
        # A failing userinfo fails the login: it may carry the unionid, and a login without
        # it would make a second account for a person we already know.
        return await self._with_profile(app, identity, access_token)

    async def _with_profile(
        self, app: AppCredentials, identity: ExternalIdentity, access_token: str
    ) -> ExternalIdentity:
        operation = "userinfo"
        info = await self._api.call(
            app,
            "GET",
            "/sns/userinfo",
            operation=operation,
            params={"access_token": access_token, "openid": identity.subject, "lang": "zh_CN"},
        )
        if info.get("openid") not in (None, identity.subject):
            self._api.unavailable(
                app,
                operation=operation,
                vendor_code="userinfo of another openid",
            )
        return with_profile(
            identity,
            nickname=info.get("nickname"),
            avatar=info.get("headimgurl"),
            union_id=info.get("unionid"),
        )

    def authorize_url(self, app: AppCredentials, *, redirect_uri: str, state: str) -> str:
        """The official account's OAuth2 page (scope `app.extra["scope"]`, snsapi_base by
        default) or the website's QR login page; ValueError for a mini program or mobile app,
        which get their code from the WeChat client."""
        open_base = str(app.extra.get("open_base") or self._open_base).rstrip("/")
        if app.app_type is AppType.WECHAT_OFFICIAL:
            path = "/connect/oauth2/authorize"
            scope = str(app.extra.get("scope") or "snsapi_base")
            if scope not in {"snsapi_base", "snsapi_userinfo"}:
                raise ValueError(f"not an official account scope: {scope}")
        elif app.app_type is AppType.WECHAT_WEB:
            path = "/connect/qrconnect"
            scope = "snsapi_login"
        else:
            raise ValueError(f"{app.app_type} has no browser authorization flow")
        # WeChat wants the parameters in this order, and the fragment at the end.
        query = urlencode(
            [
                ("appid", app.app_id),
                ("redirect_uri", redirect_uri),
                ("response_type", "code"),
                ("scope", scope),
                ("state", state),
            ]
        )
        return f"{open_base}{path}?{query}#wechat_redirect"

    # --- mini program phone number and legacy data ----------------------------------------

    async def phone_number(self, app: AppCredentials, code: str) -> str:
        """The E.164 number (`+8613812345678`) behind a phone button code. Raises
        ProviderCodeInvalid (wrong, used or expired code), ProviderRejected or
        ProviderUnavailable. A rejected access token is dropped and fetched once more."""
        if app.app_type is not AppType.WECHAT_MINIAPP:
            raise ValueError("phone numbers come from mini programs only")
        if not code:
            raise ProviderCodeInvalid(provider=PROVIDER, vendor_code="missing code")
        operation = "getuserphonenumber"
        token = await self.tokens.get(app)
        data = await self._phone_call(app, token, code)
        if errcode(data) in ACCESS_TOKEN_INVALID_ERRCODES:
            _log.info("wechat_access_token_rejected", app_id=app.app_id, vendor_code=errcode(data))
            await self.tokens.invalidate(app, token)
            data = await self._phone_call(app, await self.tokens.get(app), code)
        self._api.check(app, data, operation=operation)
        info = data.get("phone_info")
        if not isinstance(info, dict):
            self._api.unavailable(
                app,
                operation=operation,
                vendor_code="answer without phone_info",
            )
        watermark = info.get("watermark")
        if isinstance(watermark, dict) and watermark.get("appid") not in (None, app.app_id):
            self._api.unavailable(
                app,
                operation=operation,
                vendor_code="watermark appid mismatch",
                loud=True,
            )
        phone = f"+{info.get('countryCode') or ''}{info.get('purePhoneNumber') or ''}"
        if not _E164.fullmatch(phone):
            self._api.unavailable(
                app,
                operation=operation,
                vendor_code="phone_info not a phone number",
            )
        return phone

    async def _phone_call(self, app: AppCredentials, token: str, code: str) -> dict[str, Any]:
        return await self._api.call(
            app,
            "POST",
            "/wxa/business/getuserphonenumber",
            operation="getuserphonenumber",
            params={"access_token": token},
            json_body={"code": code},
            check=False,  # a rejected access token is fetched again first
        )

    @staticmethod
    def decrypt_legacy(
        session_key: str, encrypted_data: str, iv: str, app_id: str
    ) -> dict[str, Any]:
        """See the module function `decrypt_legacy`."""
        return decrypt_legacy(session_key, encrypted_data, iv, app_id)
