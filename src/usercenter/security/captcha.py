"""Image captchas, demanded when an address looks abusive (seed 000: `captcha:img:{id}`).

The cache keeps only a hash of the answer, for `ttl_seconds`. A captcha is single-use: the
first verification claims it with an atomic counter, right or wrong, so neither a retry nor
two racing requests can pass twice on one image.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import threading

from captcha.image import ImageCaptcha

from usercenter.kit.cache import Cache
from usercenter.security.crypto import hash_secret, secrets_equal
from usercenter.security.errors import CaptchaInvalid, CaptchaRequired

# No 0/O, 1/I/L: letters a person cannot tell apart in a distorted image.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_CAPTCHA_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _answer_hash(captcha_id: str, answer: str) -> str:
    # The id salts the hash, so one table of the ~28 million answers does not open them all.
    return hash_secret(f"{captcha_id}:{answer.strip().upper()}")


class CaptchaService:
    def __init__(
        self,
        cache: Cache,
        *,
        counters: Cache | None = None,
        ttl_seconds: float = 300,
        length: int = 5,
    ) -> None:
        """Images (answer hashes) go to `cache`; the used markers to `counters`, which traffic
        cannot evict (the cache itself when none is given)."""
        if length < 4:
            raise ValueError("a captcha needs at least 4 characters")
        self._cache = cache
        self._counters = counters if counters is not None else cache
        self._ttl = ttl_seconds
        self._length = length
        self._image = ImageCaptcha(width=max(160, 32 * length), height=60)
        # PIL fonts are shared by the instance; render one image at a time.
        self._image_lock = threading.Lock()

    @property
    def ttl_seconds(self) -> int:
        return int(self._ttl)

    @staticmethod
    def _image_key(captcha_id: str) -> str:
        return f"captcha:img:{captcha_id}"

    @staticmethod
    def _used_key(captcha_id: str) -> str:
        return f"captcha:used:{captcha_id}"

    def new_answer(self) -> str:
        """A random answer from the unambiguous alphabet."""
        return "".join(secrets.choice(ALPHABET) for _ in range(self._length))

    def _render(self, answer: str) -> bytes:
        with self._image_lock:
            return self._image.generate(answer, format="png").getvalue()

    async def issue(self) -> tuple[str, bytes]:
        """A new captcha: its id and the PNG image to show."""
        captcha_id = secrets.token_urlsafe(16)
        answer = self.new_answer()
        png = await asyncio.to_thread(self._render, answer)
        await self._cache.set(
            self._image_key(captcha_id), _answer_hash(captcha_id, answer), ttl=self._ttl
        )
        return captcha_id, png

    async def verify(self, captcha_id: str, answer: str) -> bool:
        """True once for the right answer (any case); False if wrong, expired, used or unknown.

        Every verification of a live captcha uses it up, whatever the answer.
        """
        if not _CAPTCHA_ID.fullmatch(captcha_id) or not answer.strip():
            return False
        stored = await self._cache.get(self._image_key(captcha_id))
        if stored is None:
            return False
        # The counter is the atomic claim: of racing verifications only one sees 1.
        if await self._counters.incr(self._used_key(captcha_id), ttl=self._ttl) != 1:
            return False
        await self._cache.delete(self._image_key(captcha_id))
        return secrets_equal(stored, _answer_hash(captcha_id, answer))

    async def verify_or_raise(self, captcha_id: str | None, answer: str | None) -> None:
        """Raise CaptchaRequired when no captcha was sent, CaptchaInvalid when it fails."""
        if not captcha_id or not answer:
            raise CaptchaRequired()
        if not await self.verify(captcha_id, answer):
            raise CaptchaInvalid()
