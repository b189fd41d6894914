"""The book: the locked rows of one ledger batch, changed in memory — pure arithmetic, no I/O.

A `Posting` is one idempotent money call: the rows it touches (accounts, holds, earlier
transfers) and a `plan` that moves money on a `Book`. The ledger (`wallet.ledger`) locks the
rows, applies each posting's plan to the book, and writes what the book recorded
(`wallet.repository.batches`). A plan that raises (insufficient funds, a hold already resolved)
is undone in the book and fails alone.

The book refuses a user or sponsor balance above the balance limit (`balance_limit_exceeded`;
USERCENTER_WALLET_BALANCE_LIMIT, 10^15 by default) and any balance a BIGINT column cannot hold,
before anything is written.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from usercenter.kit.money import format_amount
from usercenter.kit.schemas import MAX_INT64
from usercenter.kit.side_rows import SideRow
from usercenter.wallet.errors import (
    HOLD_STATUS_NAMES,
    BalanceLimitExceeded,
    CaptureExceedsHold,
    HoldAlreadyResolved,
    HoldExpired,
    InsufficientBalance,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

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
    owner: str = ""  # user:<id>, sponsor:<id>, system:<name>: who the events name
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
    or raise to undo everything. `side_rows` are plain rows inserted with the batch (grouped by
    table): a batch whose side row the database refuses is split, so it fails only its own
    posting."""

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
    # Rows of the operation that commit with the move (its admin-log entry), inserted in the
    # batch's transaction: with every answer the posting gets, never with a refusal.
    side_rows: tuple[SideRow, ...] = ()
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
