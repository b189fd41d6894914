"""Password hashing (argon2id) and the password policy (NIST SP 800-63B).

Passwords are NFKC-normalised before they are checked or hashed, so the same password typed
with a full-width IME or a different composition of an accented letter still matches.
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
import unicodedata
from collections.abc import Sequence

import argon2
from argon2.exceptions import VerificationError
from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

from usercenter.config import Settings
from usercenter.security.errors import PasswordTooWeak

MAX_PASSWORD_LENGTH = 128


def _normalize(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


class PasswordHasher:
    """argon2id with OWASP's parameters by default (m=19 MiB, t=2, p=1).

    Hashing takes tens of milliseconds of CPU: in async code use the `*_async` methods, which
    run it in a worker thread.
    """

    def __init__(
        self,
        memory_kib: int = 19_456,
        time_cost: int = 2,
        parallelism: int = 1,
        *,
        concurrency: int | None = None,
    ) -> None:
        # Hashes running at once in this process: more than the cores only adds switching.
        self._slots = asyncio.Semaphore(concurrency or os.cpu_count() or 1)
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )
        # Verified against for unknown accounts, so they cost as much as known ones.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    @classmethod
    def from_settings(cls, settings: Settings) -> PasswordHasher:
        return cls(
            memory_kib=settings.password_memory_kib,
            time_cost=settings.password_time_cost,
            parallelism=settings.password_parallelism,
            concurrency=settings.password_hash_concurrency,
        )

    def hash(self, password: str) -> str:
        return self._hasher.hash(_normalize(password))

    def verify(self, password_hash: str, password: str) -> bool:
        """True when `password` matches; False on a mismatch or an unreadable hash."""
        try:
            return self._hasher.verify(password_hash, _normalize(password))
        except (VerificationError, ValueError):  # InvalidHashError is a ValueError
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters (or another algorithm)."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except ValueError:
            return True

    def dummy_verify(self, password: str) -> None:
        """Spend the time of one verification; for a login naming no known account."""
        self.verify(self._dummy_hash, password)

    async def hash_async(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self.hash, password)

    async def verify_async(self, password_hash: str, password: str) -> bool:
        async with self._slots:
            return await asyncio.to_thread(self.verify, password_hash, password)

    async def dummy_verify_async(self, password: str) -> None:
        async with self._slots:
            await asyncio.to_thread(self.dummy_verify, password)


@functools.cache
def _common_passwords() -> frozenset[str]:
    """zxcvbn's 30,000 most common passwords, lower-cased (loaded on first use)."""
    words: list[str] = FREQUENCY_LISTS["passwords"]
    return frozenset(word.casefold() for word in words)


class PasswordPolicy:
    """Length limits, a common-password blocklist, and no reuse of the account's own name.

    No composition rules (upper case, digits, symbols): NIST SP 800-63B advises against them.
    """

    def __init__(self, min_length: int = 8, max_length: int = MAX_PASSWORD_LENGTH) -> None:
        if not 1 <= min_length <= max_length:
            raise ValueError("need 1 <= min_length <= max_length")
        self.min_length = min_length
        self.max_length = max_length

    @classmethod
    def from_settings(cls, settings: Settings) -> PasswordPolicy:
        return cls(min_length=settings.password_min_length)

    def check(self, password: str, *, context_words: Sequence[str] = ()) -> None:
        """Raise PasswordTooWeak (with the reason) unless `password` is acceptable.

        `context_words` are the account's own identifiers (username, phone, e-mail).
        """
        normalized = _normalize(password)
        length = len(normalized)  # characters (code points), not bytes
        if length < self.min_length:
            raise PasswordTooWeak("too_short", min_length=self.min_length)
        if length > self.max_length:
            raise PasswordTooWeak("too_long", max_length=self.max_length)
        folded = normalized.casefold()
        if folded in _common_passwords():
            raise PasswordTooWeak("too_common")
        for word in context_words:
            if word.strip() and folded == _normalize(word.strip()).casefold():
                raise PasswordTooWeak("same_as_account")
