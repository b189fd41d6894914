"""SQL of the reconciliation: counts and every invariant of the ledger, checked in the database."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.wallet.models import (
    HOLD_RESOLUTIONS,
    Account,
    Entry,
    Hold,
    HoldStatus,
    Transfer,
)

# --- reconciliation --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Difference:
    check: str
    subject: str
    expected: object
    found: object


async def counts(session: AsyncSession) -> tuple[int, int, int]:
    """How many accounts, transfers and entries there are."""
    row = (
        await session.execute(
            select(
                select(func.count()).select_from(Account).scalar_subquery(),
                select(func.count()).select_from(Transfer).scalar_subquery(),
                select(func.count()).select_from(Entry).scalar_subquery(),
            )
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


async def reconcile(session: AsyncSession) -> list[Difference]:
    """Every invariant of the ledger, recomputed from the entries (see service.reconcile)."""
    found: list[Difference] = []

    sums = await session.execute(select(Entry.asset, func.sum(Entry.amount)).group_by(Entry.asset))
    for asset, total in sums:
        if int(total or 0) != 0:
            found.append(Difference("asset_sums_to_zero", asset, 0, int(total)))

    entry_sums = (
        select(Entry.account_id, func.sum(Entry.amount).label("total"))
        .group_by(Entry.account_id)
        .subquery()
    )
    balances = await session.execute(
        select(Account.id, Account.owner, Account.asset, Account.balance, entry_sums.c.total)
        .outerjoin(entry_sums, entry_sums.c.account_id == Account.id)
        .where(Account.balance != func.coalesce(entry_sums.c.total, 0))
    )
    for row in balances:
        found.append(
            Difference(
                "balance_equals_entries",
                f"{row.owner}/{row.asset}",
                int(row.total or 0),
                row.balance,
            )
        )

    uncovered = await session.execute(
        select(Account.owner, Account.asset, Account.balance, Account.frozen).where(
            Account.may_go_negative.is_(False),
            (Account.balance < 0) | (Account.frozen < 0) | (Account.frozen > Account.balance),
        )
    )
    for row in uncovered:
        found.append(
            Difference(
                "covered_balance",
                f"{row.owner}/{row.asset}",
                "0 <= frozen <= balance",
                f"balance={row.balance} frozen={row.frozen}",
            )
        )

    pending = (
        select(Hold.account_id, func.sum(Hold.amount).label("held"))
        .where(Hold.status == HoldStatus.PENDING.value)
        .group_by(Hold.account_id)
        .subquery()
    )
    frozen = await session.execute(
        select(Account.owner, Account.asset, Account.frozen, pending.c.held)
        .outerjoin(pending, pending.c.account_id == Account.id)
        .where(Account.frozen != func.coalesce(pending.c.held, 0))
    )
    for row in frozen:
        found.append(
            Difference(
                "frozen_equals_pending_holds",
                f"{row.owner}/{row.asset}",
                int(row.held or 0),
                row.frozen,
            )
        )

    keys = await session.execute(
        select(Transfer.idempotency_key, func.count())
        .group_by(Transfer.idempotency_key)
        .having(func.count() > 1)
    )
    for key, count in keys:
        found.append(Difference("one_transfer_per_key", key, 1, count))

    resolutions = await session.execute(
        select(Transfer.hold_id, func.count())
        .where(Transfer.kind.in_([kind.value for kind in HOLD_RESOLUTIONS]))
        .group_by(Transfer.hold_id)
        .having(func.count() > 1)
    )
    for hold_id, count in resolutions:
        found.append(Difference("one_resolution_per_hold", f"hold {hold_id}", 1, count))

    unresolved = await session.execute(
        select(Hold.id, Hold.status).where(
            (Hold.status == HoldStatus.PENDING.value) != Hold.resolution_transfer_id.is_(None)
        )
    )
    for row in unresolved:
        found.append(Difference("hold_status_matches_resolution", f"hold {row.id}", "", row.status))

    over_refunded = await session.execute(
        select(Transfer.id, Transfer.amount, Transfer.refunded).where(
            (Transfer.refunded > Transfer.amount) | (Transfer.refunded < 0)
        )
    )
    for row in over_refunded:
        found.append(
            Difference("refund_within_debit", f"transfer {row.id}", row.amount, row.refunded)
        )

    legs = await session.execute(
        select(Entry.transfer_id, Entry.leg, func.sum(Entry.amount), func.count())
        .group_by(Entry.transfer_id, Entry.leg)
        .having((func.sum(Entry.amount) != 0) | (func.count() != 2))
    )
    for transfer_id, leg, total, count in legs:
        found.append(
            Difference(
                "leg_balances",
                f"transfer {transfer_id} leg {leg}",
                "2 entries, sum 0",
                f"{count} entries, sum {total}",
            )
        )

    previous = func.lag(Entry.balance_after).over(partition_by=Entry.account_id, order_by=Entry.id)
    chained = select(
        Entry.id,
        Entry.account_id,
        Entry.amount,
        Entry.balance_before,
        Entry.balance_after,
        previous.label("previous_after"),
    ).subquery()
    breaks = await session.execute(
        select(chained)
        .where(
            (chained.c.balance_after != chained.c.balance_before + chained.c.amount)
            | (
                chained.c.previous_after.is_not(None)
                & (chained.c.previous_after != chained.c.balance_before)
            )
            | (chained.c.previous_after.is_(None) & (chained.c.balance_before != 0))
        )
        .limit(100)
    )
    for row in breaks:
        found.append(
            Difference(
                "entries_chain",
                f"entry {row.id} of account {row.account_id}",
                row.previous_after if row.previous_after is not None else 0,
                row.balance_before,
            )
        )
    return found
