"""Every SQL statement of the audit module."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.audit.models import AdminLog, AuthEvent, ProfileChange

_auth_events = AuthEvent.metadata.tables[AuthEvent.__tablename__]
_INSERT_AUTH_EVENT = insert(_auth_events)
ADMIN_LOG = AdminLog.metadata.tables[AdminLog.__tablename__]
_INSERT_ADMIN_LOG = insert(ADMIN_LOG)


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


async def profile_changes_of(
    session: AsyncSession,
    user_id: int,
    attribute: str | None,
    before_id: int | None,
    limit: int,
) -> list[ProfileChange]:
    """Newest first; `attribute`: only the attributes that start with it (`extends.`)."""
    query = select(ProfileChange).where(ProfileChange.user_id == user_id)
    if attribute:
        query = query.where(ProfileChange.attribute.startswith(attribute, autoescape=True))
    if before_id is not None:
        query = query.where(ProfileChange.id < before_id)
    rows = await session.scalars(query.order_by(ProfileChange.id.desc()).limit(limit))
    return list(rows)


async def add_admin_log(session: AsyncSession, values: Mapping[str, Any]) -> None:
    await session.execute(_INSERT_ADMIN_LOG, dict(values))


async def admin_log_page(
    session: AsyncSession,
    *,
    before_id: int | None,
    limit: int,
    staff_id: int | None,
    action: str | None,
    target_type: str | None,
    target_id: str | None,
    since: datetime | None,
    until: datetime | None,
    changes_only: bool = False,
    kept_reads: tuple[str, ...] = (),
) -> list[AdminLog]:
    query = select(AdminLog)
    if changes_only:
        # Leaves out the reads that went through (GET answered ok), but for `kept_reads`.
        query = query.where(
            or_(
                AdminLog.method.not_in(("GET", "HEAD")),
                AdminLog.result != "ok",
                AdminLog.action.in_(kept_reads),
            )
        )
    if before_id is not None:
        query = query.where(AdminLog.id < before_id)
    if staff_id is not None:
        query = query.where(AdminLog.staff_id == staff_id)
    if action is not None:
        query = query.where(AdminLog.action == action)
    if target_type is not None:
        query = query.where(AdminLog.target_type == target_type)
    if target_id is not None:
        query = query.where(AdminLog.target_id == target_id)
    if since is not None:
        query = query.where(AdminLog.created_at >= since)
    if until is not None:
        query = query.where(AdminLog.created_at < until)
    return list(await session.scalars(query.order_by(AdminLog.id.desc()).limit(limit)))


async def login_counts(
    session: AsyncSession, kind: str, start: datetime, end: datetime
) -> tuple[int, dict[str, int]]:
    """Events of `kind` in [start, end) (an index range on auth_events.created_at): how many
    distinct users, and how many events per method."""
    window = (AuthEvent.kind == kind, AuthEvent.created_at >= start, AuthEvent.created_at < end)
    users = (
        await session.execute(select(func.count(func.distinct(AuthEvent.user_id))).where(*window))
    ).scalar_one()
    rows = await session.execute(
        select(AuthEvent.method, func.count()).where(*window).group_by(AuthEvent.method)
    )
    return int(users), {(method or "unknown"): int(n) for method, n in rows.all()}


async def first_auth_event_at(session: AsyncSession) -> datetime | None:
    return (await session.execute(select(func.min(AuthEvent.created_at)))).scalar_one_or_none()
