"""The service's one source of the current time (UTC), replaceable in tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone


def _system_now() -> datetime:
    return datetime.now(UTC)


_now: Callable[[], datetime] = _system_now

# China's time (Asia/Shanghai: UTC+8, no daylight saving since 1991), for the day boundaries of
# daily limits and for times shown to users; a fixed offset needs no time-zone database.
CHINA_TIME = timezone(timedelta(hours=8), "CST")


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return _now()


def set_clock(clock: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests); None puts the system clock back."""
    global _now
    _now = clock or _system_now
