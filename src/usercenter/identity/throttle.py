"""Brute-force protection for password logins (seed 000 `login:fail:count:{uid}`, 1 hour).

Every attempt is counted *before* the password is checked, with one atomic increment, so 20
parallel guesses cannot all slip in before the first failure is recorded: only the first
`max_failures` of a window are checked at all. The `max_failures`-th failure locks the password
method for `lock_seconds`. A success clears the count. The subject is the login as normalised
(E.164 phone, lowercased e-mail or username) whether or not an account has it, so a registered
and an unregistered login answer alike, in any spelling. The counts live in the counter store,
which traffic cannot evict. SMS-code login never looks at it: an attacker cannot lock the owner
out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from usercenter.kit import clock
from usercenter.kit.cache import Counters


class Locked(Exception):
    def __init__(self, until: datetime) -> None:
        super().__init__(until.isoformat())
        self.until = until


@dataclass(frozen=True, slots=True)
class Gate:
    captcha_needed: bool
    locked_until: datetime | None


class LoginThrottle:
    def __init__(
        self,
        counters: Counters,
        *,
        max_failures: int,
        window_seconds: int,
        lock_seconds: int,
        captcha_after_address_failures: int,
    ) -> None:
        self.counters = counters
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self.lock_seconds = lock_seconds
        self.captcha_after_address_failures = captcha_after_address_failures

    async def gate(self, subject: str, address: str | None) -> Gate:
        """Whether the address must solve a captcha and whether the subject is locked, in one
        round trip; then `begin_attempt`."""
        failures, until = await self.counters.get_many(
            f"login:fail:addr:{address}", f"login:lock:{subject}"
        )
        locked_until = datetime.fromisoformat(until) if until is not None else None
        return Gate(
            captcha_needed=bool(address)
            and int(failures or 0) >= self.captcha_after_address_failures,
            locked_until=locked_until if locked_until and locked_until > clock.now() else None,
        )

    async def begin_attempt(self, subject: str, gate: Gate) -> None:
        """Count an attempt; Locked when the gate found the subject locked or it is over its
        budget."""
        if gate.locked_until is not None:
            raise Locked(gate.locked_until)
        attempts = await self.counters.incr(f"login:fail:count:{subject}", ttl=self.window_seconds)
        if attempts > self.max_failures:
            raise Locked(clock.now() + timedelta(seconds=self.lock_seconds))

    async def failed(self, subject: str, address: str | None) -> datetime | None:
        """Record a wrong password; returns the unlock time when this failure locked it."""
        if address:
            await self.counters.incr(f"login:fail:addr:{address}", ttl=self.window_seconds)
        attempts = int(await self.counters.get(f"login:fail:count:{subject}") or 0)
        if attempts < self.max_failures:
            return None
        until = clock.now() + timedelta(seconds=self.lock_seconds)
        await self.counters.set(f"login:lock:{subject}", until.isoformat(), ttl=self.lock_seconds)
        await self.counters.delete(f"login:fail:count:{subject}")
        return until

    async def succeeded(self, subject: str) -> None:
        await self.counters.delete(f"login:fail:count:{subject}")

    async def unlock(self, subject: str) -> None:
        """Clear a lock (after the owner proved themselves another way, e.g. a password reset)."""
        await self.counters.delete(f"login:lock:{subject}")
        await self.counters.delete(f"login:fail:count:{subject}")
