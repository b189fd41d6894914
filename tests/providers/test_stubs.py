"""The stubs as a demo uses them: apps for every type, codes over HTTP, the printed usage."""

from __future__ import annotations

import httpx

from usercenter.providers.base import AppType, LoginProof
from usercenter.providers.stubs import (
    APPLE_SERVICE_ID,
    QQ_APP_ID,
    WECHAT_MINIAPP_ID,
    RunningStubs,
    usage,
)
from usercenter.providers.wechat import WeChatProvider


class TestDemoApps:
    def test_there_is_an_app_of_every_type(self, stubs: RunningStubs) -> None:
        assert {app.app_type for app in stubs.apps()} == set(AppType)

    def test_the_usage_names_every_stub_and_the_apps(self, stubs: RunningStubs) -> None:
        text = usage(stubs)
        for url in stubs.urls.values():
            assert url in text
        assert "USERCENTER_CLIENT_APPS=" in text
        assert WECHAT_MINIAPP_ID in text


class TestCodesOverHttp:
    async def test_a_wechat_code_from_the_stub_logs_in(self, stubs: RunningStubs) -> None:
        async with httpx.AsyncClient() as http:
            answer = await http.get(
                f"{stubs.urls['wechat']}/_stub/code",
                params={"app_id": WECHAT_MINIAPP_ID, "person": "frank"},
            )
            identity = await WeChatProvider(http).exchange(
                stubs.app(WECHAT_MINIAPP_ID), LoginProof(code=answer.json()["code"])
            )
        assert identity.subject == stubs.wechat.openid_for(WECHAT_MINIAPP_ID, "frank")

    async def test_every_stub_hands_out_codes(self, stubs: RunningStubs) -> None:
        async with httpx.AsyncClient() as http:
            qq = await http.get(f"{stubs.urls['qq']}/_stub/code", params={"app_id": QQ_APP_ID})
            unknown = await http.get(f"{stubs.urls['qq']}/_stub/code", params={"app_id": "x"})
            apple = await http.get(
                f"{stubs.urls['apple']}/_stub/id-token", params={"aud": APPLE_SERVICE_ID}
            )
        assert qq.json()["code"]
        assert unknown.status_code == 404
        assert apple.json()["id_token"].count(".") == 2
