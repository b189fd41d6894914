from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import MovableClock, redis_lifetime_ms, service_url
from usercenter.kit.cache import Cache, MemoryCache, RedisCache
from usercenter.security.captcha import ALPHABET, CaptchaService
from usercenter.security.errors import CaptchaInvalid, CaptchaRequired

ANSWER = "K7M3P"


class YieldingCache(MemoryCache):
    """A MemoryCache that lets other tasks run before each call, as a network cache would."""

    async def get(self, key: str) -> str | None:
        await asyncio.sleep(0)
        return await super().get(key)

    async def delete(self, key: str) -> None:
        await asyncio.sleep(0)
        await super().delete(key)

    async def incr(self, key: str, **options: Any) -> int:
        await asyncio.sleep(0)
        return await super().incr(key, **options)


class KnownAnswerCaptcha(CaptchaService):
    def new_answer(self) -> str:
        return ANSWER


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    store: Cache = (
        YieldingCache() if request.param == "memory" else RedisCache(service_url("redis"))
    )
    yield store
    await store.close()


@pytest.fixture
def captchas(cache: Cache) -> KnownAnswerCaptcha:
    return KnownAnswerCaptcha(cache)


class TestIssue:
    async def test_returns_an_id_and_a_png(self, cache: Cache) -> None:
        service = CaptchaService(cache)
        captcha_id, png = await service.issue()
        other_id, _ = await service.issue()
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert len(captcha_id) >= 16
        assert captcha_id != other_id

    async def test_cache_holds_a_hash_not_the_answer(self, captchas: KnownAnswerCaptcha) -> None:
        captcha_id, _ = await captchas.issue()
        stored = await captchas._cache.get(f"captcha:img:{captcha_id}")
        assert stored is not None
        assert ANSWER not in stored.upper()

    def test_answers_avoid_ambiguous_characters(self) -> None:
        service = CaptchaService(MemoryCache(), length=6)
        drawn = "".join(service.new_answer() for _ in range(300))
        assert len(service.new_answer()) == 6
        assert set(drawn) <= set(ALPHABET)
        assert not set(drawn) & set("0O1IL")
        assert len(set(drawn)) > 20  # random, not a fixed string


class TestVerify:
    async def test_right_answer_passes_once_in_any_case(self, captchas: KnownAnswerCaptcha) -> None:
        captcha_id, _ = await captchas.issue()
        assert await captchas.verify(captcha_id, " k7m3p ")
        assert not await captchas.verify(captcha_id, ANSWER)

    async def test_wrong_answer_uses_the_captcha_up(self, captchas: KnownAnswerCaptcha) -> None:
        captcha_id, _ = await captchas.issue()
        assert not await captchas.verify(captcha_id, "K7M3Q")
        assert not await captchas.verify(captcha_id, ANSWER)

    @pytest.mark.parametrize("captcha_id", ["", "unknown-id-0123456789", "../../etc/passwd"])
    async def test_unknown_id_fails(self, captchas: KnownAnswerCaptcha, captcha_id: str) -> None:
        assert not await captchas.verify(captcha_id, ANSWER)

    async def test_empty_answer_fails(self, captchas: KnownAnswerCaptcha) -> None:
        captcha_id, _ = await captchas.issue()
        assert not await captchas.verify(captcha_id, "  ")

    async def test_expired_captcha_fails(self, cache: Cache, moved_clock: MovableClock) -> None:
        service = KnownAnswerCaptcha(cache, ttl_seconds=0.2)
        captcha_id, _ = await service.issue()
        if isinstance(cache, RedisCache):
            assert 0 < await redis_lifetime_ms(cache, f"captcha:img:{captcha_id}") <= 200
            return
        moved_clock.advance(0.3)
        assert not await service.verify(captcha_id, ANSWER)

    async def test_racing_verifications_pass_exactly_once(
        self, captchas: KnownAnswerCaptcha
    ) -> None:
        captcha_id, _ = await captchas.issue()
        results = await asyncio.gather(*(captchas.verify(captcha_id, ANSWER) for _ in range(20)))
        assert results.count(True) == 1


class TestVerifyOrRaise:
    async def test_missing_captcha_is_required(self, captchas: KnownAnswerCaptcha) -> None:
        with pytest.raises(CaptchaRequired) as caught:
            await captchas.verify_or_raise(None, None)
        assert (caught.value.code, caught.value.status, caught.value.field) == (
            "captcha_required",
            403,
            "captcha",
        )

    async def test_wrong_answer_is_invalid(self, captchas: KnownAnswerCaptcha) -> None:
        captcha_id, _ = await captchas.issue()
        with pytest.raises(CaptchaInvalid) as caught:
            await captchas.verify_or_raise(captcha_id, "AAAAA")
        assert (caught.value.code, caught.value.status, caught.value.field) == (
            "captcha_invalid",
            400,
            "captcha",
        )

    async def test_right_answer_passes(self, captchas: KnownAnswerCaptcha) -> None:
        captcha_id, _ = await captchas.issue()
        await captchas.verify_or_raise(captcha_id, ANSWER.lower())
