from __future__ import annotations

import httpx
import pytest

from tests.providers.conftest import person
from usercenter.kit.cache import MemoryCache
from usercenter.providers.base import AppType, LoginProof
from usercenter.providers.registry import ProviderRegistry
from usercenter.providers.stubs import WECHAT_MINIAPP_ID, RunningStubs
from usercenter.providers.wechat import WeChatProvider


class TestAdapterFor:
    @pytest.mark.parametrize("app_type", list(AppType))
    async def test_every_app_type_has_an_adapter_for_it(self, app_type: AppType) -> None:
        registry = ProviderRegistry(MemoryCache())
        try:
            assert app_type in registry.adapter_for(app_type).app_types
        finally:
            await registry.close()

    async def test_wechat_is_the_adapter_of_every_wechat_type(self) -> None:
        registry = ProviderRegistry(MemoryCache())
        try:
            assert isinstance(registry.wechat, WeChatProvider)
            for app_type in AppType:
                if app_type.provider == "wechat":
                    assert registry.adapter_for(app_type) is registry.wechat
        finally:
            await registry.close()


class TestClose:
    async def test_a_client_given_to_the_registry_stays_open(self) -> None:
        async with httpx.AsyncClient() as http:
            await ProviderRegistry(MemoryCache(), http).close()
            assert not http.is_closed

    async def test_its_own_client_is_closed(self) -> None:
        registry = ProviderRegistry(MemoryCache())
        await registry.close()
        assert registry._http.is_closed


class TestThroughTheRegistry:
    async def test_a_mini_program_login_and_phone_number(self, stubs: RunningStubs) -> None:
        cache = MemoryCache()
        registry = ProviderRegistry(cache, timeout=2.0)
        app = stubs.app(WECHAT_MINIAPP_ID)
        try:
            identity = await registry.adapter_for(AppType.WECHAT_MINIAPP).exchange(
                app, LoginProof(code=stubs.wechat.code_for(WECHAT_MINIAPP_ID, person()))
            )
            phone = await registry.wechat.phone_number(
                app, stubs.wechat.phone_code_for(WECHAT_MINIAPP_ID, "+8613700001111")
            )
        finally:
            await registry.close()
        assert identity.session_key
        assert phone == "+8613700001111"
        # The access token went to the shared cache, where every process finds it.
        assert await cache.get(f"wechat:access_token:{WECHAT_MINIAPP_ID}")
