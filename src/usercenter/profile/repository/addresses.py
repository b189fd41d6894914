"""Every SQL statement of the addresses."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.profile.models import UserAddress


async def live_addresses(session: AsyncSession, user_id: int) -> list[UserAddress]:
    """A user's addresses not deleted: the default first, then the most recently changed.
    Read fresh (`populate_existing`): after the user's lock it is what the last holder left."""
    rows = await session.scalars(
        select(UserAddress)
        .where(UserAddress.user_id == user_id, UserAddress.deleted_at.is_(None))
        .order_by(
            UserAddress.is_default.desc(), UserAddress.updated_at.desc(), UserAddress.id.desc()
        )
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def live_address(session: AsyncSession, user_id: int, address_id: int) -> UserAddress | None:
    return await session.scalar(
        select(UserAddress).where(
            UserAddress.id == address_id,
            UserAddress.user_id == user_id,
            UserAddress.deleted_at.is_(None),
        )
    )


async def default_address(session: AsyncSession, user_id: int) -> UserAddress | None:
    return await session.scalar(
        select(UserAddress)
        .where(
            UserAddress.user_id == user_id,
            UserAddress.deleted_at.is_(None),
            UserAddress.is_default.is_(True),
        )
        .order_by(UserAddress.id)
        .limit(1)
    )


async def add_address(session: AsyncSession, row: UserAddress) -> None:
    session.add(row)
    await session.flush()
