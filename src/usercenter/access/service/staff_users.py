"""The staff view of a user: search, the detail page with its personal data masked unless a
holder of `user:pii:view` asks to see it (and the log entry then says so), and the staff
actions on a user's account."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.access.errors import PermissionDenied
from usercenter.access.service.permissions import Effective
from usercenter.audit import service as audit_service
from usercenter.audit.service import AuditDraft, LoginEventView
from usercenter.identity.service.accounts import UserAccounts
from usercenter.identity.views import IdentityRecord, UserSummary
from usercenter.kit.client import ClientInfo
from usercenter.kit.pagination import Page
from usercenter.security.masking import mask_device_id, mask_identifier, mask_ip
from usercenter.tokens.service import SessionView, TokenService

RECENT_LOGINS = 20
PII_PERMISSION = "user:pii:view"


@dataclass(frozen=True, slots=True)
class StaffUserDetail:
    """A user for staff: identities, live sessions and recent logins, the identifiers,
    addresses and device ids in them masked unless revealed."""

    user: UserSummary
    identities: list[IdentityRecord]
    sessions: list[SessionView]
    logins: list[LoginEventView]
    pii_revealed: bool


def shown_ip(address: str | None, *, reveal: bool) -> str | None:
    return address if reveal or address is None else mask_ip(address)


def shown_device_id(device_id: str | None, *, reveal: bool) -> str | None:
    return device_id if reveal or device_id is None else mask_device_id(device_id)


class StaffUserService:
    def __init__(self, identity: UserAccounts, tokens: TokenService) -> None:
        self.identity = identity
        self.tokens = tokens

    async def search_users(
        self,
        session: AsyncSession,
        *,
        uid: str | None,
        phone: str | None,
        nickname: str | None,
        status: str | None,
        cursor: str | None,
        limit: int,
    ) -> Page[UserSummary]:
        """By uid, phone (exact), nickname, status; newest first, `cursor` from the previous
        page."""
        return await self.identity.search_users(
            session,
            uid=uid,
            phone=phone,
            nickname=nickname,
            status=status,
            cursor=cursor,
            limit=limit,
        )

    async def user_detail(
        self,
        session: AsyncSession,
        *,
        effective: Effective,
        audit: AuditDraft,
        user_id: int,
        reveal: bool,
    ) -> StaffUserDetail:
        """A user with identities, live sessions and recent logins, masked; whole only for a
        holder of `user:pii:view` who asks, and then the log entry says so. Raises
        PermissionDenied, UserNotFound."""
        if reveal and not effective.allows(PII_PERMISSION):
            raise PermissionDenied(permission=PII_PERMISSION)
        user = await self.identity.get_user_or_raise(session, user_id)
        identities = await self.identity.identity_records(session, user_id)
        sessions = await self.tokens.list_sessions(session, user_id)
        logins = await audit_service.login_history(
            session, user_id, cursor=None, limit=RECENT_LOGINS
        )
        if reveal:
            audit.notes["pii_revealed"] = True
            audit.action = audit_service.PERSONAL_DATA_VIEWED
        return StaffUserDetail(
            user=user,
            identities=[
                i if reveal else replace(i, identifier=mask_identifier(i.type, i.identifier))
                for i in identities
            ],
            sessions=[
                replace(
                    s,
                    ip=shown_ip(s.ip, reveal=reveal),
                    device_id=shown_device_id(s.device_id, reveal=reveal),
                )
                for s in sessions
            ],
            logins=[
                replace(
                    e,
                    ip=shown_ip(e.ip, reveal=reveal),
                    device_id=shown_device_id(e.device_id, reveal=reveal),
                )
                for e in logins.items
            ],
            pii_revealed=reveal,
        )

    async def login_history(
        self, session: AsyncSession, user_id: int, *, cursor: str | None, limit: int
    ) -> Page[LoginEventView]:
        """The user's registrations, logins, failed logins and logouts, newest first, the
        addresses and device ids masked (a whole one is a reveal: the detail page's).
        Raises UserNotFound, ValidationFailed (field `cursor`)."""
        await self.identity.get_user_or_raise(session, user_id)
        page = await audit_service.login_history(session, user_id, cursor=cursor, limit=limit)
        return Page(
            items=[
                replace(
                    e,
                    ip=shown_ip(e.ip, reveal=False),
                    device_id=shown_device_id(e.device_id, reveal=False),
                )
                for e in page.items
            ],
            next_cursor=page.next_cursor,
        )

    async def end_sessions(self, session: AsyncSession, user_id: int) -> int:
        """End every live session of the user (the account stays enabled: they may log in
        again); how many ended. Raises UserNotFound."""
        await self.identity.get_user_or_raise(session, user_id)
        ended = await self.tokens.end_sessions(session, user_id=user_id, reason="staff_revoked")
        return len(ended)

    async def disable_user(
        self, session: AsyncSession, user_id: int, *, by_staff_id: int | None = None
    ) -> None:
        """Every session of the user ends at once. Raises UserNotFound."""
        await self.identity.disable_user(session, user_id, by_staff_id=by_staff_id)

    async def enable_user(
        self, session: AsyncSession, user_id: int, *, by_staff_id: int | None = None
    ) -> UserSummary:
        """Raises UserNotFound."""
        return await self.identity.enable_user(session, user_id, by_staff_id=by_staff_id)

    async def unbind_identity(
        self,
        session: AsyncSession,
        user_id: int,
        identity_id: int,
        client: ClientInfo,
        *,
        by_staff_id: int | None = None,
    ) -> None:
        """Remove an identity of a user who lost access to it. Raises UserNotFound."""
        await self.identity.unbind_for_staff(
            session, user_id, identity_id, client, by_staff_id=by_staff_id
        )
