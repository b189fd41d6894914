"""What a change calls to record its events, in the transaction that makes the change."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from usercenter.events import repository
from usercenter.kit import clock
from usercenter.kit.events import Event

_LISTENING = "usercenter_events_listening"


class Outbox:
    """Writes events with the change that causes them, and tells this process's relay when
    some have committed (it also polls, for the events other processes write).

    `enabled=False` (USERCENTER_EVENTS_ENABLED=false) writes nothing: for a deployment that
    wants no events, and for the benchmark's baseline."""

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.committed = asyncio.Event()

    async def add(self, session: AsyncSession, *events: Event) -> None:
        """Record `events` in the session's unit of work: they commit with it, or not at all."""
        if not self.enabled or not events:
            return
        await repository.append(await session.connection(), events, clock.now())
        if not session.info.get(_LISTENING):
            session.info[_LISTENING] = True
            orm_event.listen(session.sync_session, "after_commit", self._on_commit, once=True)

    async def append(self, connection: AsyncConnection, events: Sequence[Event]) -> None:
        """Record `events` in a transaction on a bare connection (a ledger batch); its owner
        calls `notify` once it has committed."""
        if self.enabled and events:
            await repository.append(connection, events, clock.now())

    def notify(self) -> None:
        self.committed.set()

    def _on_commit(self, session: Any) -> None:
        session.info.pop(_LISTENING, None)
        self.committed.set()
