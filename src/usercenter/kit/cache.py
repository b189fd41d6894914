"""Key-value stores with expiry: Redis when configured, process memory otherwise.

Two stores, for two kinds of data:

- `Cache` holds copies (user views, session state, permissions): it may drop an entry at any
  time, and when Redis cannot be reached a read is a miss and a write is skipped, so callers
  fall back to the database.
- `Counters` holds what security rests on (lockouts, send limits, resend cooldowns, one-time
  codes, used markers): nothing evicts a live entry, and when Redis cannot be reached every
  call raises `CacheUnavailable` (503), so a limit never silently stops applying.

Both are atomic where it matters (`incr`, `claim`). Keys carry the deployment's namespace, so
two deployments sharing one Redis never read each other's entries. The in-process stores are
right for one process only; `usercenter serve --workers N` refuses them. They, and `LocalMemo`,
read time from `kit.clock.monotonic()`, so a test moves the clock instead of sleeping.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.engine import URL

from usercenter.kit import clock
from usercenter.kit.errors import CacheUnavailable
from usercenter.kit.log import get_logger

log = get_logger("usercenter.cache")

# What an unreachable Redis raises (redis-py wraps most socket errors; not all of them).
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
# How often an unreachable cache is logged while it stays unreachable.
WARN_EVERY_SECONDS = 10.0
# Live entries the in-process counter store holds at most; past that it refuses new keys
# (503) rather than drop a lock, and a deployment that meets this needs Redis.
COUNTERS_MAX_ENTRIES = 1_000_000


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


class Counters(Cache, Protocol):
    """A store nothing evicts, that fails loudly (`CacheUnavailable`) rather than forget."""

    async def claim(self, key: str, *, until: float, now: float, ttl: float) -> float | None:
        """Hold `key` until the timestamp `until` unless it is held past `now`: None when
        claimed, else the timestamp it is held until. Atomic: of racing claims one wins.
        `ttl` (seconds) only bounds how long the key is kept."""
        ...

    async def release(self, key: str, *, until: float) -> None:
        """Drop a claim, but only the one made with `until` (not a later claim by another)."""
        ...


def cache_namespace(database: URL, configured: str | None = None) -> str:
    """The prefix of every key of a deployment: the configured one, else one derived from the
    database (a SQLite path made absolute), so two databases never share keys."""
    if configured:
        return f"{configured}:"
    if database.get_backend_name() == "sqlite" and database.database:
        database = database.set(database=str(Path(database.database).resolve()))
    # Without the password: rotating it must not move every key.
    rendered = database._replace(password=None).render_as_string(hide_password=False)
    return f"uc:{hashlib.sha256(rendered.encode()).hexdigest()[:12]}:"


class _MemoryStore:
    def __init__(self, max_entries: int) -> None:
        self._data: dict[str, tuple[str, float | None]] = {}
        self._max_entries = max_entries

    def _live(self, key: str) -> tuple[str, float | None] | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry[1] is not None and entry[1] <= clock.monotonic():
            del self._data[key]
            return None
        return entry

    def _drop_expired(self) -> None:
        now = clock.monotonic()
        for key in [k for k, (_, exp) in self._data.items() if exp is not None and exp <= now]:
            del self._data[key]

    def _make_room(self) -> None:
        raise NotImplementedError

    def _put(self, key: str, value: str, ttl: float | None) -> None:
        if key not in self._data and len(self._data) >= self._max_entries:
            self._make_room()
        self._data[key] = (value, clock.monotonic() + ttl if ttl else None)

    async def get(self, key: str) -> str | None:
        entry = self._live(key)
        return entry[0] if entry else None

    async def get_many(self, *keys: str) -> list[str | None]:
        return [entry[0] if (entry := self._live(key)) else None for key in keys]

    async def set(self, key: str, value: str, *, ttl: float | None = None) -> None:
        self._put(key, value, ttl)

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    async def incr(self, key: str, *, ttl: float | None = None, amount: int = 1) -> int:
        entry = self._live(key)
        if entry is None:
            self._put(key, str(amount), ttl)
            return amount
        value = int(entry[0]) + amount
        self._data[key] = (str(value), entry[1])
        return value

    async def ping(self) -> str:
        return "in-process"

    async def close(self) -> None:
        self._data.clear()


class MemoryCache(_MemoryStore):
    """Process memory, bounded: when full, the oldest entries go first."""

    name = "memory"

    def __init__(self, max_entries: int = 100_000) -> None:
        super().__init__(max_entries)

    def _make_room(self) -> None:
        self._drop_expired()
        while len(self._data) >= self._max_entries:
            del self._data[next(iter(self._data))]  # oldest inserted first


class MemoryCounters(_MemoryStore):
    """Process memory that never drops a live entry: when full of live entries it refuses a
    new key with CacheUnavailable instead."""

    name = "memory"

    def __init__(self, max_entries: int = COUNTERS_MAX_ENTRIES) -> None:
        super().__init__(max_entries)

    def _make_room(self) -> None:
        self._drop_expired()
        if len(self._data) >= self._max_entries:
            log.error("counters_full", entries=len(self._data))
            raise CacheUnavailable()

    async def claim(self, key: str, *, until: float, now: float, ttl: float) -> float | None:
        entry = self._live(key)
        if entry is not None and float(entry[0]) > now:
            return float(entry[0])
        self._put(key, repr(until), ttl)
        return None

    async def release(self, key: str, *, until: float) -> None:
        entry = self._live(key)
        if entry is not None and entry[0] == repr(until):
            del self._data[key]


def _redis_client(url: str, max_connections: int) -> Redis:
    # A burst waits for a free connection instead of failing with "Too many connections".
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=5,
        decode_responses=True,
        socket_connect_timeout=3,
        socket_timeout=3,
    )
    return Redis(connection_pool=pool)


class _RedisStore:
    name = "redis"

    def __init__(self, redis: Redis, namespace: str, *, owns_client: bool) -> None:
        self._redis = redis
        self._ns = namespace
        self._owns_client = owns_client
        self._warned_at = float("-inf")

    def _unreachable(self, operation: str, exc: BaseException) -> None:
        now = clock.monotonic()
        if now - self._warned_at >= WARN_EVERY_SECONDS:
            self._warned_at = now
            log.warning("cache_unreachable", operation=operation, error=str(exc)[:200])

    async def _get(self, key: str) -> str | None:
        value = await self._redis.get(self._ns + key)
        return None if value is None else str(value)

    async def _get_many(self, keys: tuple[str, ...]) -> list[str | None]:
        values = await self._redis.mget([self._ns + key for key in keys])
        return [None if value is None else str(value) for value in values]

    async def _set(self, key: str, value: str, ttl: float | None) -> None:
        await self._redis.set(self._ns + key, value, px=int(ttl * 1000) if ttl else None)

    async def _delete(self, key: str) -> None:
        await self._redis.delete(self._ns + key)

    async def incr(self, key: str, *, ttl: float | None = None, amount: int = 1) -> int:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incrby(self._ns + key, amount)
                if ttl:
                    pipe.pexpire(self._ns + key, int(ttl * 1000), nx=True)
                results = await pipe.execute()
        except UNREACHABLE as exc:
            self._unreachable("incr", exc)
            raise CacheUnavailable() from None
        return int(results[0])

    async def ping(self) -> str:
        await self._redis.ping()
        info = await self._redis.info("server")
        return f"Redis {info.get('redis_version', '?')}"

    async def close(self) -> None:
        if self._owns_client:
            await self._redis.aclose()


class RedisCache(_RedisStore):
    """Redis as a cache: an unreachable server reads as a miss and skips a write (logged),
    so every read falls back to the database. `incr` still raises CacheUnavailable."""

    def __init__(self, url: str, *, namespace: str = "", max_connections: int = 50) -> None:
        super().__init__(_redis_client(url, max_connections), namespace, owns_client=True)

    async def get(self, key: str) -> str | None:
        try:
            return await self._get(key)
        except UNREACHABLE as exc:
            self._unreachable("get", exc)
            return None

    async def get_many(self, *keys: str) -> list[str | None]:
        try:
            return await self._get_many(keys)
        except UNREACHABLE as exc:
            self._unreachable("get_many", exc)
            return [None] * len(keys)

    async def set(self, key: str, value: str, *, ttl: float | None = None) -> None:
        try:
            await self._set(key, value, ttl)
        except UNREACHABLE as exc:
            self._unreachable("set", exc)

    async def delete(self, key: str) -> None:
        try:
            await self._delete(key)
        except UNREACHABLE as exc:
            self._unreachable("delete", exc)

    def counters(self) -> RedisCounters:
        """The counter store on the same server, namespace and connections."""
        return RedisCounters(self._redis, self._ns)


# Holds KEYS[1] until ARGV[1] unless it is held past ARGV[2]; ARGV[3]: milliseconds to keep it.
_CLAIM = """
local held = redis.call('GET', KEYS[1])
if held and tonumber(held) > tonumber(ARGV[2]) then return held end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return false
"""
# Deletes KEYS[1] if it still holds ARGV[1].
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisCounters(_RedisStore):
    """Redis for security state: an unreachable server raises CacheUnavailable (503)."""

    def __init__(self, redis: Redis, namespace: str = "") -> None:
        super().__init__(redis, namespace, owns_client=False)
        self._claim = redis.register_script(_CLAIM)
        self._release = redis.register_script(_RELEASE)

    async def get(self, key: str) -> str | None:
        try:
            return await self._get(key)
        except UNREACHABLE as exc:
            self._unreachable("get", exc)
            raise CacheUnavailable() from None

    async def get_many(self, *keys: str) -> list[str | None]:
        try:
            return await self._get_many(keys)
        except UNREACHABLE as exc:
            self._unreachable("get_many", exc)
            raise CacheUnavailable() from None

    async def set(self, key: str, value: str, *, ttl: float | None = None) -> None:
        try:
            await self._set(key, value, ttl)
        except UNREACHABLE as exc:
            self._unreachable("set", exc)
            raise CacheUnavailable() from None

    async def delete(self, key: str) -> None:
        try:
            await self._delete(key)
        except UNREACHABLE as exc:
            self._unreachable("delete", exc)
            raise CacheUnavailable() from None

    async def claim(self, key: str, *, until: float, now: float, ttl: float) -> float | None:
        try:
            held = await self._claim(
                keys=[self._ns + key], args=[repr(until), repr(now), max(1, int(ttl * 1000))]
            )
        except UNREACHABLE as exc:
            self._unreachable("claim", exc)
            raise CacheUnavailable() from None
        return None if held is None else float(held)

    async def release(self, key: str, *, until: float) -> None:
        try:
            await self._release(keys=[self._ns + key], args=[repr(until)])
        except UNREACHABLE as exc:
            self._unreachable("release", exc)
            raise CacheUnavailable() from None


def make_stores(redis_url: str | None, namespace: str = "") -> tuple[Cache, Counters]:
    """The cache and the counter store: both on Redis when configured, else in process."""
    if redis_url:
        cache = RedisCache(redis_url, namespace=namespace)
        return cache, cache.counters()
    return MemoryCache(), MemoryCounters()


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
        if entry[1] <= clock.monotonic():
            self._data.pop(key, None)
            return None
        return entry[0]

    def put(self, key: str, value: str) -> None:
        if len(self._data) >= self._max_entries:
            self._data.clear()  # crude, and rare: entries live seconds
        self._data[key] = (value, clock.monotonic() + self.ttl)

    def drop(self, key: str) -> None:
        self._data.pop(key, None)
