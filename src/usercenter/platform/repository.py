"""Every SQL statement of the platform module."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.platform.models import ClientApp, SysConfig, SysDict

# --- client apps ----------------------------------------------------------------------------


async def find_client_app(session: AsyncSession, app_type: str, app_id: str) -> ClientApp | None:
    return await session.scalar(
        select(ClientApp).where(ClientApp.app_type == app_type, ClientApp.app_id == app_id)
    )


async def client_app_by_id(session: AsyncSession, row_id: int) -> ClientApp | None:
    return await session.get(ClientApp, row_id)


async def active_client_apps(session: AsyncSession) -> list[ClientApp]:
    rows = await session.scalars(
        select(ClientApp).where(ClientApp.is_active.is_(True)).order_by(ClientApp.id)
    )
    return list(rows)


async def all_client_apps(session: AsyncSession) -> list[ClientApp]:
    rows = await session.scalars(
        select(ClientApp).order_by(ClientApp.app_type, ClientApp.app_id, ClientApp.id)
    )
    return list(rows)


async def config_managed_client_apps(session: AsyncSession) -> list[ClientApp]:
    rows = await session.scalars(select(ClientApp).where(ClientApp.managed_by == "config"))
    return list(rows)


# --- dictionaries ---------------------------------------------------------------------------


async def dict_page(
    session: AsyncSession, dict_type: str | None, before_id: int | None, size: int
) -> list[SysDict]:
    query = select(SysDict)
    if dict_type is not None:
        query = query.where(SysDict.dict_type == dict_type)
    if before_id is not None:
        query = query.where(SysDict.id < before_id)
    rows = await session.scalars(query.order_by(SysDict.id.desc()).limit(size))
    return list(rows)


async def dict_types(session: AsyncSession) -> list[tuple[str, int, int]]:
    """(dict_type, entries, active entries) for each type, by type."""
    rows = await session.execute(
        select(SysDict.dict_type, func.count(), SysDict.is_active)
        .group_by(SysDict.dict_type, SysDict.is_active)
        .order_by(SysDict.dict_type)
    )
    counts: dict[str, list[int]] = {}
    for dict_type, count, is_active in rows:
        entry = counts.setdefault(dict_type, [0, 0])
        entry[0] += int(count)
        if is_active:
            entry[1] += int(count)
    return [(dict_type, total, active_count) for dict_type, (total, active_count) in counts.items()]


async def dict_by_id(session: AsyncSession, row_id: int, *, lock: bool = False) -> SysDict | None:
    query = select(SysDict).where(SysDict.id == row_id)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def find_dict(session: AsyncSession, dict_type: str, dict_code: str) -> SysDict | None:
    return await session.scalar(
        select(SysDict).where(SysDict.dict_type == dict_type, SysDict.dict_code == dict_code)
    )


async def dict_parent_of(session: AsyncSession, row_id: int) -> int | None:
    return await session.scalar(select(SysDict.parent_id).where(SysDict.id == row_id))


async def dict_has_children(session: AsyncSession, row_id: int) -> bool:
    found = await session.scalar(select(SysDict.id).where(SysDict.parent_id == row_id).limit(1))
    return found is not None


# --- configuration --------------------------------------------------------------------------


async def all_config(session: AsyncSession) -> list[SysConfig]:
    rows = await session.scalars(
        select(SysConfig).order_by(SysConfig.config_group, SysConfig.config_key)
    )
    return list(rows)


async def config_by_key(session: AsyncSession, key: str, *, lock: bool = False) -> SysConfig | None:
    query = select(SysConfig).where(SysConfig.config_key == key)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)
