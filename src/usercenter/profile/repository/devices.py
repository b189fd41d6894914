"""The SQL of devices: one row per user and platform, written by a single upsert."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.profile.models import UserDevice

_devices = UserDevice.metadata.tables[UserDevice.__tablename__]
_KEY = ("user_id", "platform")


async def upsert_device(
    session: AsyncSession, values: dict[str, Any], *, overwrite: frozenset[str] = frozenset()
) -> None:
    """Insert the row of (user, platform), or update it with `values`: one statement on every
    database. A column sent as None keeps what it holds (a login that names fewer headers than
    the last one forgets nothing), except those in `overwrite`, written as sent."""
    dialect = session.get_bind().dialect.name
    columns = [name for name in values if name not in _KEY and name != "created_at"]
    if dialect in {"postgresql", "sqlite"}:
        upsert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_devices)
        statement = upsert.values(values)
        sent = statement.excluded
        set_ = {
            name: sent[name] if name in overwrite else func.coalesce(sent[name], _devices.c[name])
            for name in columns
        }
        await session.execute(statement.on_conflict_do_update(index_elements=list(_KEY), set_=set_))
        return
    mysql_upsert = mysql.insert(_devices).values(values)
    inserted = mysql_upsert.inserted
    await session.execute(
        mysql_upsert.on_duplicate_key_update(
            {
                name: inserted[name]
                if name in overwrite
                else func.coalesce(inserted[name], _devices.c[name])
                for name in columns
            }
        )
    )


async def devices_of(session: AsyncSession, user_id: int) -> list[UserDevice]:
    rows = await session.scalars(
        select(UserDevice)
        .where(UserDevice.user_id == user_id)
        .order_by(UserDevice.updated_at.desc(), UserDevice.platform)
    )
    return list(rows)


async def device_of(session: AsyncSession, user_id: int, platform: str) -> UserDevice | None:
    return await session.get(UserDevice, (user_id, platform), populate_existing=True)
