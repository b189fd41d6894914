from __future__ import annotations

import asyncio
import base64
import io
import itertools
import json
import logging
import os
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.providers.conftest import FAST, log_lines, person
from usercenter.kit.cache import MemoryCache
from usercenter.providers.base import AppCredentials, AppType, LoginProof
from usercenter.providers.errors import (
    ProviderCodeInvalid,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
)
from usercenter.providers.stubs import (
    WECHAT_APP_ID,
    WECHAT_MINIAPP_ID,
    WECHAT_OFFICIAL_ID,
    WECHAT_UNBOUND_MINIAPP_ID,
    WECHAT_WEB_ID,
    RunningStubs,
    free_port,
    legacy_encrypt,
)
from usercenter.providers.wechat import WeChatAccessTokens, WeChatProvider, decrypt_legacy


class LockWatchingCache(MemoryCache):
    """A MemoryCache that says when a caller tried a lock somebody else holds."""

    def __init__(self) -> None:
        super().__init__()
        self.lock_lost = asyncio.Event()

    async def incr(self, key: str, *, ttl: float | None = None, amount: int = 1) -> int:
        count = await super().incr(key, ttl=ttl, amount=amount)
        if count > 1:
            self.lock_lost.set()
        return count


class RecordingCache(MemoryCache):
    """A MemoryCache that remembers the ttl of every `set`."""

    def __init__(self) -> None:
        super().__init__()
        self.ttls: dict[str, float | None] = {}

    async def set(self, key: str, value: str, *, ttl: float | None = None) -> None:
        self.ttls[key] = ttl
        await super().set(key, value, ttl=ttl)


@pytest.fixture
def cache() -> RecordingCache:
    return RecordingCache()


@pytest.fixture
def tokens(http: httpx.AsyncClient, cache: RecordingCache) -> WeChatAccessTokens:
    return WeChatAccessTokens(cache, http, **FAST)


@pytest.fixture
def wechat(http: httpx.AsyncClient, tokens: WeChatAccessTokens) -> WeChatProvider:
    return WeChatProvider(http, tokens=tokens, **FAST)


@pytest.fixture
def miniapp(stubs: RunningStubs) -> AppCredentials:
    return stubs.app(WECHAT_MINIAPP_ID)


@pytest.fixture
def fresh_miniapp(stubs: RunningStubs) -> AppCredentials:
    """A mini program of its own, so that access token counts start at zero."""
    app_id = f"wxfresh{secrets.token_hex(5)}"
    stubs.wechat.add_app(app_id, secrets.token_hex(8), AppType.WECHAT_MINIAPP)
    return stubs.wechat.credentials(app_id, stubs.urls["wechat"])


async def login(wechat: WeChatProvider, app: AppCredentials, code: str) -> ProviderError | None:
    try:
        await wechat.exchange(app, LoginProof(code=code))
    except ProviderError as exc:
        return exc
    return None


class TestMiniProgramLogin:
    async def test_a_code_gives_the_openid_session_key_and_unionid(
        self, wechat: WeChatProvider, miniapp: AppCredentials, stubs: RunningStubs
    ) -> None:
        who = person()
        identity = await wechat.exchange(
            miniapp, LoginProof(code=stubs.wechat.code_for(WECHAT_MINIAPP_ID, who))
        )
        assert identity.app_type is AppType.WECHAT_MINIAPP
        assert identity.app_id == WECHAT_MINIAPP_ID
        assert identity.subject == stubs.wechat.openid_for(WECHAT_MINIAPP_ID, who)
        assert identity.union_id == stubs.wechat.unionid_for(who)
        openid = identity.subject
        assert identity.session_key == stubs.wechat.session_keys[(WECHAT_MINIAPP_ID, openid)]

    async def test_an_app_not_bound_to_the_open_platform_has_no_unionid(
        self, wechat: WeChatProvider, stubs: RunningStubs
    ) -> None:
        app = stubs.app(WECHAT_UNBOUND_MINIAPP_ID)
        identity = await wechat.exchange(
            app, LoginProof(code=stubs.wechat.code_for(WECHAT_UNBOUND_MINIAPP_ID, person()))
        )
        assert identity.subject
        assert identity.union_id is None

    async def test_a_code_works_once(
        self, wechat: WeChatProvider, miniapp: AppCredentials, stubs: RunningStubs
    ) -> None:
        code = stubs.wechat.code_for(WECHAT_MINIAPP_ID, person())
        await wechat.exchange(miniapp, LoginProof(code=code))
        with pytest.raises(ProviderCodeInvalid) as caught:
            await wechat.exchange(miniapp, LoginProof(code=code))
        assert caught.value.vendor_code == "40163"

    async def test_an_unknown_code_is_invalid(
        self, wechat: WeChatProvider, miniapp: AppCredentials
    ) -> None:
        with pytest.raises(ProviderCodeInvalid) as caught:
            await wechat.exchange(miniapp, LoginProof(code="never-issued"))
        assert caught.value.vendor_code == "40029"

    async def test_a_code_of_another_mini_program_is_invalid(
        self, wechat: WeChatProvider, miniapp: AppCredentials, stubs: RunningStubs
    ) -> None:
        code = stubs.wechat.code_for(WECHAT_UNBOUND_MINIAPP_ID, person())
        with pytest.raises(ProviderCodeInvalid):
            await wechat.exchange(miniapp, LoginProof(code=code))

    async def test_a_missing_code_is_invalid_without_asking(
        self, wechat: WeChatProvider, miniapp: AppCredentials
    ) -> None:
        with pytest.raises(ProviderCodeInvalid):
            await wechat.exchange(miniapp, LoginProof())

    @pytest.mark.parametrize(
        ("code", "error", "vendor_code"),
        [
            ("wx-40029", ProviderCodeInvalid, "40029"),
            ("wx-40163", ProviderCodeInvalid, "40163"),
            ("wx-45011", ProviderRejected, "45011"),
            ("wx-40226", ProviderRejected, "40226"),
            ("wx-48001", ProviderRejected, "48001"),
            ("wx-45009", ProviderRejected, "45009"),
            ("wx-99999", ProviderUnavailable, "99999"),
            ("wx-40125", ProviderUnavailable, "40125"),
            ("wx-busy", ProviderUnavailable, "-1"),
            ("wx-http-502", ProviderUnavailable, "HTTP 502"),
            ("wx-slow", ProviderUnavailable, "TimeoutError"),
        ],
    )
    async def test_every_vendor_error_becomes_our_code(
        self,
        wechat: WeChatProvider,
        miniapp: AppCredentials,
        code: str,
        error: type[ProviderError],
        vendor_code: str,
    ) -> None:
        raised = await login(wechat, miniapp, code)
        assert type(raised) is error
        assert raised.vendor_code == vendor_code
        assert raised.provider == "wechat"

    async def test_the_same_errors_come_from_the_oauth_exchange(
        self, wechat: WeChatProvider, stubs: RunningStubs
    ) -> None:
        official = stubs.app(WECHAT_OFFICIAL_ID)
        assert type(await login(wechat, official, "wx-40163")) is ProviderCodeInvalid
        assert type(await login(wechat, official, "wx-40226")) is ProviderRejected
        assert type(await login(wechat, official, "wx-99999")) is ProviderUnavailable

    async def test_a_wrong_secret_is_unavailable(
        self, wechat: WeChatProvider, miniapp: AppCredentials, stubs: RunningStubs
    ) -> None:
        wrong = AppCredentials(miniapp.app_type, miniapp.app_id, "not-the-secret", miniapp.extra)
        raised = await login(wechat, wrong, stubs.wechat.code_for(WECHAT_MINIAPP_ID, person()))
        assert type(raised) is ProviderUnavailable
        assert raised.vendor_code == "40125"


class TestRetries:
    async def test_busy_once_then_fine_logs_in(
        self, wechat: WeChatProvider, miniapp: AppCredentials, stubs: RunningStubs
    ) -> None:
        code = stubs.wechat.code_for(WECHAT_MINIAPP_ID, person(), busy_times=1)
        identity = await wechat.exchange(miniapp, LoginProof(code=code))
        assert identity.subject
        assert stubs.wechat.calls[code] == 2

    @pytest.mark.parametrize("retries", [0, 1, 2])
    async def test_busy_every_time_is_tried_retries_plus_one_times(
        self,
        http: httpx.AsyncClient,
        miniapp: AppCredentials,
        stubs: RunningStubs,
        retries: int,
    ) -> None:
        wechat = WeChatProvider(http, timeout=1.0, retries=retries, backoff=0.01)
        code = stubs.wechat.code_for(WECHAT_MINIAPP_ID, person(), busy_times=99)
        raised = await login(wechat, miniapp, code)
        assert type(raised) is ProviderUnavailable
        assert raised.vendor_code == "-1"
        assert stubs.wechat.calls[code] == retries + 1

    async def test_a_slow_answer_is_given_up_on_in_bounded_time(
        self, wechat: WeChatProvider, miniapp: AppCredentials, stubs: RunningStubs
    ) -> None:
        before = stubs.wechat.calls["wx-slow"]
        started = time.monotonic()
        raised = await login(wechat, miniapp, "wx-slow")
        assert type(raised) is ProviderUnavailable
        assert stubs.wechat.calls["wx-slow"] - before == 2
        assert time.monotonic() - started < 1.5  # two tries of 0.4 s and a short pause

    async def test_an_http_5xx_is_retried(
        self, wechat: WeChatProvider, miniapp: AppCredentials, stubs: RunningStubs
    ) -> None:
        before = stubs.wechat.calls["wx-http-503"]
        raised = await login(wechat, miniapp, "wx-http-503")
        assert type(raised) is ProviderUnavailable
        assert stubs.wechat.calls["wx-http-503"] - before == 2

    async def test_a_final_answer_is_not_retried(
        self, wechat: WeChatProvider, miniapp: AppCredentials, stubs: RunningStubs
    ) -> None:
        before = stubs.wechat.calls["wx-45011"]
        await login(wechat, miniapp, "wx-45011")
        assert stubs.wechat.calls["wx-45011"] - before == 1

    async def test_nobody_listening_is_unavailable(
        self, wechat: WeChatProvider, miniapp: AppCredentials
    ) -> None:
        down = AppCredentials(
            miniapp.app_type,
            miniapp.app_id,
            miniapp.secret,
            {"api_base": f"http://127.0.0.1:{free_port()}"},
        )
        raised = await login(wechat, down, "any")
        assert type(raised) is ProviderUnavailable
        assert raised.vendor_code == "ConnectError"

    def test_negative_retries_are_refused(self) -> None:
        with pytest.raises(ValueError, match="retries"):
            WeChatProvider(retries=-1)


class TestUnionId:
    async def test_one_person_has_one_unionid_and_an_openid_per_app(
        self, wechat: WeChatProvider, stubs: RunningStubs
    ) -> None:
        who = person()
        identities = [
            await wechat.exchange(
                stubs.app(app_id), LoginProof(code=stubs.wechat.code_for(app_id, who))
            )
            for app_id in (WECHAT_MINIAPP_ID, WECHAT_OFFICIAL_ID, WECHAT_APP_ID, WECHAT_WEB_ID)
        ]
        assert {identity.union_id for identity in identities} == {stubs.wechat.unionid_for(who)}
        assert len({identity.subject for identity in identities}) == 4
        assert {identity.provider for identity in identities} == {"wechat"}

    async def test_two_people_have_two_unionids(
        self, wechat: WeChatProvider, miniapp: AppCredentials, stubs: RunningStubs
    ) -> None:
        first = await wechat.exchange(
            miniapp, LoginProof(code=stubs.wechat.code_for(WECHAT_MINIAPP_ID, person()))
        )
        second = await wechat.exchange(
            miniapp, LoginProof(code=stubs.wechat.code_for(WECHAT_MINIAPP_ID, person()))
        )
        assert first.union_id != second.union_id
        assert first.subject != second.subject


class TestOAuthLogin:
    async def test_the_userinfo_scope_brings_the_profile(
        self, wechat: WeChatProvider, stubs: RunningStubs
    ) -> None:
        who = person()
        code = stubs.wechat.code_for(WECHAT_OFFICIAL_ID, who, scope="snsapi_userinfo")
        identity = await wechat.exchange(stubs.app(WECHAT_OFFICIAL_ID), LoginProof(code=code))
        assert identity.subject == stubs.wechat.openid_for(WECHAT_OFFICIAL_ID, who)
        assert identity.nickname == who.title()
        assert identity.avatar_url is not None
        assert identity.avatar_url.startswith("https://")
        assert identity.session_key is None

    async def test_the_silent_base_scope_gives_the_openid_only(
        self, wechat: WeChatProvider, stubs: RunningStubs
    ) -> None:
        who = person()
        code = stubs.wechat.code_for(WECHAT_OFFICIAL_ID, who, scope="snsapi_base")
        identity = await wechat.exchange(stubs.app(WECHAT_OFFICIAL_ID), LoginProof(code=code))
        assert identity.subject == stubs.wechat.openid_for(WECHAT_OFFICIAL_ID, who)
        assert identity.nickname is None
        assert identity.union_id is None

    async def test_website_login_brings_the_profile(
        self, wechat: WeChatProvider, stubs: RunningStubs
    ) -> None:
        who = person()
        identity = await wechat.exchange(
            stubs.app(WECHAT_WEB_ID), LoginProof(code=stubs.wechat.code_for(WECHAT_WEB_ID, who))
        )
        assert identity.app_type is AppType.WECHAT_WEB
        assert identity.nickname == who.title()

    async def test_a_refused_userinfo_fails_the_login(
        self, wechat: WeChatProvider, stubs: RunningStubs
    ) -> None:
        code = stubs.wechat.code_for(WECHAT_APP_ID, person(), userinfo_errcode=48001)
        raised = await login(wechat, stubs.app(WECHAT_APP_ID), code)
        assert type(raised) is ProviderRejected
        assert raised.vendor_code == "48001"

    async def test_a_snapshot_page_visitor_is_refused(
        self, wechat: WeChatProvider, stubs: RunningStubs
    ) -> None:
        code = stubs.wechat.code_for(WECHAT_OFFICIAL_ID, person(), is_snapshot_user=True)
        raised = await login(wechat, stubs.app(WECHAT_OFFICIAL_ID), code)
        assert type(raised) is ProviderRejected

    async def test_a_mini_program_code_does_not_work_for_the_official_account(
        self, wechat: WeChatProvider, stubs: RunningStubs
    ) -> None:
        code = stubs.wechat.code_for(WECHAT_MINIAPP_ID, person())
        raised = await login(wechat, stubs.app(WECHAT_OFFICIAL_ID), code)
        assert type(raised) is ProviderCodeInvalid


class TestAuthorizeUrl:
    def test_official_account_is_silent_by_default(self, wechat: WeChatProvider) -> None:
        app = AppCredentials(AppType.WECHAT_OFFICIAL, "wx123", "s")
        url = wechat.authorize_url(app, redirect_uri="https://h5.example.com/cb?x=1", state="st")
        assert url == (
            "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx123"
            "&redirect_uri=https%3A%2F%2Fh5.example.com%2Fcb%3Fx%3D1&response_type=code"
            "&scope=snsapi_base&state=st#wechat_redirect"
        )

    def test_official_account_scope_comes_from_the_app(self, wechat: WeChatProvider) -> None:
        app = AppCredentials(AppType.WECHAT_OFFICIAL, "wx123", "s", {"scope": "snsapi_userinfo"})
        url = wechat.authorize_url(app, redirect_uri="https://h5.example.com/cb", state="st")
        assert parse_qs(urlsplit(url).query)["scope"] == ["snsapi_userinfo"]

    def test_website_uses_qr_login(self, wechat: WeChatProvider) -> None:
        app = AppCredentials(AppType.WECHAT_WEB, "wx456", "s")
        url = wechat.authorize_url(app, redirect_uri="https://www.example.com/cb", state="st")
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
            "https://open.weixin.qq.com/connect/qrconnect"
        )
        assert parse_qs(parts.query)["scope"] == ["snsapi_login"]
        assert parts.fragment == "wechat_redirect"

    @pytest.mark.parametrize("app_type", [AppType.WECHAT_MINIAPP, AppType.WECHAT_APP])
    def test_apps_without_a_browser_flow_refuse(
        self, wechat: WeChatProvider, app_type: AppType
    ) -> None:
        with pytest.raises(ValueError, match="no browser"):
            wechat.authorize_url(
                AppCredentials(app_type, "wx1", "s"), redirect_uri="https://x", state="s"
            )

    async def test_the_stubs_consent_page_sends_back_a_working_code(
        self, wechat: WeChatProvider, http: httpx.AsyncClient, stubs: RunningStubs
    ) -> None:
        base = stubs.app(WECHAT_OFFICIAL_ID)
        app = AppCredentials(
            base.app_type, base.app_id, base.secret, {**base.extra, "scope": "snsapi_userinfo"}
        )
        url = wechat.authorize_url(app, redirect_uri="https://h5.example.com/cb", state="s1")
        response = await http.get(url.split("#")[0] + "&person=carol")
        assert response.status_code == 302
        back = parse_qs(urlsplit(response.headers["location"]).query)
        assert back["state"] == ["s1"]
        identity = await wechat.exchange(app, LoginProof(code=back["code"][0]))
        assert identity.nickname == "Carol"


class TestPhoneNumber:
    async def test_a_phone_code_gives_the_number_in_e164(
        self, wechat: WeChatProvider, miniapp: AppCredentials, stubs: RunningStubs
    ) -> None:
        code = stubs.wechat.phone_code_for(WECHAT_MINIAPP_ID, "+8613812345678")
        assert await wechat.phone_number(miniapp, code) == "+8613812345678"

    async def test_a_number_abroad_keeps_its_country_code(
        self, wechat: WeChatProvider, miniapp: AppCredentials, stubs: RunningStubs
    ) -> None:
        code = stubs.wechat.phone_code_for(WECHAT_MINIAPP_ID, "+14155552671")
        assert await wechat.phone_number(miniapp, code) == "+14155552671"

    async def test_a_phone_code_works_once(
        self, wechat: WeChatProvider, miniapp: AppCredentials, stubs: RunningStubs
    ) -> None:
        code = stubs.wechat.phone_code_for(WECHAT_MINIAPP_ID)
        await wechat.phone_number(miniapp, code)
        with pytest.raises(ProviderCodeInvalid):
            await wechat.phone_number(miniapp, code)

    @pytest.mark.parametrize(
        ("code", "error"),
        [
            ("never-issued", ProviderCodeInvalid),
            ("wx-40029", ProviderCodeInvalid),
            ("wx-45011", ProviderRejected),
            ("wx-busy", ProviderUnavailable),
            ("wx-99999", ProviderUnavailable),
        ],
    )
    async def test_vendor_errors_become_our_codes(
        self,
        wechat: WeChatProvider,
        miniapp: AppCredentials,
        code: str,
        error: type[ProviderError],
    ) -> None:
        with pytest.raises(error):
            await wechat.phone_number(miniapp, code)

    async def test_busy_once_then_fine_gives_the_number(
        self, wechat: WeChatProvider, miniapp: AppCredentials, stubs: RunningStubs
    ) -> None:
        code = stubs.wechat.phone_code_for(WECHAT_MINIAPP_ID, busy_times=1)
        assert await wechat.phone_number(miniapp, code) == "+8613812345678"
        assert stubs.wechat.calls[code] == 2

    async def test_a_phone_code_of_another_mini_program_is_invalid(
        self, wechat: WeChatProvider, miniapp: AppCredentials, stubs: RunningStubs
    ) -> None:
        code = stubs.wechat.phone_code_for(WECHAT_UNBOUND_MINIAPP_ID)
        with pytest.raises(ProviderCodeInvalid):
            await wechat.phone_number(miniapp, code)

    async def test_only_mini_programs_have_phone_codes(
        self, wechat: WeChatProvider, stubs: RunningStubs
    ) -> None:
        with pytest.raises(ValueError, match="mini program"):
            await wechat.phone_number(stubs.app(WECHAT_OFFICIAL_ID), "code")


class TestAccessTokens:
    async def test_a_token_is_fetched_once_and_cached_until_five_minutes_before_expiry(
        self,
        tokens: WeChatAccessTokens,
        cache: RecordingCache,
        fresh_miniapp: AppCredentials,
        stubs: RunningStubs,
    ) -> None:
        first = await tokens.get(fresh_miniapp)
        second = await tokens.get(fresh_miniapp)
        assert first == second
        assert stubs.wechat.stable_token_calls[fresh_miniapp.app_id] == 1
        ttl = cache.ttls[f"wechat:access_token:{fresh_miniapp.app_id}"]
        assert ttl is not None
        assert 7200 - 300 - 5 <= ttl <= 7200 - 300

    async def test_twenty_callers_at_once_cause_one_refresh(
        self, tokens: WeChatAccessTokens, fresh_miniapp: AppCredentials, stubs: RunningStubs
    ) -> None:
        results = await asyncio.gather(*(tokens.get(fresh_miniapp) for _ in range(20)))
        assert len(set(results)) == 1
        assert stubs.wechat.stable_token_calls[fresh_miniapp.app_id] == 1

    async def test_instances_sharing_a_cache_refresh_once(
        self, http: httpx.AsyncClient, fresh_miniapp: AppCredentials, stubs: RunningStubs
    ) -> None:
        shared = MemoryCache()
        workers = [WeChatAccessTokens(shared, http, **FAST) for _ in range(5)]
        results = await asyncio.gather(
            *(worker.get(fresh_miniapp) for worker in workers for _ in range(4))
        )
        assert len(set(results)) == 1
        assert stubs.wechat.stable_token_calls[fresh_miniapp.app_id] == 1

    async def test_a_rejected_token_is_dropped_and_fetched_again(
        self,
        wechat: WeChatProvider,
        tokens: WeChatAccessTokens,
        fresh_miniapp: AppCredentials,
        stubs: RunningStubs,
    ) -> None:
        app_id = fresh_miniapp.app_id
        assert await wechat.phone_number(fresh_miniapp, stubs.wechat.phone_code_for(app_id))
        old = await tokens.get(fresh_miniapp)
        stubs.wechat.invalidate_access_token(app_id)
        code = stubs.wechat.phone_code_for(app_id)
        assert await wechat.phone_number(fresh_miniapp, code) == "+8613812345678"
        assert stubs.wechat.stable_token_calls[app_id] == 2
        assert stubs.wechat.calls[code] == 1  # the rejected call never reached the code check
        assert await tokens.get(fresh_miniapp) != old

    async def test_invalidate_leaves_a_newer_token_alone(
        self, tokens: WeChatAccessTokens, cache: RecordingCache, fresh_miniapp: AppCredentials
    ) -> None:
        current = await tokens.get(fresh_miniapp)
        await tokens.invalidate(fresh_miniapp, "an-older-token")
        assert await cache.get(f"wechat:access_token:{fresh_miniapp.app_id}") == current
        await tokens.invalidate(fresh_miniapp)
        assert await cache.get(f"wechat:access_token:{fresh_miniapp.app_id}") is None

    async def test_a_failed_refresh_fails_every_waiter_with_one_call(
        self, tokens: WeChatAccessTokens, fresh_miniapp: AppCredentials, stubs: RunningStubs
    ) -> None:
        wrong = AppCredentials(
            fresh_miniapp.app_type, fresh_miniapp.app_id, "wrong-secret", fresh_miniapp.extra
        )
        results = await asyncio.gather(
            *(tokens.get(wrong) for _ in range(10)), return_exceptions=True
        )
        assert all(type(result) is ProviderUnavailable for result in results)
        assert stubs.wechat.stable_token_calls[fresh_miniapp.app_id] == 1

    async def test_a_lock_held_elsewhere_for_too_long_is_unavailable(
        self, http: httpx.AsyncClient, fresh_miniapp: AppCredentials, stubs: RunningStubs
    ) -> None:
        cache = MemoryCache()
        seconds = itertools.count(step=2.0)  # each look at the clock: two seconds later
        tokens = WeChatAccessTokens(
            cache, http, wait=5.0, poll=0.01, monotonic=lambda: float(next(seconds))
        )
        await cache.incr(WeChatAccessTokens.lock_key(fresh_miniapp.app_id), ttl=10)
        with pytest.raises(ProviderUnavailable):
            await tokens.get(fresh_miniapp)
        assert stubs.wechat.stable_token_calls[fresh_miniapp.app_id] == 0

    async def test_a_waiter_takes_the_token_the_lock_holder_stored(
        self, http: httpx.AsyncClient, fresh_miniapp: AppCredentials, stubs: RunningStubs
    ) -> None:
        cache = LockWatchingCache()
        tokens = WeChatAccessTokens(cache, http, wait=2.0, poll=0.02)
        await cache.incr(WeChatAccessTokens.lock_key(fresh_miniapp.app_id), ttl=10)

        waiter = asyncio.create_task(tokens.get(fresh_miniapp))
        await cache.lock_lost.wait()  # the waiter found the lock taken: it polls now
        key = WeChatAccessTokens.cache_key(fresh_miniapp.app_id)
        await cache.set(key, "token-from-elsewhere", ttl=60)
        assert await waiter == "token-from-elsewhere"
        assert stubs.wechat.stable_token_calls[fresh_miniapp.app_id] == 0


class TestDecryptLegacy:
    async def test_data_from_the_session_decrypts_with_its_session_key(
        self, wechat: WeChatProvider, miniapp: AppCredentials, stubs: RunningStubs
    ) -> None:
        who = person()
        identity = await wechat.exchange(
            miniapp, LoginProof(code=stubs.wechat.code_for(WECHAT_MINIAPP_ID, who))
        )
        assert identity.session_key is not None
        data, iv = stubs.wechat.legacy_phone_data(WECHAT_MINIAPP_ID, who, "+8613912345678")
        payload = wechat.decrypt_legacy(identity.session_key, data, iv, WECHAT_MINIAPP_ID)
        assert payload["purePhoneNumber"] == "13912345678"
        assert payload["countryCode"] == "86"

    def test_data_watermarked_for_another_app_is_rejected(self) -> None:
        session_key = base64.b64encode(os.urandom(16)).decode()
        data, iv = legacy_encrypt(session_key, {"a": 1, "watermark": {"appid": "wxother"}})
        with pytest.raises(ProviderRejected):
            decrypt_legacy(session_key, data, iv, "wxmine")

    def test_data_without_a_watermark_is_rejected(self) -> None:
        session_key = base64.b64encode(os.urandom(16)).decode()
        data, iv = legacy_encrypt(session_key, {"a": 1})
        with pytest.raises(ProviderRejected):
            decrypt_legacy(session_key, data, iv, "wxmine")

    @pytest.mark.parametrize(
        ("session_key", "data", "iv"),
        [
            ("not base64!", "AAAA", "AAAA"),
            (base64.b64encode(b"k" * 16).decode(), "%%%", base64.b64encode(b"i" * 16).decode()),
            (base64.b64encode(b"k" * 16).decode(), base64.b64encode(b"x" * 32).decode(), "AAAA"),
            (
                base64.b64encode(b"k" * 16).decode(),
                base64.b64encode(os.urandom(48)).decode(),
                base64.b64encode(b"i" * 16).decode(),
            ),
        ],
    )
    def test_garbage_is_an_invalid_code(self, session_key: str, data: str, iv: str) -> None:
        with pytest.raises(ProviderCodeInvalid):
            decrypt_legacy(session_key, data, iv, "wxmine")

    def test_another_session_key_cannot_decrypt(self) -> None:
        right = base64.b64encode(os.urandom(16)).decode()
        other = base64.b64encode(os.urandom(16)).decode()
        data, iv = legacy_encrypt(right, {"watermark": {"appid": "wxmine"}, "pad": "x" * 40})
        with pytest.raises(ProviderCodeInvalid):
            decrypt_legacy(other, data, iv, "wxmine")


class TestLogs:
    async def test_secrets_never_reach_the_logs(
        self,
        wechat: WeChatProvider,
        miniapp: AppCredentials,
        stubs: RunningStubs,
        captured: io.StringIO,
    ) -> None:
        # The service keeps httpx at WARNING; open it up to see that its URLs lose their
        # query strings even when someone turns it on.
        httpx_logger = logging.getLogger("httpx")
        level = httpx_logger.level
        httpx_logger.setLevel(logging.INFO)
        try:
            code = stubs.wechat.code_for(WECHAT_MINIAPP_ID, person())
            identity = await wechat.exchange(miniapp, LoginProof(code=code))
            phone_code = stubs.wechat.phone_code_for(WECHAT_MINIAPP_ID, "+8613812345678")
            await wechat.phone_number(miniapp, phone_code)
            await login(wechat, miniapp, "wx-40029")
            token = await wechat.tokens.get(miniapp)
        finally:
            httpx_logger.setLevel(level)
        raw = captured.getvalue()
        assert identity.session_key is not None
        for secret in (identity.session_key, miniapp.secret, code, phone_code, token):
            assert secret not in raw
        assert "13812345678" not in raw
        failures = [line for line in log_lines(captured) if line["event"] == "provider_call_failed"]
        assert [(line["vendor_code"], line["error"]) for line in failures] == [
            ("40029", "provider_code_invalid")
        ]
        # httpx's own request lines are there, without their query strings.
        assert any("jscode2session?…" in str(line["event"]) for line in log_lines(captured))
        assert json.dumps(failures[0]["app_id"]) == json.dumps(WECHAT_MINIAPP_ID)
