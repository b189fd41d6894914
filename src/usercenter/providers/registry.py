"""Every provider adapter, built once per process, found by app type."""

from __future__ import annotations

import httpx

from usercenter.kit.cache import Cache
from usercenter.providers.alipay import AlipayProvider
from usercenter.providers.apple import AppleProvider
from usercenter.providers.base import AppType, Provider
from usercenter.providers.errors import ProviderNotConfigured
from usercenter.providers.qq import QQProvider
from usercenter.providers.wechat import WeChatAccessTokens, WeChatProvider
from usercenter.providers.weibo import WeiboProvider


class ProviderRegistry:
    """The adapters, sharing one HTTP client (their own unless `http` is given) and the cache
    (WeChat's access tokens live there, so every process shares them)."""

    def __init__(
        self,
        cache: Cache,
        http: httpx.AsyncClient | None = None,
        *,
        timeout: float = 5.0,
        retries: int = 1,
    ) -> None:
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=timeout)
        http = self._http
        self._wechat = WeChatProvider(
            http,
            tokens=WeChatAccessTokens(cache, http, timeout=timeout, retries=retries),
            timeout=timeout,
            retries=retries,
        )
        adapters: list[Provider] = [
            self._wechat,
            QQProvider(http, timeout=timeout, retries=retries),
            WeiboProvider(http, timeout=timeout, retries=retries),
            AlipayProvider(http, timeout=timeout, retries=retries),
            AppleProvider(http, timeout=timeout, retries=retries),
        ]
        self._by_type: dict[AppType, Provider] = {
            app_type: adapter for adapter in adapters for app_type in adapter.app_types
        }

    @property
    def wechat(self) -> WeChatProvider:
        """The WeChat adapter, for what only WeChat has (phone numbers, legacy data)."""
        return self._wechat

    def adapter_for(self, app_type: AppType) -> Provider:
        """The adapter of `app_type`; ProviderNotConfigured for a type nobody handles."""
        try:
            return self._by_type[app_type]
        except KeyError:
            raise ProviderNotConfigured(provider=str(app_type)) from None

    async def close(self) -> None:
        """Close the HTTP client if the registry made it."""
        if self._owns_http:
            await self._http.aclose()
