from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import MovableClock, make_settings, redis_lifetime_ms, service_url
from tests.kit.redis_proxy import RedisProxy
from usercenter.app import create_app
from usercenter.kit.cache import (
    Cache,
    Counters,
    MemoryCache,
    MemoryCounters,
    RedisCache,
    cache_namespace,
)
from usercenter.kit.errors import CacheUnavailable


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    store: Cache = MemoryCache() if request.param == "memory" else RedisCache(service_url("redis"))
    yield store
    await store.close()


def key() -> str:
    return f"test:{uuid.uuid4().hex}"


class TestCache:
    async def test_set_get_delete(self, cache: Cache) -> None:
        name = key()
        assert await cache.get(name) is None
        await cache.set(name, "v")
        assert await cache.get(name) == "v"
        await cache.delete(name)
        assert await cache.get(name) is None

    async def test_get_many_answers_in_the_order_asked(self, cache: Cache) -> None:
        first, missing, last = key(), key(), key()
        await cache.set(first, "1")
        await cache.set(last, "3")
        assert await cache.get_many(first, missing, last) == ["1", None, "3"]

    async def test_values_expire(self, cache: Cache, moved_clock: MovableClock) -> None:
        name = key()
        await cache.set(name, "v", ttl=0.2)
        assert await cache.get(name) == "v"
        if isinstance(cache, RedisCache):
            assert 0 < await redis_lifetime_ms(cache, name) <= 200
            return
        moved_clock.advance(0.3)
        assert await cache.get(name) is None

    async def test_concurrent_increments_are_not_lost(self, cache: Cache) -> None:
        name = key()
        values = await asyncio.gather(*(cache.incr(name, ttl=5) for _ in range(200)))
        assert sorted(values) == list(range(1, 201))

    async def test_counter_keeps_the_expiry_of_its_first_increment(
        self, cache: Cache, moved_clock: MovableClock
    ) -> None:
        name = key()
        await cache.incr(name, ttl=0.3)
        if isinstance(cache, RedisCache):
            assert await cache.incr(name, ttl=60) == 2
            assert 0 < await redis_lifetime_ms(cache, name) <= 300
            return
        moved_clock.advance(0.15)
        assert await cache.incr(name, ttl=0.3) == 2
        moved_clock.advance(0.25)
        assert await cache.incr(name, ttl=0.3) == 1  # the first window ended

    async def test_ping_names_the_server(self, cache: Cache) -> None:
        assert await cache.ping()


def test_memory_cache_is_bounded() -> None:
    async def fill() -> MemoryCache:
        store = MemoryCache(max_entries=10)
        for n in range(25):
            await store.set(f"k{n}", "v")
        return store

    store = asyncio.run(fill())
    assert len(store._data) <= 10


class TestCounters:
    async def test_a_live_entry_is_never_evicted(self) -> None:
        counters = MemoryCounters(max_entries=10)
        await counters.set("login:lock:someone", "locked", ttl=60)
        for n in range(9):
            await counters.set(f"k{n}", "v", ttl=60)
        with pytest.raises(CacheUnavailable):
            await counters.incr("one-too-many", ttl=60)
        assert await counters.get("login:lock:someone") == "locked"

    async def test_expired_entries_make_room(self, moved_clock: MovableClock) -> None:
        counters = MemoryCounters(max_entries=3)
        for n in range(3):
            await counters.set(f"k{n}", "v", ttl=0.01)
        moved_clock.advance(0.02)
        await counters.set("fresh", "v", ttl=60)
        assert await counters.get("fresh") == "v"

    async def test_a_claim_holds_until_its_time_and_only_its_owner_releases_it(
        self, counters: Counters
    ) -> None:
        name = key()
        assert await counters.claim(name, until=160.0, now=100.0, ttl=60) is None
        assert await counters.claim(name, until=170.0, now=110.0, ttl=60) == 160.0
        await counters.release(name, until=999.0)  # not the owner's claim: kept
        assert await counters.claim(name, until=175.0, now=115.0, ttl=60) == 160.0
        assert await counters.claim(name, until=221.0, now=161.0, ttl=60) is None  # ended
        await counters.release(name, until=221.0)
        assert await counters.claim(name, until=222.0, now=162.0, ttl=60) is None

    async def test_racing_claims_have_one_winner(self, counters: Counters) -> None:
        name = key()
        results = await asyncio.gather(
            *(counters.claim(name, until=160.0, now=100.0, ttl=60) for _ in range(30))
        )
        assert results.count(None) == 1


@pytest.fixture(params=["memory", "redis"])
async def counters(request: pytest.FixtureRequest) -> AsyncIterator[Counters]:
    if request.param == "memory":
        yield MemoryCounters()
        return
    cache = RedisCache(service_url("redis"), namespace=f"test-{uuid.uuid4().hex[:8]}:")
    yield cache.counters()
    await cache.close()


class TestNamespace:
    def test_two_databases_never_share_a_namespace(self, tmp_path: Path) -> None:
        one = cache_namespace(make_url(f"sqlite:///{tmp_path / 'one.db'}"))
        two = cache_namespace(make_url(f"sqlite:///{tmp_path / 'two.db'}"))
        pg = cache_namespace(make_url("postgresql://u:secret@db1/usercenter"))
        assert len({one, two, pg}) == 3
        assert pg == cache_namespace(make_url("postgresql://u:rotated@db1/usercenter"))
        assert cache_namespace(make_url("sqlite:///x.db"), "shop-prod") == "shop-prod:"

    def test_a_relative_sqlite_path_is_made_absolute(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        relative = cache_namespace(make_url("sqlite:///./usercenter.db"))
        absolute = cache_namespace(make_url(f"sqlite:///{tmp_path / 'usercenter.db'}"))
        assert relative == absolute

    async def test_two_deployments_on_one_redis_keep_their_own_entries(self) -> None:
        one = RedisCache(service_url("redis"), namespace="one:")
        two = RedisCache(service_url("redis"), namespace="two:")
        try:
            await one.set("user:view:1", "alice")
            assert await two.get("user:view:1") is None
            assert await one.get("user:view:1") == "alice"
        finally:
            await one.delete("user:view:1")
            await one.close()
            await two.close()

    async def test_two_apps_on_two_databases_and_one_redis_show_their_own_user(
        self, tmp_path: Path
    ) -> None:
        redis_url = service_url("redis")
        async with AsyncExitStack() as stack:
            users = {}
            for name in ("one", "two"):
                settings = make_settings(
                    f"sqlite:///{tmp_path / name}.db", redis_url=redis_url, log_level="ERROR"
                )
                application = create_app(settings)
                await stack.enter_async_context(application.router.lifespan_context(application))
                http = await stack.enter_async_context(
                    httpx.AsyncClient(
                        transport=httpx.ASGITransport(app=application),
                        base_url="http://usercenter.test",
                    )
                )
                body = {"username": f"{name}_owner", "password": "correct horse 42"}
                login = await http.post("/v1/auth/register", json={**body, "platform": "WEB"})
                assert login.status_code == 201, login.text
                token = {"Authorization": f"Bearer {login.json()['access_token']}"}
                users[name] = (http, token, login.json()["user"]["id"])
            # The case reported: the same user id in both databases.
            assert users["one"][2] == users["two"][2]
            for name, (http, token, _) in users.items():
                me = await http.get("/v1/me", headers=token)  # caches the view in Redis
                assert me.json()["username"] == f"{name}_owner"
            for name, (http, token, _) in users.items():
                me = await http.get("/v1/me", headers=token)
                assert me.json()["username"] == f"{name}_owner"


class TestRedisOutage:
    async def test_the_cache_misses_and_the_counters_refuse_while_redis_is_away(self) -> None:
        proxy = RedisProxy(service_url("redis"))
        await proxy.start()
        cache = RedisCache(proxy.url, namespace=f"test-{uuid.uuid4().hex[:8]}:")
        counters = cache.counters()
        try:
            await cache.set("view", "v", ttl=60)
            assert await cache.get("view") == "v"
            await proxy.cut()
            assert await cache.get("view") is None
            assert await cache.get_many("view", "other") == [None, None]
            await cache.set("view", "w", ttl=60)  # skipped, not raised
            await cache.delete("view")
            for call in (
                counters.get("lock"),
                counters.incr("count", ttl=60),
                counters.claim("cooldown", until=2.0, now=1.0, ttl=60),
            ):
                with pytest.raises(CacheUnavailable):
                    await call
            await proxy.restore()
            assert await cache.get("view") == "v"
            assert await counters.incr("count", ttl=60) == 1
        finally:
            await cache.close()
            await proxy.close()

    async def test_reads_fall_back_to_the_database_and_limits_answer_503(
        self, database_url: str, db: object
    ) -> None:
        proxy = RedisProxy(service_url("redis"))
        await proxy.start()
        settings = make_settings(
            database_url,
            redis_url=proxy.url,
            cache_namespace=f"outage-{uuid.uuid4().hex[:8]}",
            log_level="CRITICAL",
            sms_resend_interval_seconds=0,
        )
        application = create_app(settings)
        try:
            async with (
                application.router.lifespan_context(application),
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=application),
                    base_url="http://usercenter.test",
                ) as http,
            ):
                body = {"username": "outage_user", "password": "correct horse 42"}
                login = await http.post("/v1/auth/register", json={**body, "platform": "WEB"})
                assert login.status_code == 201, login.text
                pair = login.json()
                token = {"Authorization": f"Bearer {pair['access_token']}"}
                password_login = {
                    "login": "outage_user",
                    "password": "correct horse 42",
                    "platform": "WEB",
                }
                assert (await http.get("/v1/me", headers=token)).status_code == 200

                await proxy.cut()
                me = await http.get("/v1/me", headers=token)
                assert (me.status_code, me.json()["username"]) == (200, "outage_user")
                assert (await http.get("/v1/me/wallet", headers=token)).status_code == 200
                refreshed = await http.post(
                    "/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
                )
                assert refreshed.status_code == 200, refreshed.text
                fresh = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
                assert (await http.get("/v1/me/wallet", headers=fresh)).status_code == 200
                # What needs Redis for safety refuses rather than run unchecked.
                for path, payload in (
                    ("/v1/auth/password-login", password_login),
                    ("/v1/sms/codes", {"phone": "13912345678", "purpose": "login"}),
                ):
                    refused = await http.post(path, json=payload)
                    assert refused.status_code == 503, (path, refused.text)
                    assert refused.json()["code"] == "cache_unavailable"
                    assert int(refused.headers["retry-after"]) > 0

                await proxy.restore()
                again = await http.post("/v1/auth/password-login", json=password_login)
                assert again.status_code == 200, again.text
        finally:
            await proxy.close()
