"""The posting engine: every money call of the wallet runs through `Ledger.post`.

A `Posting` is one idempotent call: the rows it touches (accounts, holds, earlier transfers) and
a `plan` that moves money on a `Book` — the locked rows of one database transaction, changed in
memory. Concurrent postings are grouped (group commit, LEDGER.md): a worker takes what callers
have queued, and in one transaction

1. finds the keys already used (a resend gets the stored answer; another request under the same
   key gets `idempotency_conflict`),
2. locks every account involved with `SELECT … FOR UPDATE` in ascending id order (then holds,
   then earlier transfers, each in id order), so no two batches can deadlock on each other,
3. applies the postings one by one to the book; a posting whose plan raises (insufficient
   funds, a hold already resolved) is undone in the book and fails alone,
4. writes the balance changes, the transfers and their entries in a few statements, commits, and
   answers each caller.

The row locks are what make the arithmetic in Python safe: nobody else can change those rows
until the commit. The database's own check constraint refuses a user or sponsor balance below
zero or below its frozen part all the same. The book refuses a user or sponsor balance above the
balance limit (`balance_limit_exceeded`; USERCENTER_WALLET_BALANCE_LIMIT, 10^15 by default) and
any balance a BIGINT column cannot hold, before anything is written.

A deadlock or serialization failure runs the batch again from the top; a key inserted meanwhile
by another process (a unique violation) too, after which the resend finds it. A batch that still
fails — or fails in any other way (a value a driver refuses) — is split, each posting run alone,
so one bad posting cannot sink the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from usercenter.config import Backend
from usercenter.db import Database, is_retryable
from usercenter.kit import clock
from usercenter.kit.log import get_logger
from usercenter.kit.models import UtcDateTime
from usercenter.kit.money import format_amount
from usercenter.kit.schemas import MAX_INT64
from usercenter.wallet.errors import (
    HOLD_STATUS_NAMES,
    BalanceLimitExceeded,
    CaptureExceedsHold,
    HoldAlreadyResolved,
    HoldExpired,
    IdempotencyConflict,
    InsufficientBalance,
)
from usercenter.wallet.models import Account, Entry, Hold, Transfer

log = get_logger(__name__)

ACCOUNTS = cast(Table, Account.__table__)
TRANSFERS = cast(Table, Transfer.__table__)
ENTRIES = cast(Table, Entry.__table__)
HOLDS = cast(Table, Hold.__table__)

_ATTEMPTS = 5

# The most a user or sponsor balance holds unless the ledger is told otherwise.
DEFAULT_BALANCE_LIMIT = 10**15

TRANSFER_COLUMNS = (
    "id",
    "idempotency_key",
    "request_hash",
    "kind",
    "amount",
    "business_type",
    "business_id",
    "reason",
    "operator_id",
    "related_transfer_id",
    "hold_id",
    "result",
)
ENTRY_COLUMNS = (
    "transfer_id",
    "leg",
    "account_id",
    "asset",
    "kind",
    "amount",
    "balance_before",
    "balance_after",
)

Answer = dict[str, Any]


@dataclass(slots=True)
class AccountState:
    id: int
    asset: str
    balance: int
    frozen: int
    may_go_negative: bool
    locked_balance: int = 0
    locked_frozen: int = 0

    def __post_init__(self) -> None:
        self.locked_balance, self.locked_frozen = self.balance, self.frozen

    @property
    def available(self) -> int:
        return self.balance - self.frozen


@dataclass(slots=True)
class HoldState:
    id: int
    account_id: int
    asset: str
    amount: int
    captured: int
    destination_id: int
    status: str
    expires_at: datetime
    transfer_id: int = 0
    business_type: str | None = None
    business_id: str | None = None
    is_new: bool = False
    resolved_by: int | None = None


@dataclass(slots=True)
class OriginalState:
    """An earlier transfer that a refund gives back from."""

    id: int
    kind: str
    amount: int
    refunded: int
    locked_refunded: int = 0

    def __post_init__(self) -> None:
        self.locked_refunded = self.refunded

    @property
    def refundable(self) -> int:
        return self.amount - self.refunded


@dataclass(slots=True)
class Posting:
    """One idempotent money call. `accounts`, `holds` and `originals` name every row the plan
    may touch. `side_writes` (a posting that has them runs alone) writes rows of its own in
    the same transaction, after the plan and before the ledger rows; it may add to the answer,
    or raise to undo everything."""

    transfer_id: int
    key: str
    request_hash: str
    kind: str
    plan: Callable[[Book], Answer]
    accounts: tuple[int, ...]
    holds: tuple[int, ...] = ()
    originals: tuple[int, ...] = ()
    business_type: str | None = None
    business_id: str | None = None
    reason: str | None = None
    operator_id: str | None = None
    related_transfer_id: int | None = None
    hold_id: int | None = None
    side_writes: Callable[[AsyncConnection, Answer], Awaitable[None]] | None = None
    route: int = 0  # postings with the same route share a worker


@dataclass(slots=True)
class Outcome:
    answer: Answer
    transfer_id: int
    repeated: bool


class Book:
    """The locked rows of one batch and what its postings did to them."""

    def __init__(
        self,
        accounts: dict[int, AccountState],
        holds: dict[int, HoldState],
        originals: dict[int, OriginalState],
        now: datetime,
        balance_limit: int = DEFAULT_BALANCE_LIMIT,
    ) -> None:
        self.accounts = accounts
        self.holds = holds
        self.originals = originals
        self.now = now
        self.balance_limit = balance_limit
        # Rows to write, as tuples in the order of ENTRY_COLUMNS and TRANSFER_COLUMNS.
        self.entries: list[tuple[Any, ...]] = []
        self.transfers: list[tuple[Any, ...]] = []
        self._posting: Posting | None = None
        self._leg = 0
        self._amount = 0

    # --- what plans call ------------------------------------------------------------------

    def account(self, account_id: int) -> AccountState:
        return self.accounts[account_id]

    def move(
        self, debit_id: int, credit_id: int, amount: int, *, from_frozen: bool = False
    ) -> None:
        """One leg: `amount` from `debit_id` to `credit_id` (same asset). `from_frozen` takes it
        out of the debit account's frozen part (a capture). InsufficientBalance when a
        non-negative account does not cover it."""
        debit, credit = self.accounts[debit_id], self.accounts[credit_id]
        if debit.asset != credit.asset or amount <= 0:
            raise ValueError(f"bad leg {debit_id}->{credit_id} {amount}")
        if from_frozen:
            if debit.frozen < amount:
                raise ValueError(f"capture of {amount} beyond frozen {debit.frozen}")
            debit.frozen -= amount
        elif not debit.may_go_negative and debit.available < amount:
            raise InsufficientBalance()
        self._leg += 1
        self._entry(debit, -amount)
        self._entry(credit, amount)

    def freeze(self, account_id: int, amount: int) -> None:
        account = self.accounts[account_id]
        if not account.may_go_negative and account.available < amount:
            raise InsufficientBalance()
        account.frozen += amount

    def unfreeze(self, account_id: int, amount: int) -> None:
        account = self.accounts[account_id]
        if account.frozen < amount:
            raise ValueError(f"release of {amount} beyond frozen {account.frozen}")
        account.frozen -= amount

    def count(self, amount: int) -> None:
        """Add to the transfer's `amount` (what it debited from its payer)."""
        self._amount += amount

    def open_hold(self, hold: HoldState) -> None:
        assert self._posting is not None
        self.freeze(hold.account_id, hold.amount)
        hold.is_new, hold.transfer_id = True, self._posting.transfer_id
        hold.business_type = self._posting.business_type
        hold.business_id = self._posting.business_id
        self.holds[hold.id] = hold

    def resolve_hold(self, hold_id: int, status: str, capture: int) -> HoldState:
        """Capture `capture` of a pending hold (the rest is released) or, with 0, release it.
        HoldAlreadyResolved when it is not pending any more; HoldExpired for a capture after
        the hold's expiry."""
        hold = self.holds[hold_id]
        if hold.status != "pending":
            raise HoldAlreadyResolved(status=HOLD_STATUS_NAMES[hold.status])
        if capture and hold.expires_at <= self.now:
            raise HoldExpired()  # the sweeper releases it; until then it may only be released
        if capture > hold.amount:
            raise CaptureExceedsHold()
        if capture:
            self.move(hold.account_id, hold.destination_id, capture, from_frozen=True)
            self.count(capture)
        self.unfreeze(hold.account_id, hold.amount - capture)
        assert self._posting is not None
        hold.status, hold.captured, hold.resolved_by = status, capture, self._posting.transfer_id
        return hold

    def original(self, transfer_id: int) -> OriginalState:
        return self.originals[transfer_id]

    # --- what the engine calls ------------------------------------------------------------

    def apply(self, posting: Posting) -> Answer:
        """Run one posting's plan; undo what it did if it raises."""
        # What the plan may change, kept to be put back in place (the objects stay: their
        # `locked_*` values must keep what the lock read).
        saved_accounts = {
            i: (self.accounts[i].balance, self.accounts[i].frozen) for i in posting.accounts
        }
        saved_holds = {
            i: (h.status, h.captured, h.resolved_by)
            for i in posting.holds
            if (h := self.holds.get(i)) is not None
        }
        saved_originals = {
            i: self.originals[i].refunded for i in posting.originals if i in self.originals
        }
        entries_before = len(self.entries)
        self._posting, self._leg, self._amount = posting, 0, 0
        try:
            answer = posting.plan(self)
        except BaseException:
            for account_id, (balance, frozen) in saved_accounts.items():
                self.accounts[account_id].balance = balance
                self.accounts[account_id].frozen = frozen
            for hold_id in posting.holds:
                if hold_id in saved_holds:
                    hold = self.holds[hold_id]
                    hold.status, hold.captured, hold.resolved_by = saved_holds[hold_id]
                else:
                    self.holds.pop(hold_id, None)
            for transfer_id, refunded in saved_originals.items():
                self.originals[transfer_id].refunded = refunded
            del self.entries[entries_before:]
            raise
        finally:
            self._posting = None
        answer.setdefault("transfer_id", posting.transfer_id)
        answer.setdefault("kind", posting.kind)
        answer.setdefault("created_at", self.now.isoformat())
        self.transfers.append(
            (
                posting.transfer_id,
                posting.key,
                posting.request_hash,
                posting.kind,
                self._amount,
                posting.business_type,
                posting.business_id,
                posting.reason,
                posting.operator_id,
                posting.related_transfer_id,
                posting.hold_id,
                answer,
            )
        )
        return answer

    def _entry(self, account: AccountState, amount: int) -> None:
        assert self._posting is not None
        before = account.balance
        # A user's or sponsor's balance grows up to the limit; a system account's (which may go
        # negative) up to what a BIGINT holds. Refused here, the call fails alone, before any
        # write: a driver's overflow would fail the whole batch. (A balance already past a
        # lowered limit may still shrink.)
        limit = MAX_INT64 if account.may_go_negative else self.balance_limit
        after = before + amount
        if abs(after) > limit and abs(after) > abs(before):
            raise BalanceLimitExceeded(limit=format_amount(account.asset, limit))
        account.balance += amount
        self.entries.append(
            (
                self._posting.transfer_id,
                self._leg,
                account.id,
                account.asset,
                self._posting.kind,
                amount,
                before,
                account.balance,
            )
        )


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
    ) -> None:
        self.database = database
        self.balance_limit = balance_limit
        self.batching = batching
        self.max_batch = max_batch
        self.workers = 1 if database.backend is Backend.SQLITE else workers
        self._queues: list[asyncio.Queue[_Waiting]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.batches = 0
        self.batched_postings = 0
        self.retries = 0

    async def _write(self, connection: AsyncConnection, book: Book) -> None:
        if self.database.backend is Backend.POSTGRESQL:
            await _write_postgresql(connection, book)
        else:
            await _write(connection, book)

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
                await _stored_transfers(connection, {p.key for p in postings}) if look_first else {}
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
                book = await _lock(connection, [postings[i] for i in fresh], self.balance_limit)
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
                    stored = await _stored_transfers(connection, {postings[i].key for i in failed})
                    for index in failed:
                        if (known := stored.get(postings[index].key)) is not None:
                            answers[index] = _repeat(postings[index], known)
                for index in fresh:
                    posting, answer = postings[index], answers[index]
                    if posting.side_writes is not None and isinstance(answer, Outcome):
                        await posting.side_writes(connection, answer.answer)
                if book.transfers:
                    await self._write(connection, book)
            for index, posting in enumerate(postings):
                if answers[index] is None:
                    first = postings[first_of_key[posting.key]]
                    answers[index] = _repeat_in_batch(
                        posting, first, answers[first_of_key[posting.key]]
                    )
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


async def _stored_transfers(connection: AsyncConnection, keys: Iterable[str]) -> dict[str, Any]:
    rows = await connection.execute(
        select(
            TRANSFERS.c.idempotency_key,
            TRANSFERS.c.request_hash,
            TRANSFERS.c.result,
            TRANSFERS.c.id,
        ).where(TRANSFERS.c.idempotency_key.in_(list(keys)))
    )
    return {row.idempotency_key: row for row in rows}


async def _lock(connection: AsyncConnection, postings: list[Posting], balance_limit: int) -> Book:
    account_ids = sorted({i for p in postings for i in p.accounts})
    hold_ids = sorted({i for p in postings for i in p.holds})
    original_ids = sorted({i for p in postings for i in p.originals})
    if connection.dialect.name == "postgresql":
        # One statement text whatever the number of ids: prepared once per connection.
        rows = await connection.execute(_POSTGRESQL_LOCK, {"ids": account_ids})
    else:
        rows = await connection.execute(
            select(
                ACCOUNTS.c.id,
                ACCOUNTS.c.asset,
                ACCOUNTS.c.balance,
                ACCOUNTS.c.frozen,
                ACCOUNTS.c.may_go_negative,
            )
            .where(ACCOUNTS.c.id.in_(account_ids))
            .order_by(ACCOUNTS.c.id)
            .with_for_update()
        )
    accounts = {
        row.id: AccountState(row.id, row.asset, row.balance, row.frozen, bool(row.may_go_negative))
        for row in rows
    }
    holds: dict[int, HoldState] = {}
    if hold_ids:
        rows = await connection.execute(
            select(HOLDS).where(HOLDS.c.id.in_(hold_ids)).order_by(HOLDS.c.id).with_for_update()
        )
        holds = {
            row.id: HoldState(
                id=row.id,
                account_id=row.account_id,
                asset=row.asset,
                amount=row.amount,
                captured=row.captured,
                destination_id=row.destination_id,
                status=row.status,
                expires_at=row.expires_at,
            )
            for row in rows
        }
    originals: dict[int, OriginalState] = {}
    if original_ids:
        rows = await connection.execute(
            select(TRANSFERS.c.id, TRANSFERS.c.kind, TRANSFERS.c.amount, TRANSFERS.c.refunded)
            .where(TRANSFERS.c.id.in_(original_ids))
            .order_by(TRANSFERS.c.id)
            .with_for_update()
        )
        originals = {
            row.id: OriginalState(row.id, row.kind, row.amount, row.refunded) for row in rows
        }
    return Book(accounts, holds, originals, clock.now(), balance_limit)


_POSTGRESQL_LOCK = text(
    "SELECT id, asset, balance, frozen, may_go_negative FROM wallet_accounts"
    " WHERE id = ANY(CAST(:ids AS BIGINT[])) ORDER BY id FOR UPDATE"
)

# PostgreSQL: the balance changes, the transfers and their entries in one statement and one
# round trip, each column sent as one array.
_POSTGRESQL_WRITE = text(
    """
WITH changed AS (
    UPDATE wallet_accounts AS a
       SET balance = a.balance + c.balance_change,
           frozen = a.frozen + c.frozen_change,
           updated_at = :now
      FROM unnest(CAST(:account_ids AS BIGINT[]), CAST(:balance_changes AS BIGINT[]),
                  CAST(:frozen_changes AS BIGINT[])) AS c(id, balance_change, frozen_change)
     WHERE a.id = c.id
    RETURNING a.id
), transfers AS (
    INSERT INTO wallet_transfers (id, idempotency_key, request_hash, kind, amount, refunded,
                                  business_type, business_id, reason, operator_id,
                                  related_transfer_id, hold_id, result, created_at)
    SELECT t.id, t.idempotency_key, t.request_hash, t.kind, t.amount, 0, t.business_type,
           t.business_id, t.reason, t.operator_id, t.related_transfer_id, t.hold_id,
           CAST(t.result AS JSON), :now
      FROM unnest(CAST(:t_id AS BIGINT[]), CAST(:t_key AS TEXT[]), CAST(:t_hash AS TEXT[]),
                  CAST(:t_kind AS TEXT[]), CAST(:t_amount AS BIGINT[]),
                  CAST(:t_business_type AS TEXT[]), CAST(:t_business_id AS TEXT[]),
                  CAST(:t_reason AS TEXT[]), CAST(:t_operator_id AS TEXT[]),
                  CAST(:t_related AS BIGINT[]), CAST(:t_hold AS BIGINT[]),
                  CAST(:t_result AS TEXT[]))
           AS t(id, idempotency_key, request_hash, kind, amount, business_type, business_id,
                reason, operator_id, related_transfer_id, hold_id, result)
    RETURNING id
), entries AS (
    INSERT INTO wallet_entries (transfer_id, leg, account_id, asset, kind, amount,
                                balance_before, balance_after, created_at)
    SELECT e.transfer_id, e.leg, e.account_id, e.asset, e.kind, e.amount, e.balance_before,
           e.balance_after, :now
      FROM unnest(CAST(:e_transfer AS BIGINT[]), CAST(:e_leg AS SMALLINT[]),
                  CAST(:e_account AS BIGINT[]), CAST(:e_asset AS TEXT[]),
                  CAST(:e_kind AS TEXT[]), CAST(:e_amount AS BIGINT[]),
                  CAST(:e_before AS BIGINT[]), CAST(:e_after AS BIGINT[]))
           WITH ORDINALITY
           AS e(transfer_id, leg, account_id, asset, kind, amount, balance_before, balance_after,
                position)
     ORDER BY e.position
    RETURNING id
)
SELECT (SELECT count(*) FROM changed), (SELECT count(*) FROM transfers),
       (SELECT count(*) FROM entries)
"""
).bindparams(bindparam("now", type_=UtcDateTime()))


def _balance_changes(book: Book) -> list[tuple[int, int, int]]:
    """(account, balance change, frozen change) of every account the batch changed: written
    as increments of the rows' own values (which the lock held still)."""
    return [
        (
            account.id,
            account.balance - account.locked_balance,
            account.frozen - account.locked_frozen,
        )
        for account in book.accounts.values()
        if (account.balance, account.frozen) != (account.locked_balance, account.locked_frozen)
    ]


async def _write_postgresql(connection: AsyncConnection, book: Book) -> None:
    changes = _balance_changes(book)
    transfers = list(zip(*book.transfers, strict=True))
    entries = list(zip(*book.entries, strict=True)) or [() for _ in ENTRY_COLUMNS]
    accounts = list(zip(*changes, strict=True)) or [(), (), ()]
    counts = (
        await connection.execute(
            _POSTGRESQL_WRITE,
            {
                "now": book.now,
                "account_ids": list(accounts[0]),
                "balance_changes": list(accounts[1]),
                "frozen_changes": list(accounts[2]),
                "t_id": list(transfers[0]),
                "t_key": list(transfers[1]),
                "t_hash": list(transfers[2]),
                "t_kind": list(transfers[3]),
                "t_amount": list(transfers[4]),
                "t_business_type": list(transfers[5]),
                "t_business_id": list(transfers[6]),
                "t_reason": list(transfers[7]),
                "t_operator_id": list(transfers[8]),
                "t_related": list(transfers[9]),
                "t_hold": list(transfers[10]),
                "t_result": [json.dumps(answer) for answer in transfers[11]],
                "e_transfer": list(entries[0]),
                "e_leg": list(entries[1]),
                "e_account": list(entries[2]),
                "e_asset": list(entries[3]),
                "e_kind": list(entries[4]),
                "e_amount": list(entries[5]),
                "e_before": list(entries[6]),
                "e_after": list(entries[7]),
            },
        )
    ).one()
    if tuple(counts) != (len(changes), len(book.transfers), len(book.entries)):
        raise RuntimeError(f"ledger write wrote {tuple(counts)}")
    await _write_holds_and_refunds(connection, book)


async def _write(connection: AsyncConnection, book: Book) -> None:
    if not book.transfers:
        return
    changed = [
        {"account_id": c[0], "balance_change": c[1], "frozen_change": c[2]}
        for c in _balance_changes(book)
    ]
    if changed:
        await connection.execute(
            update(ACCOUNTS)
            .where(ACCOUNTS.c.id == bindparam("account_id"))
            .values(
                balance=ACCOUNTS.c.balance + bindparam("balance_change"),
                frozen=ACCOUNTS.c.frozen + bindparam("frozen_change"),
                updated_at=book.now,
            ),
            changed,
        )
    await connection.execute(
        insert(TRANSFERS),
        [
            {**dict(zip(TRANSFER_COLUMNS, row, strict=True)), "refunded": 0, "created_at": book.now}
            for row in book.transfers
        ],
    )
    if book.entries:
        await connection.execute(
            insert(ENTRIES),
            [
                {**dict(zip(ENTRY_COLUMNS, row, strict=True)), "created_at": book.now}
                for row in book.entries
            ],
        )
    await _write_holds_and_refunds(connection, book)


async def _write_holds_and_refunds(connection: AsyncConnection, book: Book) -> None:
    new_holds = [h for h in book.holds.values() if h.is_new]
    if new_holds:
        await connection.execute(
            insert(HOLDS),
            [
                {
                    "id": h.id,
                    "account_id": h.account_id,
                    "asset": h.asset,
                    "amount": h.amount,
                    "captured": h.captured,
                    "destination_id": h.destination_id,
                    "status": h.status,
                    "transfer_id": h.transfer_id,
                    "resolution_transfer_id": None,
                    "business_type": h.business_type,
                    "business_id": h.business_id,
                    "expires_at": h.expires_at,
                    "created_at": book.now,
                    "resolved_at": None,
                }
                for h in new_holds
            ],
        )
    resolved = [h for h in book.holds.values() if not h.is_new and h.resolved_by is not None]
    if resolved:
        await connection.execute(
            update(HOLDS)
            .where(HOLDS.c.id == bindparam("hold_id"), HOLDS.c.status == "pending")
            .values(
                status=bindparam("new_status"),
                captured=bindparam("new_captured"),
                resolution_transfer_id=bindparam("by"),
                resolved_at=book.now,
            ),
            [
                {
                    "hold_id": h.id,
                    "new_status": h.status,
                    "new_captured": h.captured,
                    "by": h.resolved_by,
                }
                for h in resolved
            ],
        )
    refunded = [o for o in book.originals.values() if o.refunded != o.locked_refunded]
    if refunded:
        await connection.execute(
            update(TRANSFERS)
            .where(TRANSFERS.c.id == bindparam("transfer_id"))
            .values(refunded=TRANSFERS.c.refunded + bindparam("refund")),
            [{"transfer_id": o.id, "refund": o.refunded - o.locked_refunded} for o in refunded],
        )
