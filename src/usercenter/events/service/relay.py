"""The relay: one process at a time (a lease row, taken over when its holder stops renewing
it) gives committed events their feed positions and publishes them to the broker.

Order. A subject's events are written under its counter's lock (`repository.append`), so
their row ids follow commit order: a later event of the subject is inserted only after the
earlier one committed. The relay gives positions to committed rows in id order, so a
subject's positions follow its sequence; it publishes in position order on one channel and
moves `published_through` only past the prefix the broker confirmed, so a failure republishes
from the first unconfirmed event on — at least once, never out of order.

Fencing. Each step runs in a transaction that first locks the state row and checks that the
lease is still this holder's at its epoch. A holder that stalled past its lease (and was
replaced) finds out there and stops; at worst it has published a batch the new holder
publishes again — consumers dedupe by the event id.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from usercenter.db import Database
from usercenter.events import repository
from usercenter.events.service.outbox import Outbox
from usercenter.events.service.publisher import AmqpPublisher, envelope
from usercenter.kit import clock
from usercenter.kit.log import get_logger

log = get_logger(__name__)
T = TypeVar("T")

MAX_ERRORS_KEPT = 10
# The longest pause between two tries of an unreachable broker.
MAX_BACKOFF = 15.0
MEASURE_SECONDS = 1.0


class LeaseLost(Exception):
    """Another process holds the relay's lease now."""


@dataclass(frozen=True, slots=True)
class RelayOptions:
    source: str
    lease_seconds: float = 5.0
    poll_seconds: float = 0.2
    batch: int = 500
    retention: timedelta = timedelta(days=7)
    retention_sweep_seconds: float = 300.0
    trim_batch: int = 500


@dataclass(slots=True)
class RelayCounts:
    """What this process's relay did: the metrics read it."""

    published: int = 0
    failures: int = 0
    active: bool = False
    backlog: int = 0
    oldest_age_seconds: float = 0.0


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Relay:
    def __init__(
        self,
        database: Database,
        outbox: Outbox,
        options: RelayOptions,
        publisher: AmqpPublisher | None = None,
        *,
        holder: str | None = None,
    ) -> None:
        self.database = database
        self.outbox = outbox
        self.options = options
        self.publisher = publisher
        self.holder = holder or holder_name()
        self.counts = RelayCounts()
        # Set whenever this process gives new positions: the feed's long polls wake on it.
        self.sequenced = asyncio.Event()
        self._epoch: int | None = None
        self._lease_renewed_at = 0.0
        self._last_trim = 0.0
        self._last_measure = 0.0
        self._publish_after = 0.0
        self._publish_backoff = 0.0
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    # --- running --------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self.run(), name="events-relay")

    async def close(self) -> None:
        """Stop the loop and hand the lease back, so another process takes over at once."""
        self._stopping.set()
        self.outbox.notify()
        if self._task is not None:
            task, self._task = self._task, None
            try:
                await asyncio.wait_for(task, 10)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
        if self._epoch is not None:
            try:
                async with self.database.transaction() as connection:
                    await repository.release_lease(connection, self.holder, self._epoch)
            except Exception as exc:  # closing: the lease simply expires
                log.warning("events_relay_release_failed", error=str(exc))
            self._epoch = None
            self.counts.active = False
        if self.publisher is not None:
            await self.publisher.close()

    async def run(self) -> None:
        backoff = 0.0
        while not self._stopping.is_set():
            try:
                if not await self.hold_lease():
                    await self._pause(self.options.lease_seconds / 3)
                    continue
                worked = await self.step()
                backoff = 0.0
                if not worked:
                    await self._pause(self.options.poll_seconds, wake_on_commit=True)
            except LeaseLost:
                log.info("events_relay_lease_lost", holder=self.holder)
                self._epoch = None
                self.counts.active = False
            except Exception as exc:  # the database: nothing to do until it is back
                backoff = min(max(0.5, backoff * 2), self.options.lease_seconds)
                await self._failed(exc, backoff)
                await self._pause(backoff)

    async def _failed(self, exc: BaseException, retry_in: float) -> None:
        self.counts.failures += 1
        log.warning("events_relay_failed", error=f"{type(exc).__name__}: {exc}", retry_in=retry_in)
        await self._record_error(exc)

    async def _pause(self, seconds: float, *, wake_on_commit: bool = False) -> None:
        waits = [asyncio.create_task(self._stopping.wait())]
        if wake_on_commit:
            waits.append(asyncio.create_task(self.outbox.committed.wait()))
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
        self.outbox.committed.clear()

    # --- the lease -----------------------------------------------------------------------

    async def hold_lease(self) -> bool:
        """Take the lease when free, renew it when a third of it has passed; whether this
        process holds it now."""
        loop_now = asyncio.get_running_loop().time()
        if self._epoch is not None and loop_now - self._lease_renewed_at < (
            self.options.lease_seconds / 3
        ):
            return True
        now = clock.now()
        until = now + timedelta(seconds=self.options.lease_seconds)
        async with self.database.transaction() as connection:
            await repository.ensure_relay_row(connection)
            if self._epoch is not None:
                renewed = await repository.move_marks(
                    connection, self.holder, self._epoch, lease_until=until, heartbeat_at=now
                )
                if not renewed:
                    raise LeaseLost()
            else:
                self._epoch = await repository.take_lease(connection, self.holder, now, until)
                if self._epoch is not None:
                    log.info("events_relay_active", holder=self.holder, epoch=self._epoch)
        self._lease_renewed_at = loop_now
        newly = self._epoch is not None and not self.counts.active
        self.counts.active = self._epoch is not None
        if newly and self.publisher is not None:
            # Declared at once, so consumers can bind before the first event goes out.
            await self._publishing(self.publisher.declare)
        return self.counts.active

    # --- one step -------------------------------------------------------------------------

    async def step(self) -> bool:
        """Sequence what committed, publish what is sequenced, trim what is old: whether there
        was anything to do. Sequencing the next batch overlaps publishing this one (positions
        already committed): neither waits for the other's round trips or the broker's confirms;
        both run to the end before a failure is raised."""
        loop_now = asyncio.get_running_loop().time()
        if loop_now >= self._publish_after:
            await self.hold_lease()  # renewed if due: a slow publish must not outlive it
            sequenced, published = await asyncio.gather(
                self._sequence(), self._publishing(self._publish), return_exceptions=True
            )
        else:
            sequenced, published = await self._sequence(), 0
        if isinstance(sequenced, BaseException):
            raise sequenced
        if isinstance(published, BaseException):
            raise published
        published = published or 0
        await self._trim_if_due()
        loop_now = asyncio.get_running_loop().time()
        if loop_now - self._last_measure >= MEASURE_SECONDS:
            self._last_measure = loop_now
            await self.measure()
        return sequenced > 0 or published > 0

    async def _publishing(self, call: Callable[[], Awaitable[T]]) -> T | None:
        """Run a call to the broker. Its failure backs publishing off, not the rest: the lease
        is renewed and the feed sequenced meanwhile."""
        try:
            answer = await call()
        except LeaseLost:
            raise
        except Exception as exc:
            self._publish_backoff = min(max(0.5, self._publish_backoff * 2), MAX_BACKOFF)
            loop_now = asyncio.get_running_loop().time()
            self._publish_after = loop_now + self._publish_backoff
            await self._failed(exc, self._publish_backoff)
            return None
        self._publish_backoff = 0.0
        return answer

    def _fenced(self) -> int:
        if self._epoch is None:
            raise LeaseLost()
        return self._epoch

    async def _sequence(self) -> int:
        epoch = self._fenced()
        # A look first, without the write lock (on SQLite, a write transaction takes the
        # whole database): an idle relay writes nothing.
        async with self.database.read_session() as session:
            if not await repository.unsequenced_rows(await session.connection(), 1):
                return 0
        async with self.database.transaction() as connection:
            marks = await repository.relay_marks(connection, lock=True)
            if marks.holder != self.holder or marks.epoch != epoch:
                raise LeaseLost()
            ids = await repository.unsequenced_rows(connection, self.options.batch)
            if not ids:
                return 0
            first = marks.sequenced_through + 1
            await repository.set_positions(connection, ids, first)
            through = marks.sequenced_through + len(ids)
            values = {"sequenced_through": through}
            if self.publisher is None:
                values["published_through"] = through  # the feed is the delivery
            await repository.move_marks(connection, self.holder, epoch, **values)
        if self.publisher is None:
            self.counts.published += len(ids)
        self.sequenced.set()
        self.sequenced.clear()
        return len(ids)

    async def _publish(self) -> int:
        if self.publisher is None:
            return 0
        epoch = self._fenced()
        async with self.database.read_session() as session:
            connection = await session.connection()
            marks = await repository.relay_marks(connection)
            rows = await repository.events_between(
                connection, marks.published_through, marks.sequenced_through, self.options.batch
            )
        if not rows:
            return 0
        confirmed = await self.publisher.publish([envelope(r, self.options.source) for r in rows])
        async with self.database.transaction() as connection:
            moved = await repository.move_marks(
                connection, self.holder, epoch, published_through=rows[confirmed - 1].position
            )
        if not moved:
            raise LeaseLost()
        self.counts.published += confirmed
        if confirmed < len(rows):
            raise ConnectionError(f"the broker confirmed {confirmed} of {len(rows)} events")
        return confirmed

    async def _trim_if_due(self) -> None:
        loop_now = asyncio.get_running_loop().time()
        if loop_now - self._last_trim < self.options.retention_sweep_seconds:
            return
        self._last_trim = loop_now
        await self.trim()

    async def trim(self) -> int:
        """Delete published events older than the retention, a batch per transaction; how
        many went."""
        epoch = self._fenced()
        before = clock.now() - self.options.retention
        deleted = 0
        while True:
            async with self.database.transaction() as connection:
                marks = await repository.relay_marks(connection, lock=True)
                if marks.holder != self.holder or marks.epoch != epoch:
                    raise LeaseLost()
                through, count = await repository.trim(
                    connection, marks.published_through, before, self.options.trim_batch
                )
                if count:
                    await repository.move_marks(
                        connection,
                        self.holder,
                        epoch,
                        trimmed_through=max(through, marks.trimmed_through),
                    )
            deleted += count
            if count < self.options.trim_batch:
                return deleted

    async def measure(self) -> None:
        """Read the backlog and the age of its oldest event into `counts`."""
        async with self.database.read_session() as session:
            connection = await session.connection()
            marks = await repository.relay_marks(connection)
            count, oldest = await repository.backlog(connection, marks.published_through)
        self.counts.backlog = count
        self.counts.oldest_age_seconds = (
            (clock.now() - oldest).total_seconds() if oldest is not None else 0.0
        )

    async def _record_error(self, exc: BaseException) -> None:
        if self._epoch is None:
            return
        message = f"{type(exc).__name__}: {exc}"[:500]
        try:
            async with self.database.transaction() as connection:
                marks = await repository.relay_marks(connection, lock=True)
                errors = [{"at": clock.now().isoformat(), "message": message}, *marks.errors]
                await repository.move_marks(
                    connection, self.holder, self._epoch, errors=errors[:MAX_ERRORS_KEPT]
                )
        except Exception as inner:  # the database may be what failed
            log.warning("events_relay_error_not_recorded", error=str(inner))
