"""Asking a login provider who the caller is: the provider URL of a web flow with its signed,
single-use state, the code or id_token exchanged for a verified identity, the phone a WeChat
mini program vouches for. Nothing here writes to the database: call it before the transaction
writes anything, so a provider that times out leaves no half user behind."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.identity.errors import StateInvalid
from usercenter.identity.service.context import PROVIDER_SECRET_CONTEXT, IdentityContext
from usercenter.identity.views import AuthorizeLink
from usercenter.kit import clock
from usercenter.kit.cache import Counters
from usercenter.providers.base import AppDirectory, AppType, ExternalIdentity, LoginProof
from usercenter.providers.errors import ProviderCodeInvalid, ProviderNotConfigured
from usercenter.providers.registry import ProviderRegistry

# Flows that come back through a browser redirect carry a signed, single-use `state`.
REDIRECT_FLOWS = {AppType.WECHAT_OFFICIAL, AppType.WECHAT_WEB, AppType.QQ, AppType.WEIBO}


class ProviderProofs:
    def __init__(
        self,
        context: IdentityContext,
        *,
        apps: AppDirectory,
        providers: ProviderRegistry,
        counters: Counters,
        state_ttl_seconds: int,
    ) -> None:
        self.context = context
        self.apps = apps
        self.providers = providers
        self.counters = counters
        self.state_ttl_seconds = state_ttl_seconds
        self._state_key = context.keyring.blind_index.derive_key("oauth-state")

    # --- web redirect flows ---------------------------------------------------------------

    def _sign(self, body: str) -> str:
        return base64.urlsafe_b64encode(
            hmac.new(self._state_key, body.encode(), hashlib.sha256).digest()[:18]
        ).decode()

    async def authorize(
        self, app_type: AppType, *, redirect_uri: str, app_id: str | None = None
    ) -> AuthorizeLink:
        """The provider URL to send the browser to, and the signed single-use state in it.
        Raises ClientAppNotFound, ProviderNotConfigured."""
        app = await self.apps.get(app_type, app_id)
        payload = {
            "t": app_type.value,
            "a": app.app_id,
            "r": redirect_uri,
            "e": int(clock.now().timestamp()) + self.state_ttl_seconds,
            "n": secrets.token_urlsafe(8),
        }
        body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
        state = f"{body}.{self._sign(body)}"
        adapter = self.providers.adapter_for(app_type)
        try:
            url = adapter.authorize_url(app, redirect_uri=redirect_uri, state=state)
        except ValueError:
            raise ProviderNotConfigured(field="provider") from None
        return AuthorizeLink(url=url, state=state)

    async def check_state(self, app_type: AppType, state: str | None) -> None:
        """StateInvalid unless a redirect flow brings back a state of ours, for its app type,
        unexpired and not used before; other flows carry none."""
        if app_type not in REDIRECT_FLOWS:
            return
        if state is None:
            raise StateInvalid()
        body, _, mac = state.partition(".")
        if not hmac.compare_digest(mac, self._sign(body)):
            raise StateInvalid()
        try:
            payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            raise StateInvalid() from None
        if payload.get("t") != app_type.value or payload.get("e", 0) < clock.now().timestamp():
            raise StateInvalid()
        if await self.counters.incr(f"oauth:state:used:{mac}", ttl=self.state_ttl_seconds) != 1:
            raise StateInvalid()

    # --- who is this ----------------------------------------------------------------------

    async def verify(
        self, app_type: AppType, proof: LoginProof, app_id: str | None = None
    ) -> ExternalIdentity:
        """Ask the provider who this is (no database writes: call before the transaction)."""
        app = await self.apps.get(app_type, app_id)
        return await self.providers.adapter_for(app_type).exchange(app, proof)

    async def wechat_phone(self, phone_code: str, app_id: str | None) -> str:
        """The phone number WeChat verified for the mini program's phone button code."""
        app = await self.apps.get(AppType.WECHAT_MINIAPP, app_id)
        return await self.providers.wechat.phone_number(app, phone_code)

    async def decrypt_phone(
        self,
        session: AsyncSession,
        *,
        session_id: str,
        encrypted_data: str,
        iv: str,
        app_id: str | None,
    ) -> str:
        """The phone in legacy `encryptedData` from a mini program session's session_key."""
        context = self.context
        stored = await context.tokens.provider_secret(session, session_id)
        if stored is None:
            raise ProviderCodeInvalid(field="encrypted_data")
        session_key = context.keyring.cipher.decrypt(stored, context=PROVIDER_SECRET_CONTEXT)
        app = await self.apps.get(AppType.WECHAT_MINIAPP, app_id)
        data = self.providers.wechat.decrypt_legacy(session_key, encrypted_data, iv, app.app_id)
        country = str(data.get("countryCode") or "86")
        number = str(data.get("purePhoneNumber") or data.get("phoneNumber") or "")
        return f"+{country}{number}"
