"""The events a ledger batch writes with its moves: one `wallet.transfer_posted` per user or
sponsor account a transfer touched (system accounts are the business's own books: none), and
the hold events of a posting that opened or resolved a hold. Derived from the book, so every
money call has them without asking; written in the batch's transaction (`Ledger`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from usercenter.kit.events import Event
from usercenter.wallet.book import ENTRY_COLUMNS, AccountState, Book, Outcome, Posting
from usercenter.wallet.events import HoldCaptured, HoldPlaced, HoldReleased, TransferPosted

_TRANSFER, _ACCOUNT, _AMOUNT, _AFTER = (
    ENTRY_COLUMNS.index(name) for name in ("transfer_id", "account_id", "amount", "balance_after")
)


def owners(account: AccountState) -> dict[str, int | None]:
    """The `user_id` and `sponsor_id` an account's events carry (None for the other)."""
    kind, _, number = account.owner.partition(":")
    return {
        "user_id": int(number) if kind == "user" and number.isdigit() else None,
        "sponsor_id": int(number) if kind == "sponsor" and number.isdigit() else None,
    }


def _named(account: AccountState) -> bool:
    return account.owner.startswith(("user:", "sponsor:"))


def posted_events(
    book: Book, done: Iterable[tuple[Posting, Outcome | BaseException | None]]
) -> list[Event]:
    """The events of the postings in `done` that moved money now (not refused, not a resend's
    stored answer), in posting order."""
    entries: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for entry in book.entries:
        entries[entry[_TRANSFER]].append(entry)
    events: list[Event] = []
    for posting, outcome in done:
        if not isinstance(outcome, Outcome) or outcome.repeated:
            continue
        events.extend(_transfer_events(book, posting, entries.get(posting.transfer_id, ())))
        events.extend(_hold_events(book, posting, outcome.answer))
    return events


def _transfer_events(
    book: Book, posting: Posting, entries: Sequence[tuple[Any, ...]]
) -> list[Event]:
    events: list[Event] = []
    for entry in entries:
        account = book.accounts[entry[_ACCOUNT]]
        if not _named(account):
            continue
        events.append(
            TransferPosted(
                account_id=account.id,
                asset=account.asset,
                transfer_id=posting.transfer_id,
                kind=posting.kind,
                amount=entry[_AMOUNT],
                balance_after=entry[_AFTER],
                business_type=posting.business_type,
                business_id=posting.business_id,
                **owners(account),
            )
        )
    return events


def _hold_events(book: Book, posting: Posting, answer: dict[str, Any]) -> list[Event]:
    hold = book.holds.get(posting.hold_id) if posting.hold_id is not None else None
    if hold is None:
        return []
    account = book.accounts[hold.account_id]
    if not _named(account):
        return []
    common: dict[str, Any] = {
        "account_id": account.id,
        "asset": account.asset,
        "hold_id": hold.id,
        "amount": hold.amount,
        "business_type": posting.business_type,
        "business_id": posting.business_id,
        **owners(account),
    }
    status = answer.get("hold_status")
    if status == "pending":
        return [HoldPlaced(**common)]
    if status == "captured":
        return [HoldCaptured(captured=hold.captured, **common)]
    if status in {"released", "expired"}:
        return [HoldReleased(reason=status, **common)]
    return []
