"""A small key-value cache with expiry: Redis when configured, process memory otherwise.

Counters (`incr`) are atomic in both, which is what rate limits and failure counters need.
The in-process cache is right for one process only; `usercenter serve --workers N` refuses it.
"""

from __future__ import annotations

import time
from typing import Protocol

from redis.asyncio import BlockingConnectionPool, Redis


class Cache(Protocol):
    name: str

    async def get(self, key: str) -> str | None: ...
    async def get_many(self, *keys: str) -> list[str | None]:
        """Several values in one round trip (None for each missing key)."""
        ...

    async def set(self, key: str, value: str, *, ttl: float | None = None) -> None: ...
    async def delete(self, key: str) -> None: ...
    async def incr(self, key: str, *, ttl: float | None = None, amount: int = 1) -> int:
        """Add `amount` (default one) and return the new value; `ttl` is set when the key is
        created."""
        ...

    async def ping(self) -> str:
        """Round-trip; returns the server's version (or 'in-process')."""
        ...

    async def close(self) -> None: ...


class MemoryCache:
    name = "memory"

    def __init__(self, max_entries: int = 100_000) -> None:
        self._data: dict[str, tuple[str, float | None]] = {}
        self._max_entries = max_entries

    def _live(self, key: str) -> tuple[str, float | None] | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry[1] is not None and entry[1] <= time.monotonic():
            del self._data[key]
            return None
        return entry

    def _evict_if_full(self) -> None:
        if len(self._data) < self._max_entries:
            return
        now = time.monotonic()
        for key in [k for k, (_, exp) in self._data.items() if exp is not None and exp <= now]:
            del self._data[key]
        while len(self._data) >= self._max_entries:
            del self._data[next(iter(self._data))]  # oldest inserted first

    async def get(self, key: str) -> str | None:
        entry = self._live(key)
        return entry[0] if entry else None

    async def get_many(self, *keys: str) -> list[str | None]:
        return [entry[0] if (entry := self._live(key)) else None for key in keys]

    async def set(self, key: str, value: str, *, ttl: float | None = None) -> None:
        self._evict_if_full()
        self._data[key] = (value, time.monotonic() + ttl if ttl else None)

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    async def incr(self, key: str, *, ttl: float | None = None, amount: int = 1) -> int:
        entry = self._live(key)
        if entry is None:
            self._evict_if_full()
            self._data[key] = (str(amount), time.monotonic() + ttl if ttl else None)
            return amount
        value = int(entry[0]) + amount
        self._data[key] = (str(value), entry[1])
        return value

    async def ping(self) -> str:
        return "in-process"

    async def close(self) -> None:
        self._data.clear()


class RedisCache:
    name = "redis"

    def __init__(self, url: str, *, max_connections: int = 50) -> None:
        # A burst waits for a free connection instead of failing with "Too many connections".
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=5,
            decode_responses=True,
            socket_connect_timeout=3,
            socket_timeout=3,
        )
        self._redis: Redis = Redis(connection_pool=pool)

    async def get(self, key: str) -> str | None:
        value = await self._redis.get(key)
        return None if value is None else str(value)

    async def get_many(self, *keys: str) -> list[str | None]:
        values = await self._redis.mget(keys)
        return [None if value is None else str(value) for value in values]

    async def set(self, key: str, value: str, *, ttl: float | None = None) -> None:
        await self._redis.set(key, value, px=int(ttl * 1000) if ttl else None)

    async def delete(self, key: str) -> None:
        await self._redis.delete(key)

    async def incr(self, key: str, *, ttl: float | None = None, amount: int = 1) -> int:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrby(key, amount)
            if ttl:
                pipe.pexpire(key, int(ttl * 1000), nx=True)
            results = await pipe.execute()
        return int(results[0])

    async def ping(self) -> str:
        await self._redis.ping()
        info = await self._redis.info("server")
        return f"Redis {info.get('redis_version', '?')}"

    async def close(self) -> None:
        await self._redis.aclose()


def make_cache(redis_url: str | None) -> Cache:
    return RedisCache(redis_url) if redis_url else MemoryCache()


class LocalMemo:
    """A tiny in-process memo in front of a shared cache, for read-mostly values on hot paths
    (session state, user views): seconds-long entries, so a change made by another process is
    seen within `ttl`; a change made by this process is seen at once (callers update it)."""

    def __init__(self, ttl: float, max_entries: int = 50_000) -> None:
        self.ttl = ttl
        self._data: dict[str, tuple[str, float]] = {}
        self._max_entries = max_entries

    def get(self, key: str) -> str | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry[1] <= time.monotonic():
            self._data.pop(key, None)
            return None
        return entry[0]

    def put(self, key: str, value: str) -> None:
        if len(self._data) >= self._max_entries:
            self._data.clear()  # crude, and rare: entries live seconds
        self._data[key] = (value, time.monotonic() + self.ttl)

    def drop(self, key: str) -> None:
        self._data.pop(key, None)
