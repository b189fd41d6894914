"""One-time codes sent by SMS or e-mail (seed 000 `captcha:sms:{phone}`, 5 minutes).

A code is 6 digits from `secrets`, kept only as an HMAC in the counter store (nothing evicts it,
nor its count of tries), single-use, and dies after a few wrong tries. Sending is limited by
atomic counters: a resend interval per target (across purposes), a daily cap per target and per
client address, and past an address threshold an image captcha.
"""

from __future__ import annotations

import hmac
import json
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from usercenter.kit import clock
from usercenter.kit.cache import Counters
from usercenter.security.crypto import BlindIndex

CHINA_TIME = clock.CHINA_TIME


@dataclass(frozen=True, slots=True)
class SendLimits:
    resend_interval_seconds: int
    daily_per_target: int
    daily_per_address: int
    captcha_after_per_address: int


@dataclass(frozen=True, slots=True)
class SendPermit:
    """Counters taken for one send; the daily ones are given back when delivery fails."""

    keys: tuple[str, ...]


class LimitReached(Exception):
    """A send limit was reached; `retry_after` seconds until it may succeed (None: tomorrow)."""

    def __init__(self, reason: str, retry_after: int | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def _seconds_to_midnight_china(now: datetime) -> int:
    local = now.astimezone(CHINA_TIME)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - local).total_seconds()))


class VerificationCodes:
    """Issue, limit and check one-time codes for a channel (`sms`, `email`)."""

    def __init__(
        self,
        counters: Counters,
        blind_index: BlindIndex,
        *,
        channel: str,
        ttl_seconds: int,
        max_attempts: int,
        limits: SendLimits,
    ) -> None:
        self.counters = counters
        self.blind_index = blind_index
        self.channel = channel
        self.ttl_seconds = ttl_seconds
        self.max_attempts = max_attempts
        self.limits = limits

    def _target(self, target: str) -> str:
        return self.blind_index.compute(target, context=f"code.{self.channel}")[:32]

    def _code_key(self, purpose: str, target: str) -> str:
        return f"captcha:{self.channel}:{purpose}:{self._target(target)}"

    async def captcha_needed(self, address: str | None) -> bool:
        """Whether a send from this address must first pass an image captcha."""
        if address is None:
            return False
        day = clock.now().astimezone(CHINA_TIME).strftime("%Y%m%d")
        sent = await self.counters.get(f"{self.channel}:daily:addr:{address}:{day}")
        return int(sent or 0) >= self.limits.captcha_after_per_address

    async def take_send_permit(self, target: str, address: str | None) -> SendPermit:
        """Count one send against every limit; LimitReached when one is full.

        The resend interval is one atomic claim per target (whatever the purpose), held until
        it ends: a send it refuses touches no other counter and cannot release it. The daily
        counts follow; when one is full, the counts taken so far are given back and the send
        releases its own claim, so a refused send leaves nothing behind."""
        now = clock.now()
        day = now.astimezone(CHINA_TIME).strftime("%Y%m%d")
        until_midnight = _seconds_to_midnight_china(now)
        target_id = self._target(target)
        interval = self.limits.resend_interval_seconds
        cooldown = f"{self.channel}:cooldown:{target_id}"
        claimed_until = now.timestamp() + interval
        if interval > 0:
            held = await self.counters.claim(
                cooldown, until=claimed_until, now=now.timestamp(), ttl=interval
            )
            if held is not None:
                raise LimitReached("resend_interval", max(1, math.ceil(held - now.timestamp())))
        checks = [
            (f"{self.channel}:daily:target:{target_id}:{day}", self.limits.daily_per_target),
        ]
        if address:
            checks.append(
                (f"{self.channel}:daily:addr:{address}:{day}", self.limits.daily_per_address)
            )
        taken: list[str] = []
        for key, limit in checks:
            count = await self.counters.incr(key, ttl=until_midnight)
            taken.append(key)
            if count > limit:
                await self.give_back(SendPermit(tuple(taken)))
                if interval > 0:
                    await self.counters.release(cooldown, until=claimed_until)
                reason = "daily_limit" if len(taken) == 1 else "address_daily_limit"
                raise LimitReached(reason, until_midnight)
        return SendPermit(tuple(taken))

    async def give_back(self, permit: SendPermit) -> None:
        """Undo a permit's daily counts: the message was not sent. The resend interval stays
        claimed (it is what stops a burst of sends)."""
        # A count that expired meanwhile comes back as -1 for a day nobody asks about again:
        # with an expiry, so it does not stay forever.
        until_midnight = _seconds_to_midnight_china(clock.now())
        for key in permit.keys:
            await self.counters.incr(key, amount=-1, ttl=until_midnight)

    def new_code(self) -> str:
        return f"{secrets.randbelow(1_000_000):06d}"

    def _mac(self, target: str, purpose: str, nonce: str, code: str) -> str:
        return self.blind_index.compute(f"{nonce}:{code}", context=f"code.{purpose}.{target}")

    async def store(self, target: str, purpose: str, code: str) -> None:
        """Keep (a MAC of) the code; a new code replaces the previous one and its tries."""
        nonce = secrets.token_hex(8)
        key = self._code_key(purpose, target)
        record = {"n": nonce, "m": self._mac(target, purpose, nonce, code)}
        await self.counters.delete(f"{key}:tries")
        await self.counters.set(key, json.dumps(record), ttl=self.ttl_seconds)

    async def verify(self, target: str, purpose: str, code: str) -> bool:
        """True once for the right code within its lifetime and try budget; False otherwise."""
        key = self._code_key(purpose, target)
        raw = await self.counters.get(key)
        if raw is None or not code.isdigit() or len(code) != 6:
            if raw is not None:
                await self._count_try(key)
            return False
        tries = await self._count_try(key)
        if tries > self.max_attempts:
            await self.counters.delete(key)
            return False
        record = json.loads(raw)
        expected = self._mac(target, purpose, record["n"], code)
        if not hmac.compare_digest(expected, record["m"]):
            return False
        # Single use, even when two requests bring the right code at once.
        if await self.counters.incr(f"{key}:used:{record['n']}", ttl=self.ttl_seconds) != 1:
            return False
        await self.counters.delete(key)
        return True

    async def _count_try(self, key: str) -> int:
        return await self.counters.incr(f"{key}:tries", ttl=self.ttl_seconds)
