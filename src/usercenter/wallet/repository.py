"""SQL of the wallet module, but for the ledger's batch statements (ledger.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased

from usercenter.wallet.models import (
    HOLD_RESOLUTIONS,
    Account,
    Adjustment,
    Entry,
    Hold,
    HoldStatus,
    PayoutAccount,
    Sponsor,
    Transfer,
    VipMembership,
    Withdrawal,
)


@dataclass(frozen=True, slots=True)
class AccountRef:
    id: int
    owner: str
    asset: str
    may_go_negative: bool


# --- accounts ------------------------------------------------------------------------------


async def find_account(session: AsyncSession, owner: str, asset: str) -> AccountRef | None:
    row = (
        await session.execute(
            select(Account.id, Account.owner, Account.asset, Account.may_go_negative).where(
                Account.owner == owner, Account.asset == asset
            )
        )
    ).one_or_none()
    return None if row is None else AccountRef(row.id, row.owner, row.asset, row.may_go_negative)


async def insert_account(
    session: AsyncSession, owner: str, asset: str, *, may_go_negative: bool, now: datetime
) -> None:
    """Create an empty account (IntegrityError when it exists)."""
    await session.execute(
        insert(Account).values(
            owner=owner,
            asset=asset,
            balance=0,
            frozen=0,
            may_go_negative=may_go_negative,
            created_at=now,
            updated_at=now,
        )
    )


async def account_ids(
    session: AsyncSession, owners: Sequence[str], asset: str
) -> list[tuple[str, int]]:
    rows = await session.execute(
        select(Account.owner, Account.id).where(Account.owner.in_(owners), Account.asset == asset)
    )
    return [(row.owner, row.id) for row in rows]


async def accounts_by_id(session: AsyncSession, account_ids: set[int]) -> list[AccountRef]:
    rows = await session.execute(
        select(Account.id, Account.owner, Account.asset, Account.may_go_negative).where(
            Account.id.in_(account_ids)
        )
    )
    return [AccountRef(row.id, row.owner, row.asset, row.may_go_negative) for row in rows]


async def accounts_of(session: AsyncSession, owner: str) -> Sequence[Account]:
    return (
        (
            await session.execute(
                select(Account).where(Account.owner == owner).order_by(Account.asset)
            )
        )
        .scalars()
        .all()
    )


# --- transfers, entries, holds ---------------------------------------------------------------


async def find_transfer(session: AsyncSession, transfer_id: int) -> Transfer | None:
    return await session.get(Transfer, transfer_id)


async def debit_legs_of(session: AsyncSession, transfer_id: int) -> list[tuple[int, int, int]]:
    """The legs of a transfer as (debited account, credited account, amount), in leg order."""
    rows = (
        await session.execute(
            select(Entry.leg, Entry.account_id, Entry.amount)
            .where(Entry.transfer_id == transfer_id)
            .order_by(Entry.leg, Entry.amount)
        )
    ).all()
    legs: dict[int, list[tuple[int, int]]] = {}
    for row in rows:
        legs.setdefault(row.leg, []).append((row.account_id, row.amount))
    return [(sides[0][0], sides[1][0], sides[1][1]) for _, sides in sorted(legs.items())]


async def entries_page(
    session: AsyncSession,
    account_ids: Sequence[int],
    *,
    kind: str | None,
    before_id: int | None,
    limit: int,
) -> Sequence[Entry]:
    query = select(Entry).where(Entry.account_id.in_(account_ids))
    if kind is not None:
        query = query.where(Entry.kind == kind)
    if before_id is not None:
        query = query.where(Entry.id < before_id)
    return (await session.execute(query.order_by(Entry.id.desc()).limit(limit))).scalars().all()


@dataclass(frozen=True, slots=True)
class HoldRef:
    """A hold with the owners of its two accounts."""

    id: int
    account_id: int
    destination_id: int
    asset: str
    amount: int
    status: str
    owner: str
    destination: str


async def find_hold(session: AsyncSession, hold_id: int) -> HoldRef | None:
    held, sink = aliased(Account), aliased(Account)
    row = (
        await session.execute(
            select(
                Hold.id,
                Hold.account_id,
                Hold.destination_id,
                Hold.asset,
                Hold.amount,
                Hold.status,
                held.owner,
                sink.owner.label("destination"),
            )
            .join(held, held.id == Hold.account_id)
            .join(sink, sink.id == Hold.destination_id)
            .where(Hold.id == hold_id)
        )
    ).one_or_none()
    return None if row is None else HoldRef(*row)


async def expired_hold_ids(session: AsyncSession, now: datetime, limit: int) -> list[int]:
    rows = await session.execute(
        select(Hold.id)
        .where(Hold.status == HoldStatus.PENDING.value, Hold.expires_at <= now)
        .order_by(Hold.expires_at)
        .limit(limit)
    )
    return list(rows.scalars())


# --- payout accounts, withdrawals, adjustments, sponsors, VIP -----------------------------


async def payout_accounts_of(session: AsyncSession, user_id: int) -> Sequence[PayoutAccount]:
    query = (
        select(PayoutAccount)
        .where(PayoutAccount.user_id == user_id, PayoutAccount.deleted_at.is_(None))
        .order_by(PayoutAccount.id)
    )
    return (await session.execute(query)).scalars().all()


async def count_payout_accounts(session: AsyncSession, user_id: int) -> int:
    """How many payout accounts the user has saved (not removed)."""
    query = select(func.count()).where(
        PayoutAccount.user_id == user_id, PayoutAccount.deleted_at.is_(None)
    )
    return int((await session.execute(query)).scalar_one())


async def find_payout_account_by_fingerprint(
    session: AsyncSession, user_id: int, fingerprint: str
) -> PayoutAccount | None:
    query = select(PayoutAccount).where(
        PayoutAccount.user_id == user_id, PayoutAccount.fingerprint == fingerprint
    )
    return (await session.execute(query)).scalar_one_or_none()


async def find_payout_account(session: AsyncSession, payout_id: int) -> PayoutAccount | None:
    return await session.get(PayoutAccount, payout_id)


async def insert_withdrawal(connection: AsyncConnection, values: dict[str, object]) -> None:
    await connection.execute(insert(Withdrawal), values)


async def settle_withdrawal(
    connection: AsyncConnection,
    withdrawal_id: int,
    *,
    status: str,
    handler_id: str,
    remark: str | None,
    now: datetime,
) -> bool:
    """Move a pending withdrawal to `status`; False when it was not pending any more."""
    result = await connection.execute(
        update(Withdrawal)
        .where(Withdrawal.id == withdrawal_id, Withdrawal.status == "PENDING")
        .values(status=status, handler_id=handler_id, handle_remark=remark, handled_at=now)
    )
    return bool(result.rowcount == 1)


async def find_withdrawal(session: AsyncSession, withdrawal_id: int) -> Withdrawal | None:
    return await session.get(Withdrawal, withdrawal_id)


async def withdrawals_of(session: AsyncSession, user_id: int, limit: int) -> Sequence[Withdrawal]:
    query = (
        select(Withdrawal)
        .where(Withdrawal.user_id == user_id)
        .order_by(Withdrawal.id.desc())
        .limit(limit)
    )
    return (await session.execute(query)).scalars().all()


async def find_adjustment(session: AsyncSession, adjustment_id: int) -> Adjustment | None:
    return await session.get(Adjustment, adjustment_id)


async def decide_adjustment(
    connection: AsyncConnection | AsyncSession,
    adjustment_id: int,
    *,
    status: str,
    approver_id: str,
    remark: str | None,
    transfer_id: int | None,
    now: datetime,
) -> bool:
    """Approve or reject a pending adjustment, not by its applicant; False when it was not
    pending any more (decided by someone else meanwhile)."""
    result = await connection.execute(
        update(Adjustment)
        .where(
            Adjustment.id == adjustment_id,
            Adjustment.status == "PENDING",
            Adjustment.applicant_id != approver_id,
        )
        .values(
            status=status,
            approver_id=approver_id,
            approval_remark=remark,
            transfer_id=transfer_id,
            decided_at=now,
        )
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def adjustments(
    session: AsyncSession, *, status: str | None, limit: int
) -> Sequence[Adjustment]:
    query = select(Adjustment)
    if status is not None:
        query = query.where(Adjustment.status == status)
    return (
        (await session.execute(query.order_by(Adjustment.id.desc()).limit(limit))).scalars().all()
    )


async def find_sponsor(session: AsyncSession, sponsor_id: int) -> Sponsor | None:
    return await session.get(Sponsor, sponsor_id)


async def lock_vip(connection: AsyncConnection, user_id: int) -> datetime | None:
    row = (
        await connection.execute(
            select(VipMembership.ends_at).where(VipMembership.user_id == user_id).with_for_update()
        )
    ).one_or_none()
    return None if row is None else row.ends_at


async def save_vip(
    connection: AsyncConnection,
    user_id: int,
    *,
    starts_at: datetime,
    ends_at: datetime,
    exists: bool,
    now: datetime,
) -> None:
    if exists:
        await connection.execute(
            update(VipMembership)
            .where(VipMembership.user_id == user_id)
            .values(ends_at=ends_at, updated_at=now)
        )
    else:
        await connection.execute(
            insert(VipMembership).values(
                user_id=user_id, starts_at=starts_at, ends_at=ends_at, updated_at=now
            )
        )


async def find_vip(session: AsyncSession, user_id: int) -> VipMembership | None:
    return await session.get(VipMembership, user_id)


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
