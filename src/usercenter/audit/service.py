"""Recording and reading authentication events. Rows are written in the caller's transaction,
so an event stands or falls with the change it describes."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.audit import repository
from usercenter.audit.models import AuthEvent, AuthEventKind, ProfileChange
from usercenter.kit import clock
from usercenter.kit.client import ClientInfo
from usercenter.kit.pagination import Page, decode_cursor, encode_cursor

LOGIN_HISTORY_KINDS = (
    AuthEventKind.REGISTER,
    AuthEventKind.LOGIN,
    AuthEventKind.LOGIN_FAILED,
    AuthEventKind.LOGOUT,
)


async def record_auth_event(
    session: AsyncSession,
    kind: AuthEventKind,
    *,
    user_id: int | None,
    client: ClientInfo,
    method: str | None = None,
    reason: str | None = None,
    session_id: str | None = None,
    platform: str | None = None,
) -> None:
    device = client.device
    await repository.add_auth_event(
        session,
        AuthEvent(
            user_id=user_id,
            kind=kind.value,
            method=method,
            reason=reason,
            session_id=session_id,
            platform=platform,
            client_version=device.client_version,
            device_id=device.device_id,
            os_name=device.os_name,
            os_version=device.os_version,
            ip=client.ip,
            user_agent=(client.user_agent or "")[:255] or None,
            created_at=clock.now(),
        ),
    )


async def login_history(
    session: AsyncSession, user_id: int, *, cursor: str | None, limit: int
) -> Page[AuthEvent]:
    """Newest first; `cursor` from the previous page's `next_cursor`."""
    before = decode_cursor(cursor)
    rows = await repository.auth_events_of(
        session, user_id, [k.value for k in LOGIN_HISTORY_KINDS], before, limit + 1
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=rows, next_cursor=encode_cursor(rows[-1].id) if has_more else None)


async def record_profile_change(
    session: AsyncSession,
    *,
    user_id: int,
    action: str,
    attribute: str,
    client: ClientInfo,
    old_value: str | None = None,
    new_value: str | None = None,
) -> None:
    """Log a bind, unbind, rebind, merge or update; callers pass values already masked."""
    await repository.add_profile_change(
        session,
        ProfileChange(
            user_id=user_id,
            action=action,
            attribute=attribute,
            old_value=old_value,
            new_value=new_value,
            ip=client.ip,
            created_at=clock.now(),
        ),
    )
