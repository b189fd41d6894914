"""The SQL of a user's last known location."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.profile.models import UserLocation
from usercenter.profile.repository.upserts import insert_ignoring_duplicates

_locations = UserLocation.metadata.tables[UserLocation.__tablename__]


async def location_of(
    session: AsyncSession, user_id: int, *, lock: bool = False
) -> UserLocation | None:
    return await session.get(
        UserLocation, user_id, populate_existing=True, with_for_update=lock or None
    )


async def location_for_update(
    session: AsyncSession, user_id: int, source: str, now: datetime
) -> UserLocation:
    """The user's row, inserted first (empty) unless it exists, then locked: parallel first
    writes neither collide nor, on MariaDB, deadlock on the gap of a missing row."""
    values = {"user_id": user_id, "source": source, "located_at": now, "updated_at": now}
    await session.execute(insert_ignoring_duplicates(session, _locations, values))
    row = await location_of(session, user_id, lock=True)
    assert row is not None  # just ensured
    return row


async def erase_coordinates(session: AsyncSession, user_id: int) -> bool:
    """Forget the precise location; whether there was one."""
    result = await session.execute(
        update(UserLocation)
        .where(UserLocation.user_id == user_id, UserLocation.coordinates_encrypted.is_not(None))
        .values(coordinates_encrypted=None)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
