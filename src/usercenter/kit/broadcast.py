"""Telling every process of the service that something changed, through Redis pub/sub.

A message is a hint, not a record: it may be lost (Redis restarting, a process reconnecting),
so a receiver keeps its own fallback (a version it polls) and treats a (re)subscription as
"something may have changed while I was away".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from redis.asyncio import Redis

from usercenter.kit.log import get_logger

log = get_logger("usercenter.broadcast")

RECONNECT_SECONDS = 1.0
CLOSE_SECONDS = 1.0


class Broadcast:
    def __init__(self, url: str, channel: str) -> None:
        self.channel = channel
        # A connection of its own: a subscription holds one for as long as it lives, and an
        # idle one must not time out.
        self._redis: Redis = Redis.from_url(
            url, decode_responses=True, socket_connect_timeout=3, health_check_interval=30
        )
        self._listener: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()

    async def publish(self, message: str) -> None:
        try:
            await self._redis.publish(self.channel, message)
        except Exception as exc:  # receivers fall back on their poll
            log.warning("broadcast_publish_failed", channel=self.channel, error=str(exc))

    def publish_soon(self, message: str) -> None:
        """Publish from code that cannot await (a commit hook)."""
        task = asyncio.get_running_loop().create_task(self.publish(message))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    def listen(self, receive: Callable[[str | None], None]) -> None:
        """Call `receive(message)` for each message, and `receive(None)` on every
        (re)subscription, in a task of the running loop until `close()`."""
        if self._listener is None:
            self._listener = asyncio.get_running_loop().create_task(self._listen(receive))

    async def _listen(self, receive: Callable[[str | None], None]) -> None:
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    async for message in pubsub.listen():
                        if message["type"] == "subscribe":
                            receive(None)
                        elif message["type"] == "message":
                            receive(str(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("broadcast_listen_failed", channel=self.channel, error=str(exc))
            await asyncio.sleep(RECONNECT_SECONDS)

    async def close(self) -> None:
        """Stop listening and let pending messages go, waiting a bounded time for either."""
        pending: list[asyncio.Task[None]] = [*self._sending]
        if self._listener is not None:
            self._listener.cancel()
            pending.append(self._listener)
            self._listener = None
        if pending:
            await asyncio.wait(pending, timeout=CLOSE_SECONDS)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._redis.aclose(), CLOSE_SECONDS)
