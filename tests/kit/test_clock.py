"""The service's clocks, and what reads them: a test moves them instead of sleeping."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from tests.conftest import MovableClock
from usercenter.kit import clock
from usercenter.kit.cache import LocalMemo


class TestClock:
    def test_both_readings_can_be_replaced_and_put_back(self) -> None:
        clock.set_clock(lambda: datetime(2026, 1, 1, tzinfo=UTC))
        clock.set_monotonic(lambda: 42.0)
        try:
            assert clock.now() == datetime(2026, 1, 1, tzinfo=UTC)
            assert clock.monotonic() == 42.0
        finally:
            clock.set_clock(None)
            clock.set_monotonic(None)
        assert clock.now().year >= 2026
        assert abs(clock.monotonic() - time.monotonic()) < 1.0

    def test_moving_the_clock_moves_both_readings(self, moved_clock: MovableClock) -> None:
        wall, steady = clock.now(), clock.monotonic()
        moved_clock.advance(3600)
        assert (clock.now() - wall).total_seconds() >= 3600
        assert clock.monotonic() - steady >= 3600


class TestLocalMemo:
    def test_an_entry_lives_its_ttl_on_the_clock(self, moved_clock: MovableClock) -> None:
        memo = LocalMemo(ttl=2.0)
        memo.put("view:1", "alice")
        moved_clock.advance(1.0)
        assert memo.get("view:1") == "alice"
        moved_clock.advance(1.0)
        assert memo.get("view:1") is None
