"""Users and identities as plain views, for modules that must not read identity's tables
(access's staff view of a user). Thin functions over `IdentityService`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.identity.errors import UserNotFound
from usercenter.identity.models import User, UserStatus
from usercenter.identity.service import IdentityService


@dataclass(frozen=True, slots=True)
class UserSummary:
    """A user's account, without identities: what a staff list shows."""

    id: int
    uid: str
    nickname: str | None
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class IdentityRecord:
    """One login identity with its identifier in clear: the caller decides what to show."""

    id: int
    type: str
    provider: str
    identifier: str
    created_at: datetime


def _summary(user: User) -> UserSummary:
    return UserSummary(user.id, user.uid, user.nickname, user.status, user.created_at)


async def user_summary_or_raise(
    identity: IdentityService, session: AsyncSession, user_id: int
) -> UserSummary:
    """Raises UserNotFound (also for a deleted user)."""
    return _summary(await identity.get_user_or_raise(session, user_id))


async def is_active_user(identity: IdentityService, session: AsyncSession, user_id: int) -> bool:
    try:
        user = await identity.get_user_or_raise(session, user_id)
    except UserNotFound:
        return False
    return user.status == UserStatus.ACTIVE


async def search_user_summaries(
    identity: IdentityService,
    session: AsyncSession,
    *,
    uid: str | None,
    phone: str | None,
    nickname: str | None,
    status: str | None,
    before_id: int | None,
    limit: int,
) -> list[UserSummary]:
    """Staff search (`IdentityService.search_users`), newest first, ids below `before_id`."""
    users = await identity.search_users(
        session,
        uid=uid,
        phone=phone,
        nickname=nickname,
        status=status,
        before_id=before_id,
        limit=limit,
    )
    return [_summary(user) for user in users]


async def identity_records(
    identity: IdentityService, session: AsyncSession, user_id: int
) -> list[IdentityRecord]:
    """The user's identities, identifiers decrypted."""
    return [
        IdentityRecord(row.id, row.type, row.provider, shown, row.created_at)
        for row, shown in await identity.identities_for_staff(session, user_id, reveal=True)
    ]


async def enable_user_summary(
    identity: IdentityService, session: AsyncSession, user_id: int
) -> UserSummary:
    """Enable a disabled user (`IdentityService.enable_user`). Raises UserNotFound."""
    return _summary(await identity.enable_user(session, user_id))
