"""Every SQL statement of the audit module."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.audit.models import AuthEvent, ProfileChange

_auth_events = AuthEvent.metadata.tables[AuthEvent.__tablename__]
_INSERT_AUTH_EVENT = insert(_auth_events)


async def add_auth_event(session: AsyncSession, event: AuthEvent) -> None:
    """A Core INSERT (on every login: the ORM's flush costs more than the insert)."""
    values = {c.key: getattr(event, c.key) for c in _auth_events.c if c.key != "id"}
    await session.execute(_INSERT_AUTH_EVENT, values)


async def auth_events_of(
    session: AsyncSession, user_id: int, kinds: Sequence[str], before_id: int | None, limit: int
) -> list[AuthEvent]:
    query = select(AuthEvent).where(AuthEvent.user_id == user_id, AuthEvent.kind.in_(kinds))
    if before_id is not None:
        query = query.where(AuthEvent.id < before_id)
    rows = await session.scalars(query.order_by(AuthEvent.id.desc()).limit(limit))
    return list(rows)


async def add_profile_change(session: AsyncSession, change: ProfileChange) -> None:
    session.add(change)
    await session.flush()
