"""The service's one source of time, replaceable in tests: `now()` (UTC, for what is stored and
shown) and `monotonic()` (seconds that never go back, for expiry and intervals in memory)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone


def _system_now() -> datetime:
    return datetime.now(UTC)


_now: Callable[[], datetime] = _system_now
_monotonic: Callable[[], float] = time.monotonic

# China's time (Asia/Shanghai: UTC+8, no daylight saving since 1991), for the day boundaries of
# daily limits and for times shown to users; a fixed offset needs no time-zone database.
CHINA_TIME = timezone(timedelta(hours=8), "CST")


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return _now()


def monotonic() -> float:
    """Seconds from an arbitrary start that never go back: for in-memory expiry and intervals
    (never stored, never compared across processes)."""
    return _monotonic()


def set_clock(clock: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests); None puts the system clock back."""
    global _now
    _now = clock or _system_now


def set_monotonic(clock: Callable[[], float] | None) -> None:
    """Replace the monotonic clock (tests), as `set_clock` does `now()`; None puts the
    system's back."""
    global _monotonic
    _monotonic = clock or time.monotonic
