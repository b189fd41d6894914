"""WeChat's server API as the adapter calls it: JSON answers with an `errcode` on failure,
what each errcode becomes, and the server access token of each app.

- 40029 (invalid code), 40163 (code already used): ProviderCodeInvalid;
- 45011 (too many calls), 40226 (high-risk user), 48001 (scope not allowed), 45009 (daily
  quota): ProviderRejected;
- -1 (system busy), a timeout, a network error or an HTTP 5xx: tried again `retries` times,
  then ProviderUnavailable;
- anything else (a wrong secret, an app id of another kind): ProviderUnavailable, logged.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx

from usercenter.kit.cache import Cache
from usercenter.kit.log import get_logger
from usercenter.providers.base import AppCredentials
from usercenter.providers.errors import (
    ProviderError,
    ProviderUnavailable,
)
from usercenter.providers.oauth_json import (
    JsonVendorApi,
    VendorFault,
    vendor_number,
)
from usercenter.providers.vendor_http import json_object

_log = get_logger("usercenter.providers.wechat")  # one logger for all of WeChat

PROVIDER = "wechat"
API_BASE = "https://api.weixin.qq.com"

ERRCODE_BUSY = -1
ERRCODE_UNREADABLE = -999  # an errcode that is not a number: ProviderUnavailable
CODE_INVALID_ERRCODES = frozenset({40029, 40163})
REJECTED_ERRCODES = frozenset({45011, 40226, 48001, 45009})
ACCESS_TOKEN_INVALID_ERRCODES = frozenset({40001, 42001})


def errcode(data: dict[str, Any]) -> int:
    return vendor_number(data.get("errcode", 0) or 0, ERRCODE_UNREADABLE)


class WeChatApi(JsonVendorApi):
    """Calls to api.weixin.qq.com: JSON answers with `errcode` on failure, -1 when busy."""

    provider = PROVIDER
    code_invalid = CODE_INVALID_ERRCODES
    rejected = REJECTED_ERRCODES

    def is_busy(self, response: httpx.Response) -> str | None:
        data = json_object(response)
        if data is not None and errcode(data) == ERRCODE_BUSY:
            return str(ERRCODE_BUSY)
        return None

    def fault(self, data: dict[str, Any]) -> VendorFault | None:
        number = errcode(data)
        return VendorFault(number, str(number), data.get("errmsg")) if number else None


class WeChatAccessTokens:
    """The server access token of each app, shared through the cache by every process.

    Fetched with `POST /cgi-bin/stable_token` (normal mode: WeChat hands out the same token
    until shortly before it expires, so fetching again never invalidates a token in use) and
    kept until five minutes before it expires. One caller at a time refreshes: the one that
    takes the lock (`incr(...) == 1`, released after `lock_ttl` seconds even if its holder
    dies); the others poll the cache for the winner's token for at most `wait` seconds.
    A failed refresh is remembered for `failure_ttl` seconds: waiters, and callers in that
    time, give up at once instead of each trying WeChat again.
    """

    def __init__(
        self,
        cache: Cache,
        http: httpx.AsyncClient | None = None,
        api_base: str = API_BASE,
        *,
        timeout: float = 5.0,
        retries: int = 1,
        backoff: float = 0.2,
        lock_ttl: float = 10.0,
        wait: float = 8.0,
        poll: float = 0.05,
        failure_ttl: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`monotonic` is the clock a waiter's `wait` runs out by (tests pass their own)."""
        self._cache = cache
        self._api = WeChatApi(http, api_base, timeout=timeout, retries=retries, backoff=backoff)
        self._lock_ttl = lock_ttl
        self._wait = wait
        self._poll = poll
        self._failure_ttl = failure_ttl
        self._monotonic = monotonic

    @staticmethod
    def cache_key(app_id: str) -> str:
        return f"wechat:access_token:{app_id}"

    @staticmethod
    def lock_key(app_id: str) -> str:
        return f"wechat:access_token:lock:{app_id}"

    @staticmethod
    def _failure_key(app_id: str) -> str:
        return f"wechat:access_token:failed:{app_id}"

    async def get(self, app: AppCredentials) -> str:
        """The app's access token; ProviderUnavailable if none can be had in time."""
        key = self.cache_key(app.app_id)
        deadline = self._monotonic() + self._wait
        while True:
            token = await self._cache.get(key)
            if token:
                return token
            if await self._cache.get(self._failure_key(app.app_id)):
                self._api.unavailable(
                    app,
                    operation="access_token",
                    vendor_code="refresh failed moments ago",
                )
            if await self._cache.incr(self.lock_key(app.app_id), ttl=self._lock_ttl) == 1:
                try:
                    return await self._refresh(app)
                finally:
                    await self._cache.delete(self.lock_key(app.app_id))
            if self._monotonic() >= deadline:
                self._api.unavailable(
                    app,
                    operation="access_token",
                    vendor_code="waited too long for the refresh",
                )
            await asyncio.sleep(self._poll)

    async def _refresh(self, app: AppCredentials) -> str:
        key = self.cache_key(app.app_id)
        token = await self._cache.get(key)  # a winner may have finished just before us
        if token:
            return token
        try:
            token, expires_in = await self._fetch(app)
        except ProviderError:
            await self._cache.set(self._failure_key(app.app_id), "1", ttl=self._failure_ttl)
            raise
        await self._cache.set(key, token, ttl=_cache_seconds(expires_in))
        await self._cache.delete(self._failure_key(app.app_id))
        _log.info("wechat_access_token_refreshed", app_id=app.app_id, expires_in=expires_in)
        return token

    async def _fetch(self, app: AppCredentials) -> tuple[str, int]:
        operation = "stable_token"
        data = await self._api.call(
            app,
            "POST",
            "/cgi-bin/stable_token",
            operation=operation,
            json_body={
                "grant_type": "client_credential",
                "appid": app.app_id,
                "secret": app.secret,
                "force_refresh": False,
            },
            # Every failure here is ours or WeChat's (a wrong secret, a quota), not the person's.
            mapping=lambda _: ProviderUnavailable,
        )
        token = self._api.text(app, data, "access_token", operation=operation)
        expires_in = data.get("expires_in")
        if not isinstance(expires_in, int) or expires_in <= 0:
            self._api.unavailable(
                app,
                operation=operation,
                vendor_code="answer without expires_in",
            )
        return token, expires_in

    async def invalidate(self, app: AppCredentials, token: str | None = None) -> None:
        """Forget the cached token (only if it is still `token`, when given: a token another
        caller has just fetched stays)."""
        key = self.cache_key(app.app_id)
        if token is not None and await self._cache.get(key) != token:
            return
        await self._cache.delete(key)


def _cache_seconds(expires_in: int) -> float:
    """Until five minutes before expiry (half the lifetime for an unusually short one)."""
    return float(expires_in - 300) if expires_in > 600 else max(expires_in / 2, 1.0)
