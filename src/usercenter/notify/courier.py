"""Delivering one-time codes after the answer, off the request path.

A request that sends a code answers as soon as the code is stored; the message itself goes
out in a task of the process. So an answer takes the same time whether a message is sent (a
registered phone asking for a reset code) or not (an unregistered one), and a slow vendor
does not hold the request.

The price: a vendor's refusal (its own rate limit, a number it cannot reach, an outage) can no
longer be told to that caller. It is logged (`code_delivery_failed`, with the vendor's code)
and counted (`usercenter_code_deliveries_total{result="failed"}`), and the send's daily counts
are given back; the caller sees no code arrive and may ask again after the resend interval.
A delivery still running when the process stops is awaited for a few seconds, then dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from usercenter.kit.log import get_logger
from usercenter.notify.errors import NotifyError

log = get_logger("usercenter.notify")

# Messages in flight at once per process; more wait their turn (in memory).
DEFAULT_CONCURRENCY = 32
CLOSE_SECONDS = 5.0

Delivered = Callable[[str, str], None]  # (channel, "sent" | "failed")


class Courier:
    """Runs deliveries in tasks of the running loop, `concurrency` at a time."""

    def __init__(
        self, *, concurrency: int = DEFAULT_CONCURRENCY, on_result: Delivered | None = None
    ) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._pending: set[asyncio.Task[None]] = set()
        self._on_result = on_result

    def submit(
        self,
        channel: str,
        purpose: str,
        send: Callable[[], Awaitable[object]],
        *,
        on_failure: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Deliver in the background: `send()`, and on its failure `on_failure()`."""
        task = asyncio.get_running_loop().create_task(
            self._deliver(channel, purpose, send, on_failure)
        )
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _deliver(
        self,
        channel: str,
        purpose: str,
        send: Callable[[], Awaitable[object]],
        on_failure: Callable[[], Awaitable[None]] | None,
    ) -> None:
        async with self._slots:
            try:
                await send()
            except Exception as exc:
                if isinstance(exc, NotifyError):
                    log.warning(
                        "code_delivery_failed",
                        channel=channel,
                        purpose=purpose,
                        error=exc.code,
                        provider=exc.provider,
                        vendor_code=exc.vendor_code,
                    )
                else:
                    log.exception("code_delivery_failed", channel=channel, purpose=purpose)
                self._count(channel, "failed")
                if on_failure is not None:
                    try:
                        await on_failure()
                    except Exception:
                        log.exception("code_delivery_give_back_failed", channel=channel)
                return
        self._count(channel, "sent")

    def _count(self, channel: str, result: str) -> None:
        if self._on_result is not None:
            self._on_result(channel, result)

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def drain(self) -> None:
        """Wait until every delivery submitted so far (and any they submit) has finished."""
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def close(self) -> None:
        """Let deliveries in flight finish for up to CLOSE_SECONDS, then cancel them."""
        if not self._pending:
            return
        _, pending = await asyncio.wait(self._pending, timeout=CLOSE_SECONDS)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("code_deliveries_dropped", count=len(pending))
