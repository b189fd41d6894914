"""The pull feed: events in the order the relay publishes them, for services without a broker,
with a long poll; and the staff's view of the relay and of the events."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from usercenter.db import Database
from usercenter.events import repository
from usercenter.events.errors import EventCursorExpired, UnknownEventType
from usercenter.events.service.publisher import envelope
from usercenter.events.service.relay import Relay
from usercenter.kit import clock
from usercenter.kit.events import event_types

# Without a local signal (the relay runs in another process), a long poll looks this often.
POLL_SECONDS = 0.25


@dataclass(frozen=True, slots=True)
class FeedPage:
    items: list[dict[str, Any]]
    next_cursor: int
    has_more: bool


class Feed:
    def __init__(self, database: Database, relay: Relay, *, source: str) -> None:
        self.database = database
        self.relay = relay
        self.source = source

    async def read(self, *, after: int, types: Sequence[str], limit: int, wait: float) -> FeedPage:
        """Events after position `after` (0: from the oldest kept), of `types` if any; with
        `wait`, hold the request until one comes or the time is up."""
        known = event_types()
        for name in types:
            if name not in known:
                raise UnknownEventType(event_type=name)
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            page = await self._page(after, types, limit)
            remaining = deadline - asyncio.get_running_loop().time()
            if page.items or remaining <= 0:
                return page
            after = page.next_cursor  # what was skipped by the type filter stays skipped
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.relay.sequenced.wait(), min(POLL_SECONDS, remaining))

    async def _page(self, after: int, types: Sequence[str], limit: int) -> FeedPage:
        async with self.database.read_session() as session:
            connection = await session.connection()
            marks = await repository.relay_marks(connection)
            if 0 < after < marks.trimmed_through:
                raise EventCursorExpired(after=after, oldest=marks.trimmed_through)
            # Every position up to the mark has committed: read no further than it.
            rows = await repository.events_between(
                connection, after, marks.sequenced_through, limit + 1, types
            )
        more = len(rows) > limit
        rows = rows[:limit]
        # An empty page has read everything up to the mark: the next read starts there.
        cursor = rows[-1].position if rows else max(after, marks.sequenced_through)
        return FeedPage([envelope(r, self.source) for r in rows], cursor, more)

    async def browse(
        self, *, type_: str | None, subject: str | None, before_id: int | None, limit: int
    ) -> tuple[list[Any], int]:
        """Events newest first for the console, and the published mark to tell which went."""
        async with self.database.read_session() as session:
            connection = await session.connection()
            marks = await repository.relay_marks(connection)
            rows = await repository.browse(
                connection, type_=type_, subject=subject, before_id=before_id, limit=limit
            )
        return rows, marks.published_through

    async def status(self) -> dict[str, Any]:
        """The relay as the console shows it: holder, marks, backlog, oldest wait, errors."""
        async with self.database.read_session() as session:
            connection = await session.connection()
            marks = await repository.relay_marks(connection)
            backlog, oldest = await repository.backlog(connection, marks.published_through)
        now = clock.now()
        active = marks.holder is not None and (
            marks.lease_until is not None and marks.lease_until >= now
        )
        return {
            "holder": marks.holder if active else None,
            "lease_until": marks.lease_until if active else None,
            "heartbeat_at": marks.heartbeat_at,
            "epoch": marks.epoch,
            "broker": self.relay.publisher is not None,
            "sequenced_through": marks.sequenced_through,
            "published_through": marks.published_through,
            "trimmed_through": marks.trimmed_through,
            "backlog": backlog,
            "oldest_unpublished_age_seconds": (now - oldest).total_seconds() if oldest else None,
            "errors": marks.errors,
        }
