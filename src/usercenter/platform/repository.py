"""Every SQL statement of the platform module."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.platform.models import ClientApp


async def find_client_app(session: AsyncSession, app_type: str, app_id: str) -> ClientApp | None:
    return await session.scalar(
        select(ClientApp).where(ClientApp.app_type == app_type, ClientApp.app_id == app_id)
    )


async def active_client_apps(session: AsyncSession) -> list[ClientApp]:
    rows = await session.scalars(
        select(ClientApp).where(ClientApp.is_active.is_(True)).order_by(ClientApp.id)
    )
    return list(rows)
