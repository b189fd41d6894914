from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.providers.conftest import FAST, person
from usercenter.providers.base import AppCredentials, AppType, LoginProof
from usercenter.providers.errors import (
    ProviderCodeInvalid,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
)
from usercenter.providers.stubs import WEIBO_APP_ID, RunningStubs
from usercenter.providers.weibo import WeiboProvider


@pytest.fixture
def weibo(http: httpx.AsyncClient) -> WeiboProvider:
    return WeiboProvider(http, **FAST)


@pytest.fixture
def app(stubs: RunningStubs) -> AppCredentials:
    return stubs.app(WEIBO_APP_ID)


async def login(weibo: WeiboProvider, app: AppCredentials, code: str) -> ProviderError | None:
    try:
        await weibo.exchange(app, LoginProof(code=code))
    except ProviderError as exc:
        return exc
    return None


class TestExchange:
    async def test_a_code_gives_the_uid_and_profile(
        self, weibo: WeiboProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        who = person()
        identity = await weibo.exchange(
            app, LoginProof(code=stubs.weibo.code_for(WEIBO_APP_ID, who))
        )
        assert identity.app_type is AppType.WEIBO
        assert identity.subject == stubs.weibo.uid_for(who)
        assert identity.union_id is None
        assert identity.nickname == who.title()
        assert identity.avatar_url is not None
        assert identity.avatar_url.endswith("_large.jpg")

    async def test_a_code_works_once(
        self, weibo: WeiboProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        code = stubs.weibo.code_for(WEIBO_APP_ID, person())
        await weibo.exchange(app, LoginProof(code=code))
        raised = await login(weibo, app, code)
        assert type(raised) is ProviderCodeInvalid
        assert raised.vendor_code == "21325"

    @pytest.mark.parametrize(
        ("code", "error", "vendor_code"),
        [
            ("never-issued", ProviderCodeInvalid, "21325"),
            ("wb-21325", ProviderCodeInvalid, "21325"),
            ("wb-21330", ProviderRejected, "21330"),
            ("wb-10023", ProviderRejected, "10023"),
            ("wb-21324", ProviderUnavailable, "21324"),
            ("wb-http-502", ProviderUnavailable, "HTTP 502"),
            ("wb-slow", ProviderUnavailable, "TimeoutError"),
        ],
    )
    async def test_every_vendor_error_becomes_our_code(
        self,
        weibo: WeiboProvider,
        app: AppCredentials,
        code: str,
        error: type[ProviderError],
        vendor_code: str,
    ) -> None:
        raised = await login(weibo, app, code)
        assert type(raised) is error
        assert raised.vendor_code == vendor_code

    async def test_a_5xx_is_tried_retries_plus_one_times(
        self, weibo: WeiboProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        before = stubs.weibo.calls["wb-http-503"]
        await login(weibo, app, "wb-http-503")
        assert stubs.weibo.calls["wb-http-503"] - before == 2

    async def test_a_4xx_error_is_not_retried(
        self, weibo: WeiboProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        before = stubs.weibo.calls["wb-21330"]
        await login(weibo, app, "wb-21330")
        assert stubs.weibo.calls["wb-21330"] - before == 1

    async def test_a_wrong_secret_is_unavailable(
        self, weibo: WeiboProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        wrong = AppCredentials(app.app_type, app.app_id, "wrong", app.extra)
        raised = await login(weibo, wrong, stubs.weibo.code_for(WEIBO_APP_ID, person()))
        assert type(raised) is ProviderUnavailable
        assert raised.vendor_code == "21324"

    async def test_another_redirect_uri_is_refused(
        self, weibo: WeiboProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        code = stubs.weibo.code_for(WEIBO_APP_ID, person(), redirect_uri="https://a.example/cb")
        with pytest.raises(ProviderUnavailable) as caught:
            await weibo.exchange(app, LoginProof(code=code, redirect_uri="https://b.example/cb"))
        assert caught.value.vendor_code == "21322"

    async def test_a_failing_profile_still_logs_in(
        self, weibo: WeiboProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        who = person()
        code = stubs.weibo.code_for(WEIBO_APP_ID, who, profile_error=10023)
        identity = await weibo.exchange(app, LoginProof(code=code))
        assert identity.subject == stubs.weibo.uid_for(who)
        assert identity.nickname is None


class TestAuthorizeUrl:
    async def test_the_stubs_consent_page_sends_back_a_working_code(
        self, weibo: WeiboProvider, app: AppCredentials, http: httpx.AsyncClient
    ) -> None:
        redirect_uri = "https://www.example.com/cb/weibo"
        url = weibo.authorize_url(app, redirect_uri=redirect_uri, state="s3")
        response = await http.get(url + "&person=erin")
        back = parse_qs(urlsplit(response.headers["location"]).query)
        assert back["state"] == ["s3"]
        identity = await weibo.exchange(
            app, LoginProof(code=back["code"][0], redirect_uri=redirect_uri)
        )
        assert identity.nickname == "Erin"

    def test_the_real_host_by_default(self, weibo: WeiboProvider) -> None:
        app = AppCredentials(AppType.WEIBO, "21", "s")
        assert weibo.authorize_url(app, redirect_uri="https://x/cb", state="s").startswith(
            "https://api.weibo.com/oauth2/authorize?client_id=21&"
        )
