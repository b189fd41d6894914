"""Adding and removing one login identity of a user: the row in a savepoint (a taken one is
`identity_taken`), its unionid row, the dropped cached view, the profile-change record and the
event (`user.identity_bound`, `…_merged`, `…_unbound`). Shared by provider logins and
bindings."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.audit import service as audit
from usercenter.identity import repository
from usercenter.identity.errors import IdentityTaken
from usercenter.identity.events import UserIdentityBound, UserIdentityMerged
from usercenter.identity.models import Identity, IdentityType
from usercenter.identity.service.context import (
    IdentityContext,
    IdentitySpec,
    masked_identifier,
)
from usercenter.kit.client import ClientInfo
from usercenter.providers.base import ExternalIdentity
from usercenter.security.masking import mask_identifier


def external_spec(external: ExternalIdentity) -> IdentitySpec:
    return IdentitySpec(
        type=external.app_type.value,
        value=external.subject,
        provider=external.provider,
        provider_app=external.app_id,
        union_id=external.union_id,
    )


class IdentityLinks:
    def __init__(self, context: IdentityContext) -> None:
        self.context = context

    async def owner(self, session: AsyncSession, external: ExternalIdentity) -> Identity | None:
        """The identity row of a verified external identity, None when nobody has it."""
        return await repository.find_identity(
            session, external.app_type.value, external.subject, provider_app=external.app_id
        )

    async def bound_of_type(
        self, session: AsyncSession, user_id: int, external: ExternalIdentity
    ) -> Identity | None:
        """The user's identity of the same app as `external`, None when they have none."""
        for identity in await repository.identities_of(session, user_id):
            if (
                identity.type == external.app_type.value
                and identity.provider_app == external.app_id
            ):
                return identity
        return None

    async def bound_phone(self, session: AsyncSession, user_id: int) -> Identity | None:
        return next(
            (
                i
                for i in await repository.identities_of(session, user_id)
                if i.type == IdentityType.PHONE
            ),
            None,
        )

    async def _insert(
        self, session: AsyncSession, user_id: int, spec: IdentitySpec, *, merged: bool = False
    ) -> None:
        """The identity row, then its event: `merged`, a login that reached the user through
        the unionid; else a binding."""
        context = self.context
        try:
            async with session.begin_nested():
                session.add(context.new_identity(user_id, spec))
                await session.flush()
        except IntegrityError:
            raise IdentityTaken(field=spec.type) from None
        await context.views.forget(user_id)
        uid = await context.uid_or_raise(session, user_id)
        app_id = spec.provider_app or None
        await context.outbox.add(
            session,
            UserIdentityMerged(user_id=user_id, uid=uid, identity_type=spec.type, app_id=app_id)
            if merged
            else UserIdentityBound(
                user_id=user_id,
                uid=uid,
                identity_type=spec.type,
                identifier_masked=masked_identifier(spec.type, spec.value),
                app_id=app_id,
            ),
        )

    async def add_external(
        self,
        session: AsyncSession,
        user_id: int,
        external: ExternalIdentity,
        client: ClientInfo,
        *,
        action: str,
    ) -> None:
        """Give the user a verified external identity (`action`: bind, rebind, merge).
        Raises IdentityTaken."""
        await self._insert(session, user_id, external_spec(external), merged=action == "merge")
        await audit.record_profile_change(
            session,
            user_id=user_id,
            action=action,
            attribute=external.app_type.value,
            new_value=mask_identifier("openid", external.subject),
            client=client,
        )

    async def add_phone(
        self, session: AsyncSession, user_id: int, e164: str, client: ClientInfo
    ) -> None:
        """Give the user a verified phone. Raises IdentityTaken."""
        await self._insert(session, user_id, IdentitySpec(IdentityType.PHONE, e164))
        await audit.record_profile_change(
            session,
            user_id=user_id,
            action="bind",
            attribute="phone",
            new_value=mask_identifier("phone", e164.removeprefix("+86")),
            client=client,
        )

    async def add_login(
        self,
        session: AsyncSession,
        user_id: int,
        spec: IdentitySpec,
        client: ClientInfo,
        *,
        action: str,
        old_value: str | None = None,
    ) -> None:
        """Give the user an e-mail or a username (`action`: bind, rebind; `old_value`: the
        replaced one, masked). Raises IdentityTaken."""
        await self._insert(session, user_id, spec)
        await audit.record_profile_change(
            session,
            user_id=user_id,
            action=action,
            attribute=spec.type,
            old_value=old_value,
            new_value=masked_identifier(spec.type, spec.value),
            client=client,
        )

    async def bound_of_kind(
        self, session: AsyncSession, user_id: int, identity_type: str
    ) -> Identity | None:
        """The user's identity of an exclusive kind (phone, email, username), None if none."""
        return next(
            (
                i
                for i in await repository.identities_of(session, user_id)
                if i.type == identity_type
            ),
            None,
        )

    async def remove(self, session: AsyncSession, identity: Identity) -> None:
        """Delete an identity, and its unionid row once no identity of the user carries it."""
        union = identity.union_id
        await self.context.record_unbound(session, identity)
        await repository.delete_identity(session, identity)
        await self.context.views.forget(identity.user_id)
        if union:
            await repository.delete_union_if_unused(
                session, identity.provider, union, identity.user_id
            )
