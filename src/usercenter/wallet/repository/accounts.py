"""SQL of the wallet's accounts, transfers, entries and holds (reads beside the ledger)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from usercenter.wallet.models import (
    Account,
    Entry,
    Hold,
    HoldStatus,
    Transfer,
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


async def balances_of_owners(
    session: AsyncSession, owners: Sequence[str], asset: str
) -> dict[str, tuple[int, int]]:
    """(balance, frozen) of each of `owners` in `asset` that has an account (one query)."""
    if not owners:
        return {}
    rows = await session.execute(
        select(Account.owner, Account.balance, Account.frozen).where(
            Account.owner.in_(owners), Account.asset == asset
        )
    )
    return {row.owner: (row.balance, row.frozen) for row in rows}


async def totals_by_asset(session: AsyncSession, owner_prefix: str) -> list[tuple[str, int]]:
    """The sum of the balances of every account whose owner starts with `owner_prefix`
    (`user:`), per asset: one aggregate query over a range of the (owner, asset) index."""
    rows = await session.execute(
        select(Account.asset, func.coalesce(func.sum(Account.balance), 0))
        .where(Account.owner.like(f"{owner_prefix}%"))
        .group_by(Account.asset)
        .order_by(Account.asset)
    )
    return [(asset, int(total)) for asset, total in rows.all()]


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
