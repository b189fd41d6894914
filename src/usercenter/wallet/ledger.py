"""The posting engine: every money call of the wallet runs through `Ledger.post`.

A `Posting` (`wallet.book`) is one idempotent call: the rows it touches and a `plan` that moves
money on a `Book` — the locked rows of one database transaction, changed in memory. Concurrent
postings are grouped (group commit, LEDGER.md): a worker takes what callers have queued, and in
one transaction

1. finds the keys already used (a resend gets the stored answer; another request under the same
   key gets `idempotency_conflict`),
2. locks every account involved with `SELECT … FOR UPDATE` in ascending id order (then holds,
   then earlier transfers, each in id order), so no two batches can deadlock on each other,
3. applies the postings one by one to the book; a posting whose plan raises (insufficient
   funds, a hold already resolved) is undone in the book and fails alone,
4. writes the balance changes, the transfers and their entries in a few statements, their
   events (`wallet.posted_events`: one per user or sponsor account moved, and the holds') in
   bulk, and the postings' side rows (the admin-log entry of a staff action: `kit.side_rows`)
   one executemany per table, commits, and answers each caller. A move, its events and its
   side rows commit together or not at all: the posting is the operation's one commit (the
   transaction rule, `db.py`).

The row locks are what make the arithmetic in Python safe: nobody else can change those rows
until the commit. The database's own check constraint refuses a user or sponsor balance below
zero or below its frozen part all the same. The SQL is in `wallet.repository.batches`.

A deadlock or serialization failure runs the batch again from the top; a key inserted meanwhile
by another process (a unique violation) too, after which the resend finds it. A batch that still
fails — or fails in any other way (a value a driver refuses, a side row the database refuses) —
is split, each posting run alone, so one bad posting cannot sink the others.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError

from usercenter.config import Backend
from usercenter.db import Database, is_retryable
from usercenter.kit.events import EventSink
from usercenter.kit.log import get_logger
from usercenter.kit.side_rows import SideRow
from usercenter.wallet.book import (
    DEFAULT_BALANCE_LIMIT,
    Answer,
    Book,
    Outcome,
    Posting,
)
from usercenter.wallet.errors import IdempotencyConflict
from usercenter.wallet.posted_events import posted_events
from usercenter.wallet.repository import batches

__all__ = ["Answer", "Book", "Ledger", "Outcome", "Posting"]

log = get_logger(__name__)

_ATTEMPTS = 5


@dataclass(slots=True)
class _Waiting:
    posting: Posting
    future: asyncio.Future[Outcome] = field(repr=False)


class Ledger:
    """Runs postings, grouped into shared transactions by `workers` background tasks when
    `batching` is on (each taking up to `max_batch` postings from its queue), one transaction
    each otherwise."""

    def __init__(
        self,
        database: Database,
        *,
        batching: bool = True,
        max_batch: int = 128,
        workers: int = 2,
        balance_limit: int = DEFAULT_BALANCE_LIMIT,
        outbox: EventSink | None = None,
    ) -> None:
        self.database = database
        # Where the batches write their events (`wallet.posted_events`); None: no events.
        self.outbox = outbox
        self.balance_limit = balance_limit
        self.batching = batching
        self.max_batch = max_batch
        self.workers = 1 if database.backend is Backend.SQLITE else workers
        self._queues: list[asyncio.Queue[_Waiting]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.batches = 0
        self.batched_postings = 0
        self.retries = 0

    async def post(self, posting: Posting) -> Outcome:
        """Run one posting; its answer, or the stored one when its key was used before."""
        if not self.batching or posting.side_writes is not None:
            return await self._run_alone(posting)
        queues = self._start()
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        queues[posting.route % len(queues)].put_nowait(_Waiting(posting, future))
        return await future

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self._queues = []

    # --- workers --------------------------------------------------------------------------

    def _start(self) -> list[asyncio.Queue[_Waiting]]:
        """One queue per worker: a posting goes to the queue its route names, so postings on
        the same hot row (a sponsor, a system account's shard) meet in one worker's batches
        instead of waiting for each other's locks from several."""
        if not self._queues:
            self._queues = [asyncio.Queue() for _ in range(self.workers)]
            self._tasks = [
                asyncio.create_task(self._work(queue), name=f"ledger-{i}")
                for i, queue in enumerate(self._queues)
            ]
        return self._queues

    async def _work(self, queue: asyncio.Queue[_Waiting]) -> None:
        while True:
            batch = [await queue.get()]
            # One turn of the loop first: callers answered by the last batch post their next
            # calls in it, and they join this batch instead of waiting for the next.
            await asyncio.sleep(0)
            while len(batch) < self.max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                await self._run_batch(batch)
            except Exception as exc:  # never lose a worker; every caller gets an answer
                log.exception("ledger_batch_failed")
                for waiting in batch:
                    if not waiting.future.done():
                        waiting.future.set_exception(exc)

    async def _run_alone(self, posting: Posting) -> Outcome:
        loop = asyncio.get_running_loop()
        waiting = _Waiting(posting, loop.create_future())
        await self._run_batch([waiting])
        return waiting.future.result()

    async def _run_batch(self, batch: list[_Waiting]) -> None:
        """Run `batch` in one transaction (retried after a deadlock or a key raced in by
        another transaction); if that keeps failing, run each posting alone.

        The first try does not look for used keys up front (a resend is rare, and the unique
        key refuses it anyway: the batch is then run again, looking first)."""
        look_first = False
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                answers = await self._transaction(batch, look_first=look_first)
            except Exception as exc:
                if isinstance(exc, DBAPIError):  # IntegrityError among them
                    self.retries += 1
                    raced = isinstance(exc, IntegrityError)
                    look_first = look_first or raced
                    if attempt < _ATTEMPTS and (raced or is_retryable(exc)):
                        if not raced:
                            await asyncio.sleep(0.002 * attempt)
                        continue
                # A batch the database keeps refusing, or one posting it cannot write (on
                # SQLite, an integer the driver cannot bind raises OverflowError, not a
                # DBAPIError): nothing was committed; each posting runs alone, and only the
                # bad one fails.
                log.warning("ledger_batch_failed", error=str(exc)[:300], size=len(batch))
                if len(batch) > 1:
                    for waiting in batch:
                        await self._run_batch([waiting])
                    return
                batch[0].future.set_exception(exc)
                return
            if self.outbox is not None:
                self.outbox.notify()
            for waiting, answer in zip(batch, answers, strict=True):
                if waiting.future.done():
                    continue
                if isinstance(answer, BaseException):
                    waiting.future.set_exception(answer)
                else:
                    waiting.future.set_result(answer)
            self.batches += 1
            self.batched_postings += len(batch)
            return

    async def _transaction(
        self, batch: list[_Waiting], *, look_first: bool
    ) -> list[Outcome | BaseException]:
        postings = [waiting.posting for waiting in batch]
        answers: list[Outcome | BaseException | None] = [None] * len(postings)
        async with self.database.transaction() as connection:
            stored = (
                await batches.stored_transfers(connection, {p.key for p in postings})
                if look_first
                else {}
            )
            first_of_key: dict[str, int] = {}
            fresh: list[int] = []
            for index, posting in enumerate(postings):
                known = stored.get(posting.key)
                if known is not None:
                    answers[index] = _repeat(posting, known)
                elif posting.key in first_of_key:
                    continue  # answered below, from the first posting with this key
                else:
                    first_of_key[posting.key] = index
                    fresh.append(index)
            if fresh:
                book = await batches.lock_book(
                    connection, [postings[i] for i in fresh], self.balance_limit
                )
                for index in fresh:
                    try:
                        answers[index] = Outcome(
                            book.apply(postings[index]), postings[index].transfer_id, False
                        )
                    except Exception as exc:
                        answers[index] = exc
                failed = [i for i in fresh if not isinstance(answers[i], Outcome)]
                if failed and not look_first:
                    # A resend of a call that succeeded must get its answer, not today's refusal.
                    stored = await batches.stored_transfers(
                        connection, {postings[i].key for i in failed}
                    )
                    for index in failed:
                        if (known := stored.get(postings[index].key)) is not None:
                            answers[index] = _repeat(postings[index], known)
                for index in fresh:
                    posting, answer = postings[index], answers[index]
                    if posting.side_writes is not None and isinstance(answer, Outcome):
                        await posting.side_writes(connection, answer.answer)
                await batches.write_book(connection, book)
                if self.outbox is not None:
                    done = ((postings[i], answers[i]) for i in fresh)
                    await self.outbox.append(connection, posted_events(book, done))
            for index, posting in enumerate(postings):
                if answers[index] is None:
                    first = postings[first_of_key[posting.key]]
                    answers[index] = _repeat_in_batch(
                        posting, first, answers[first_of_key[posting.key]]
                    )
            side_rows = _side_rows(postings, answers)
            if side_rows:
                await batches.insert_side_rows(connection, side_rows)
        return [answer for answer in answers if answer is not None]


def _repeat(posting: Posting, known: Any) -> Outcome | BaseException:
    if known.request_hash != posting.request_hash:
        return IdempotencyConflict()
    return Outcome(known.result, known.id, True)


def _repeat_in_batch(
    posting: Posting, first: Posting, first_answer: Outcome | BaseException | None
) -> Outcome | BaseException:
    if first.request_hash != posting.request_hash:
        return IdempotencyConflict()
    if isinstance(first_answer, Outcome):
        return Outcome(first_answer.answer, first_answer.transfer_id, True)
    assert first_answer is not None
    return first_answer


def _side_rows(
    postings: list[Posting], answers: list[Outcome | BaseException | None]
) -> list[SideRow]:
    """The side rows of every posting that got an answer (a move, or a resend's stored one):
    a refused posting writes none."""
    return [
        row
        for posting, answer in zip(postings, answers, strict=True)
        if isinstance(answer, Outcome)
        for row in posting.side_rows
    ]
