"""Users as other modules and staff see them: creating one, looking one up, searching,
disabling and enabling, and a staff unbind. What leaves here is a view, never a row."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.audit import service as audit
from usercenter.audit.models import ChangeActor
from usercenter.db import Database
from usercenter.identity import repository
from usercenter.identity.errors import IdentityTaken, UserNotFound
from usercenter.identity.events import UserDisabled, UserEnabled, UserRegistered
from usercenter.identity.models import IdentityType, User, UserStatus
from usercenter.identity.service.context import (
    USER_ID_SEGMENT,
    IdentityContext,
    IdentitySpec,
    masked_identifier,
)
from usercenter.identity.service.normalize import normalize_phone
from usercenter.identity.views import IdentityRecord, UserSummary
from usercenter.kit import clock
from usercenter.kit.client import ClientInfo
from usercenter.kit.pagination import Page, keyset_page
from usercenter.security.masking import mask_identifier


def summary_of(user: User) -> UserSummary:
    return UserSummary(
        id=user.id,
        uid=user.uid,
        nickname=user.nickname,
        status=user.status,
        created_at=user.created_at,
    )


class UserAccounts:
    def __init__(self, context: IdentityContext) -> None:
        self.context = context

    # --- creating -------------------------------------------------------------------------

    async def insert_user(
        self,
        session: AsyncSession,
        *,
        method: str,
        identities: list[IdentitySpec],
        province: str | None,
        password_hash: str | None = None,
        nickname: str | None = None,
        avatar_url: str | None = None,
        platform: str | None = None,
    ) -> User:
        """A new user row with its identities (and the unionid they carry), in a savepoint:
        IdentityTaken, naming the first identity's type, if one is taken meanwhile. For the
        identity services, which go on to log the user in (on `platform`, which the
        `user.registered` event names)."""
        context = self.context
        now = clock.now()
        code = province or context.settings.uid_default_province
        user = User(
            id=await context.ids.next_id(USER_ID_SEGMENT, session=session),
            uid=await context.ids.next_uid(code, session=session),
            nickname=nickname,
            avatar_url=avatar_url,
            gender=0,
            status=UserStatus.ACTIVE,
            register_method=method,
            created_at=now,
            updated_at=now,
        )
        try:
            async with session.begin_nested():
                session.add(user)
                await session.flush()
                for spec in identities:
                    session.add(context.new_identity(user.id, spec))
                    if spec.union_id:
                        await repository.add_union(session, spec.provider, spec.union_id, user.id)
                await session.flush()
        except IntegrityError:
            raise IdentityTaken(field=identities[0].type) from None
        if password_hash is not None:
            await repository.set_password_hash(session, user.id, password_hash, now)
        phone = next((spec.value for spec in identities if spec.type == IdentityType.PHONE), None)
        await context.outbox.add(
            session,
            UserRegistered(
                user_id=user.id,
                uid=user.uid,
                method=method,
                platform=platform,
                phone_masked=masked_identifier(IdentityType.PHONE, phone) if phone else None,
            ),
        )
        return user

    async def create_user(
        self,
        session: AsyncSession,
        *,
        method: str,
        identities: list[IdentitySpec],
        province: str | None,
        password_hash: str | None = None,
    ) -> UserSummary:
        """A new active user with these identities (none: a user who logs in only once a
        method is bound) and optionally a password hash. Raises IdentityTaken."""
        user = await self.insert_user(
            session,
            method=method,
            identities=identities,
            province=province,
            password_hash=password_hash,
        )
        return summary_of(user)

    # --- looking up -----------------------------------------------------------------------

    async def get_user_or_raise(self, session: AsyncSession, user_id: int) -> UserSummary:
        """The user; UserNotFound for no user or a deleted one."""
        return summary_of(await self.context.user_or_raise(session, user_id))

    async def lock_user_or_raise(self, session: AsyncSession, user_id: int) -> UserSummary:
        """The user, their row locked for the rest of the caller's transaction: what
        serialises one user's changes to rows other modules keep (the profile's addresses).
        UserNotFound for no user or a deleted one."""
        user = await repository.lock_user(session, user_id)
        if user is None or user.status == UserStatus.DELETED:
            raise UserNotFound()
        return summary_of(user)

    async def is_active_user(self, session: AsyncSession, user_id: int) -> bool:
        """Whether the id is an active user's (False for no user, a disabled or deleted one)."""
        return await repository.user_status(session, user_id) == UserStatus.ACTIVE

    async def status_of(self, database: Database, user_id: int) -> str | None:
        """A user's status (`active`, `disabled`, `deleted`), None for an id that is no user's:
        from the cached view when there, else one primary-key read. For callers that only gate
        on the status (the wallet's payees), so a user not seen lately costs no view build."""
        cached = await self.context.views.cached(user_id)
        if cached is not None:
            return cached.status
        async with database.read_session() as session:
            return await repository.user_status(session, user_id)

    # --- for staff (issue 7) --------------------------------------------------------------

    async def registrations_between(
        self, session: AsyncSession, start: datetime, end: datetime
    ) -> int:
        """How many users were created in [start, end): the statistics rollup's count."""
        return await repository.count_users_created(session, start, end)

    async def first_registration(self, session: AsyncSession) -> datetime | None:
        """When the first user was created (None: no user yet)."""
        return await repository.first_user_created_at(session)

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
        """Staff search, newest first: by uid, by phone (exact, through the blind index), by
        nickname, by status; filters combine. Raises ValidationFailed (field `cursor`),
        PhoneInvalid."""

        async def fetch(before_id: int | None, size: int) -> list[User]:
            user_id: int | None = None
            if phone:
                found = await self.context.find(
                    session, IdentityType.PHONE, normalize_phone(phone).e164
                )
                if found is None:
                    return []
                user_id = found.user_id
            return await repository.search_users(
                session,
                user_id=user_id,
                uid=uid,
                nickname=nickname,
                status=status,
                before_id=before_id,
                limit=size,
            )

        page = await keyset_page(fetch, cursor=cursor, limit=limit)
        return Page(items=[summary_of(user) for user in page.items], next_cursor=page.next_cursor)

    async def identity_records(self, session: AsyncSession, user_id: int) -> list[IdentityRecord]:
        """The user's identities, identifiers whole (decrypted): the caller decides what to
        show."""
        return [
            IdentityRecord(
                id=identity.id,
                type=identity.type,
                provider=identity.provider,
                identifier=self.context.reveal(identity),
                created_at=identity.created_at,
            )
            for identity in await repository.identities_of(session, user_id)
        ]

    async def identities_for_staff(
        self, session: AsyncSession, user_id: int, *, reveal: bool
    ) -> list[IdentityRecord]:
        """The user's identities with their identifier masked (or whole, `reveal`)."""
        records = await self.identity_records(session, user_id)
        if reveal:
            return records
        return [
            replace(record, identifier=mask_identifier(record.type, record.identifier))
            for record in records
        ]

    async def disable_user(
        self, session: AsyncSession, user_id: int, *, by_staff_id: int | None = None
    ) -> list[str]:
        """Disable a user: every session ends at once and no login succeeds. Returns the ended
        session ids; raises UserNotFound."""
        user = await repository.lock_user(session, user_id)
        if user is None:
            raise UserNotFound()
        cause = (
            [UserDisabled(user_id=user.id, uid=user.uid, by_staff_id=by_staff_id)]
            if user.status != UserStatus.DISABLED
            else []
        )
        user.status = UserStatus.DISABLED
        user.updated_at = clock.now()
        await session.flush()
        await self.context.views.forget(user_id)
        return await self.context.tokens.end_sessions(
            session, user_id=user_id, reason="user_disabled", cause=cause
        )

    async def enable_user(
        self, session: AsyncSession, user_id: int, *, by_staff_id: int | None = None
    ) -> UserSummary:
        """Enable a disabled user (an active one stays as it is); raises UserNotFound."""
        user = await repository.lock_user(session, user_id)
        if user is None:
            raise UserNotFound()
        if user.status == UserStatus.DISABLED:
            user.status = UserStatus.ACTIVE
            user.updated_at = clock.now()
            await session.flush()
            await self.context.views.forget(user_id)
            await self.context.outbox.add(
                session, UserEnabled(user_id=user.id, uid=user.uid, by_staff_id=by_staff_id)
            )
        return summary_of(user)

    async def unbind_for_staff(
        self,
        session: AsyncSession,
        user_id: int,
        identity_id: int,
        client: ClientInfo,
        *,
        by_staff_id: int | None = None,
    ) -> None:
        """Remove an identity of a user who lost access to it (a lost phone), even the last
        one: the user then logs in another way or binds a new one through support. Raises
        UserNotFound (field `identity_id`)."""
        identity = await repository.get_identity(session, identity_id)
        if identity is None or identity.user_id != user_id:
            raise UserNotFound(field="identity_id")
        await self.context.record_unbound(session, identity, by_staff_id=by_staff_id)
        await repository.delete_identity(session, identity)
        if identity.union_id:
            await repository.delete_union_if_unused(
                session, identity.provider, identity.union_id, user_id
            )
        await audit.record_profile_change(
            session,
            user_id=user_id,
            action="unbind",
            attribute=identity.type,
            client=client,
            old_value="(by staff)",
            actor=ChangeActor.STAFF if by_staff_id is not None else ChangeActor.SYSTEM,
            actor_id=by_staff_id,
        )
        await self.context.views.forget(user_id)
