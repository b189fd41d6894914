"""The SQL of a user's last known location."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.profile.models import UserLocation


async def location_of(
    session: AsyncSession, user_id: int, *, lock: bool = False
) -> UserLocation | None:
    return await session.get(
        UserLocation, user_id, populate_existing=True, with_for_update=lock or None
    )


async def add_location(session: AsyncSession, row: UserLocation) -> None:
    session.add(row)
    await session.flush()


async def erase_coordinates(session: AsyncSession, user_id: int) -> bool:
    """Forget the precise location; whether there was one."""
    result = await session.execute(
        update(UserLocation)
        .where(UserLocation.user_id == user_id, UserLocation.coordinates_encrypted.is_not(None))
        .values(coordinates_encrypted=None)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
