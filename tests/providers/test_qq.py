from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.providers.conftest import FAST, person
from usercenter.providers.base import AppCredentials, AppType, LoginProof
from usercenter.providers.errors import ProviderCodeInvalid, ProviderError, ProviderUnavailable
from usercenter.providers.qq import QQProvider, _qq_json
from usercenter.providers.stubs import QQ_APP_ID, QQ_UNBOUND_APP_ID, RunningStubs


@pytest.fixture
def qq(http: httpx.AsyncClient) -> QQProvider:
    return QQProvider(http, **FAST)


@pytest.fixture
def app(stubs: RunningStubs) -> AppCredentials:
    return stubs.app(QQ_APP_ID)


async def login(qq: QQProvider, app: AppCredentials, code: str) -> ProviderError | None:
    try:
        await qq.exchange(app, LoginProof(code=code))
    except ProviderError as exc:
        return exc
    return None


class TestExchange:
    async def test_a_code_gives_openid_unionid_and_profile(
        self, qq: QQProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        who = person()
        identity = await qq.exchange(app, LoginProof(code=stubs.qq.code_for(QQ_APP_ID, who)))
        assert identity.app_type is AppType.QQ
        assert identity.subject == stubs.qq.openid_for(QQ_APP_ID, who)
        assert identity.union_id == stubs.qq.unionid_for(who)
        assert identity.nickname == who.title()
        assert identity.avatar_url is not None
        assert "s=100" in identity.avatar_url

    async def test_bound_apps_share_the_unionid_not_the_openid(
        self, qq: QQProvider, stubs: RunningStubs
    ) -> None:
        stubs.qq.add_app("101999999", "second-secret")
        second = stubs.qq.credentials("101999999", stubs.urls["qq"])
        who = person()
        one = await qq.exchange(
            stubs.app(QQ_APP_ID), LoginProof(code=stubs.qq.code_for(QQ_APP_ID, who))
        )
        two = await qq.exchange(second, LoginProof(code=stubs.qq.code_for("101999999", who)))
        assert one.union_id == two.union_id
        assert one.subject != two.subject

    async def test_an_app_without_unionid_access_gets_none(
        self, qq: QQProvider, stubs: RunningStubs
    ) -> None:
        identity = await qq.exchange(
            stubs.app(QQ_UNBOUND_APP_ID),
            LoginProof(code=stubs.qq.code_for(QQ_UNBOUND_APP_ID, person())),
        )
        assert identity.union_id is None

    async def test_a_code_works_once(
        self, qq: QQProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        code = stubs.qq.code_for(QQ_APP_ID, person())
        await qq.exchange(app, LoginProof(code=code))
        raised = await login(qq, app, code)
        assert type(raised) is ProviderCodeInvalid
        assert raised.vendor_code == "100020"

    @pytest.mark.parametrize(
        ("code", "error", "vendor_code"),
        [
            ("never-issued", ProviderCodeInvalid, "100019"),
            ("qq-100019", ProviderCodeInvalid, "100019"),
            ("qq-100020", ProviderCodeInvalid, "100020"),
            ("qq-100031", ProviderUnavailable, "100031"),
            ("qq-http-502", ProviderUnavailable, "HTTP 502"),
            ("qq-slow", ProviderUnavailable, "TimeoutError"),
        ],
    )
    async def test_every_vendor_error_becomes_our_code(
        self,
        qq: QQProvider,
        app: AppCredentials,
        code: str,
        error: type[ProviderError],
        vendor_code: str,
    ) -> None:
        raised = await login(qq, app, code)
        assert type(raised) is error
        assert raised.vendor_code == vendor_code

    async def test_a_5xx_is_tried_retries_plus_one_times(
        self, qq: QQProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        before = stubs.qq.calls["qq-http-500"]
        await login(qq, app, "qq-http-500")
        assert stubs.qq.calls["qq-http-500"] - before == 2

    async def test_a_redirect_uri_other_than_the_authorized_one_is_refused(
        self, qq: QQProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        code = stubs.qq.code_for(QQ_APP_ID, person(), redirect_uri="https://a.example/cb")
        with pytest.raises(ProviderUnavailable) as caught:
            await qq.exchange(app, LoginProof(code=code, redirect_uri="https://b.example/cb"))
        assert caught.value.vendor_code == "100010"

    async def test_the_proofs_redirect_uri_is_sent(
        self, qq: QQProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        code = stubs.qq.code_for(QQ_APP_ID, person(), redirect_uri="https://a.example/cb")
        identity = await qq.exchange(
            app, LoginProof(code=code, redirect_uri="https://a.example/cb")
        )
        assert identity.subject

    async def test_without_any_redirect_uri_the_code_cannot_be_used(
        self, qq: QQProvider, app: AppCredentials
    ) -> None:
        bare = AppCredentials(app.app_type, app.app_id, app.secret, {"api_base": "http://x"})
        with pytest.raises(ProviderCodeInvalid) as caught:
            await qq.exchange(bare, LoginProof(code="c"))
        assert caught.value.field == "redirect_uri"

    async def test_a_wrong_secret_is_unavailable(
        self, qq: QQProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        wrong = AppCredentials(app.app_type, app.app_id, "wrong", app.extra)
        raised = await login(qq, wrong, stubs.qq.code_for(QQ_APP_ID, person()))
        assert type(raised) is ProviderUnavailable
        assert raised.vendor_code == "100009"

    async def test_a_failing_profile_still_logs_in(
        self, qq: QQProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        who = person()
        code = stubs.qq.code_for(QQ_APP_ID, who, profile_error=1002)
        identity = await qq.exchange(app, LoginProof(code=code))
        assert identity.subject == stubs.qq.openid_for(QQ_APP_ID, who)
        assert identity.nickname is None

    async def test_the_profile_can_be_skipped(
        self, qq: QQProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        quiet = AppCredentials(
            app.app_type, app.app_id, app.secret, {**app.extra, "fetch_profile": False}
        )
        identity = await qq.exchange(quiet, LoginProof(code=stubs.qq.code_for(QQ_APP_ID, person())))
        assert identity.nickname is None
        assert identity.union_id is not None


class TestAnswers:
    def test_jsonp_answers_are_read(self) -> None:
        response = httpx.Response(200, text='callback( {"client_id":"1","openid":"X"} );\n')
        assert _qq_json(response) == {"client_id": "1", "openid": "X"}

    def test_json_answers_are_read(self) -> None:
        assert _qq_json(httpx.Response(200, text='{"error":100019}')) == {"error": 100019}

    def test_other_answers_are_none(self) -> None:
        assert _qq_json(httpx.Response(200, text="access_token=a&expires_in=1")) is None


class TestAuthorizeUrl:
    async def test_the_stubs_consent_page_sends_back_a_working_code(
        self, qq: QQProvider, app: AppCredentials, http: httpx.AsyncClient
    ) -> None:
        url = qq.authorize_url(app, redirect_uri="https://www.example.com/cb/qq", state="s2")
        query = parse_qs(urlsplit(url).query)
        assert query["response_type"] == ["code"]
        assert query["scope"] == ["get_user_info"]
        response = await http.get(url + "&person=dave")
        back = parse_qs(urlsplit(response.headers["location"]).query)
        assert back["state"] == ["s2"]
        identity = await qq.exchange(
            app, LoginProof(code=back["code"][0], redirect_uri="https://www.example.com/cb/qq")
        )
        assert identity.nickname == "Dave"

    def test_the_real_host_by_default(self, qq: QQProvider) -> None:
        app = AppCredentials(AppType.QQ, "101", "s")
        assert qq.authorize_url(app, redirect_uri="https://x/cb", state="s").startswith(
            "https://graph.qq.com/oauth2.0/authorize?"
        )
