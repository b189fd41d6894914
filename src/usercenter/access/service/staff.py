"""Staff accounts: the console's operators, their creation with roles, their status, and
the list of them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.access import repository
from usercenter.access.errors import StaffNotFound, StaffUsernameTaken
from usercenter.access.events import StaffCreated, StaffDisabled, StaffEnabled
from usercenter.access.models import StaffAccount, Status, SubjectType
from usercenter.access.service.changes import AccessChanges
from usercenter.access.service.permissions import (
    Effective,
    PermissionService,
    Subject,
    codes_in,
    within,
)
from usercenter.access.service.rbac import RbacService
from usercenter.db import Database
from usercenter.ids.service import IdService
from usercenter.kit import clock
from usercenter.kit.events import EventSink
from usercenter.kit.pagination import Page, keyset_page
from usercenter.security.passwords import PasswordHasher, PasswordPolicy
from usercenter.tokens.service import TokenService

STAFF_ID_SEGMENT = "STAFF"


class StaffService:
    def __init__(
        self,
        *,
        database: Database,
        ids: IdService,
        passwords: PasswordHasher,
        policy: PasswordPolicy,
        permissions: PermissionService,
        rbac: RbacService,
        tokens: TokenService,
        outbox: EventSink,
    ) -> None:
        self.database = database
        self.ids = ids
        self.passwords = passwords
        self.policy = policy
        self.permissions = permissions
        self.rbac = rbac
        self.tokens = tokens
        self.changes = AccessChanges(outbox)

    async def staff_username(self, staff_id: int) -> str:
        """A staff member's login name, read outside the caller's transaction (which on SQLite
        would take the write lock before the call's work has begun). Raises StaffNotFound."""
        async with self.database.read_session() as session:
            return (await self.get_staff_or_raise(session, staff_id)).username

    async def get_staff_or_raise(self, session: AsyncSession, staff_id: int) -> StaffAccount:
        staff = await repository.get_staff(session, staff_id)
        if staff is None:
            raise StaffNotFound()
        return staff

    async def create_staff(
        self,
        session: AsyncSession,
        *,
        username: str,
        password: str,
        display_name: str | None = None,
        user_id: int | None = None,
        related_partner_id: int | None = None,
        roles: Sequence[str] = (),
        created_by: int | None = None,
        ceiling: Effective | None,
    ) -> StaffAccount:
        """A staff account holding `roles` everywhere, and its `staff.created` event naming
        them. Raises StaffUsernameTaken, PasswordTooWeak, RoleNotFound, RoleAudienceMismatch
        (a user role), GrantExists (a role twice), or PrivilegeExceeded when a role holds what
        `ceiling` does not."""
        name = username.strip().lower()
        for code in roles:
            held = await self.rbac.role_codes(session, code)
            within(ceiling, codes_in(held))
        if await repository.staff_by_username(session, name) is not None:
            raise StaffUsernameTaken()
        self.policy.check(password, context_words=[name])
        now = clock.now()
        staff = StaffAccount(
            id=await self.ids.next_id(STAFF_ID_SEGMENT, session=session),
            username=name,
            display_name=display_name,
            password_hash=await self.passwords.hash_async(password),
            totp_last_step=0,
            status=Status.ACTIVE,
            user_id=user_id,
            related_partner_id=related_partner_id,
            created_by=created_by,
            created_at=now,
            updated_at=now,
        )
        try:
            await repository.add(session, staff)
        except IntegrityError:
            raise StaffUsernameTaken() from None
        await self.changes.add(
            session,
            StaffCreated(
                staff_id=staff.id,
                by_staff_id=created_by,
                username=staff.username,
                role_codes=sorted(set(roles)),
            ),
        )
        for code in roles:
            await self.rbac.grant(
                session,
                subject=Subject(SubjectType.STAFF, staff.id),
                role_code=code,
                granted_by=created_by,
                ceiling=None,  # checked above, before the account existed
                announce=False,  # named by staff.created
            )
        return staff

    async def set_staff_status(
        self,
        session: AsyncSession,
        staff_id: int,
        status: Status,
        *,
        ceiling: Effective | None,
        by_staff_id: int | None = None,
    ) -> StaffAccount:
        """Disable (every session ends, permissions go at once) or enable a staff account;
        `staff.disabled` or `staff.enabled` when the status changes. Raises StaffNotFound, or
        PrivilegeExceeded when they hold what `ceiling` does not."""
        staff = await repository.lock_staff(session, staff_id)
        if staff is None:
            raise StaffNotFound()
        await self.permissions.staff_within(session, staff.id, ceiling)
        if staff.status != status:
            kind = StaffDisabled if status == Status.DISABLED else StaffEnabled
            await self.changes.add(session, kind(staff_id=staff.id, by_staff_id=by_staff_id))
        staff.status = status
        staff.updated_at = clock.now()
        await session.flush()
        await self.permissions.changed(session)
        if status == Status.DISABLED:
            await self.tokens.end_staff_sessions(
                session, staff_id=staff.id, reason="staff_disabled"
            )
        return staff

    async def list_staff(
        self, session: AsyncSession, *, cursor: str | None, limit: int
    ) -> Page[StaffAccount]:
        """Staff accounts, newest first; `cursor` from the previous page."""
        return await keyset_page(
            lambda before, size: repository.list_staff(session, before, size),
            cursor=cursor,
            limit=limit,
        )
