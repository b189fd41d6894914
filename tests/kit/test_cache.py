from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from tests.conftest import service_url
from usercenter.kit.cache import Cache, MemoryCache, RedisCache


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

    async def test_values_expire(self, cache: Cache) -> None:
        name = key()
        await cache.set(name, "v", ttl=0.2)
        assert await cache.get(name) == "v"
        await asyncio.sleep(0.3)
        assert await cache.get(name) is None

    async def test_concurrent_increments_are_not_lost(self, cache: Cache) -> None:
        name = key()
        values = await asyncio.gather(*(cache.incr(name, ttl=5) for _ in range(200)))
        assert sorted(values) == list(range(1, 201))

    async def test_counter_keeps_the_expiry_of_its_first_increment(self, cache: Cache) -> None:
        name = key()
        await cache.incr(name, ttl=0.3)
        await asyncio.sleep(0.15)
        assert await cache.incr(name, ttl=0.3) == 2
        await asyncio.sleep(0.25)
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
