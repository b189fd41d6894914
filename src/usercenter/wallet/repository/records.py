"""SQL of the wallet's records beside the ledger: payout accounts, withdrawals, adjustments,
sponsors and VIP memberships."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from usercenter.wallet.models import (
    Adjustment,
    PayoutAccount,
    Sponsor,
    VipMembership,
    Withdrawal,
)


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


# --- staff lists and the dashboard's figures ----------------------------------------------


async def withdrawals_page(
    session: AsyncSession,
    *,
    status: str | None,
    user_id: int | None,
    before_id: int | None,
    limit: int,
) -> Sequence[Withdrawal]:
    query = select(Withdrawal)
    if status is not None:
        query = query.where(Withdrawal.status == status)
    if user_id is not None:
        query = query.where(Withdrawal.user_id == user_id)
    if before_id is not None:
        query = query.where(Withdrawal.id < before_id)
    return (
        (await session.execute(query.order_by(Withdrawal.id.desc()).limit(limit))).scalars().all()
    )


async def pending_withdrawals(session: AsyncSession) -> tuple[int, int]:
    """How many withdrawals wait for staff, and their amount in fen (one query)."""
    row = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Withdrawal.amount), 0)).where(
                Withdrawal.status == "PENDING"
            )
        )
    ).one()
    return int(row[0]), int(row[1])


async def count_adjustments(session: AsyncSession, status: str) -> int:
    query = select(func.count()).where(Adjustment.status == status)
    return int((await session.execute(query)).scalar_one())


async def sponsors_page(
    session: AsyncSession, *, status: str | None, before_id: int | None, limit: int
) -> Sequence[Sponsor]:
    query = select(Sponsor)
    if status is not None:
        query = query.where(Sponsor.status == status)
    if before_id is not None:
        query = query.where(Sponsor.id < before_id)
    return (await session.execute(query.order_by(Sponsor.id.desc()).limit(limit))).scalars().all()
