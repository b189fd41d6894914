"""Binding, rebinding and unbinding the current user's login methods: a phone proven by an SMS
code (or the phone in a mini program's legacy encryptedData), an e-mail proven by a code, a
username, a provider login, and the list of what is bound.

Binding never merges two users silently: an identity (or a unionid) that belongs to someone
else is refused with `identity_taken`, naming only its kind. Replacing a bound method takes
fresh proof of the bound one; the last method is never unbound.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.audit import service as audit
from usercenter.identity import repository
from usercenter.identity.errors import (
    AlreadyBound,
    CodeInvalid,
    FreshProofRequired,
    IdentityTaken,
    LastLoginMethod,
    NotBound,
)
from usercenter.identity.models import IdentityType
from usercenter.identity.service.context import (
    EmailPurpose,
    IdentityContext,
    IdentitySpec,
    SmsPurpose,
)
from usercenter.identity.service.links import IdentityLinks
from usercenter.identity.service.normalize import (
    normalize_email,
    normalize_phone,
    normalize_username,
)
from usercenter.identity.service.provider_proofs import ProviderProofs
from usercenter.identity.views import BoundIdentity
from usercenter.kit import clock
from usercenter.kit.client import ClientInfo
from usercenter.providers.base import AppType, ExternalIdentity, LoginProof
from usercenter.security.masking import mask_identifier

FRESH_LOGIN = timedelta(minutes=10)


class BindingService:
    def __init__(
        self, context: IdentityContext, *, proofs: ProviderProofs, links: IdentityLinks
    ) -> None:
        self.context = context
        self.proofs = proofs
        self.links = links

    async def identities(self, session: AsyncSession, user_id: int) -> list[BoundIdentity]:
        """The ways the user can log in, identifiers masked."""
        view = []
        for identity in await repository.identities_of(session, user_id):
            shown = self.context.reveal(identity)
            if identity.identifier_encrypted and identity.type == IdentityType.PHONE:
                shown = shown.removeprefix("+86")
            kind = identity.type if identity.type in IdentityType._value2member_map_ else "openid"
            view.append(
                BoundIdentity(
                    type=identity.type,
                    provider=identity.provider or identity.type,
                    app_id=identity.provider_app,
                    identifier=mask_identifier(kind, shown),
                    bound_at=identity.created_at.isoformat(),
                )
            )
        return view

    # --- phones ---------------------------------------------------------------------------

    async def bind_phone(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        phone: str,
        code: str,
        client: ClientInfo,
        old_code: str | None = None,
    ) -> None:
        """Bind a phone proven by an SMS code (scenario 2), or replace the bound phone when a
        code sent to the old one comes too (rebind). Raises IdentityTaken, CodeInvalid,
        AlreadyBound."""
        context = self.context
        number = normalize_phone(phone)
        existing = await context.find(session, IdentityType.PHONE, number.e164)
        if existing is not None and existing.user_id != user_id:
            raise IdentityTaken(field="phone")
        purpose = SmsPurpose.BIND if old_code is None else SmsPurpose.CHANGE_PHONE
        if not await context.sms_codes.verify(number.e164, purpose, code):
            raise CodeInvalid()
        if existing is not None:
            return
        current = await self.links.bound_phone(session, user_id)
        if current is not None:
            if old_code is None:
                raise AlreadyBound(field="phone")
            old_phone = await context.phone_of(session, user_id)
            if old_phone is None or not await context.sms_codes.verify(
                old_phone, SmsPurpose.CHANGE_PHONE, old_code
            ):
                raise CodeInvalid(field="old_code")
            await self.links.remove(session, current)
            await audit.record_profile_change(
                session,
                user_id=user_id,
                action="rebind",
                attribute="phone",
                old_value=mask_identifier("phone", old_phone.removeprefix("+86")),
                new_value=mask_identifier("phone", number.e164.removeprefix("+86")),
                client=client,
            )
        await self.links.add_phone(session, user_id, number.e164, client)

    async def bind_legacy_phone(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        session_id: str,
        encrypted_data: str,
        iv: str,
        app_id: str | None,
        client: ClientInfo,
    ) -> None:
        """Bind the phone from a mini program's legacy encryptedData to the current user.
        Raises ProviderCodeInvalid, IdentityTaken, AlreadyBound."""
        phone = normalize_phone(
            await self.proofs.decrypt_phone(
                session, session_id=session_id, encrypted_data=encrypted_data, iv=iv, app_id=app_id
            )
        )
        owner = await self.context.find(session, IdentityType.PHONE, phone.e164)
        if owner is not None:
            if owner.user_id == user_id:
                return
            raise IdentityTaken(field="phone")
        if await self.links.bound_phone(session, user_id) is not None:
            raise AlreadyBound(field="phone")
        await self.links.add_phone(session, user_id, phone.e164, client)

    # --- e-mail and username ---------------------------------------------------------------

    async def bind_email(
        self, session: AsyncSession, *, user_id: int, email: str, code: str, client: ClientInfo
    ) -> None:
        """Bind an e-mail proven by a code (purpose bind), replacing the user's own e-mail if
        they have one (rebind). Raises EmailInvalid, IdentityTaken, CodeInvalid."""
        context = self.context
        address = normalize_email(email)
        existing = await context.find(session, IdentityType.EMAIL, address)
        if existing is not None and existing.user_id != user_id:
            raise IdentityTaken(field="email")
        if not await context.email_codes.verify(address, EmailPurpose.BIND, code):
            raise CodeInvalid(field="code")
        if existing is not None:
            return
        await self._bind_exclusive(
            session, user_id, IdentitySpec(IdentityType.EMAIL, address), client
        )

    async def bind_username(
        self, session: AsyncSession, *, user_id: int, username: str, client: ClientInfo
    ) -> None:
        """Give the user a username (validated as at registration), replacing theirs if they
        have one (rebind). Raises UsernameInvalid, UsernameLooksLikePhone, IdentityTaken."""
        name = normalize_username(username)
        existing = await self.context.find(session, IdentityType.USERNAME, name)
        if existing is not None:
            if existing.user_id == user_id:
                return
            raise IdentityTaken(field="username")
        await self._bind_exclusive(
            session, user_id, IdentitySpec(IdentityType.USERNAME, name), client
        )

    async def _bind_exclusive(
        self, session: AsyncSession, user_id: int, spec: IdentitySpec, client: ClientInfo
    ) -> None:
        """Add an identity of a kind a user has one of, the current one (if any) removed
        first: a rebind. Raises IdentityTaken (another user's, also one bound meanwhile)."""
        current = await self.links.bound_of_kind(session, user_id, spec.type)
        old_value = None
        if current is not None:
            old_value = self.context.masked(current)
            await self.links.remove(session, current)
        await self.links.add_login(
            session,
            user_id,
            spec,
            client,
            action="bind" if current is None else "rebind",
            old_value=old_value,
        )

    # --- providers ------------------------------------------------------------------------

    async def bind_provider(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        session_id: str,
        app_type: AppType,
        proof: LoginProof,
        state: str | None,
        app_id: str | None,
        client: ClientInfo,
        old_code: str | None = None,
    ) -> None:
        """Bind a provider login, asking the provider first (nothing written before)."""
        await self.proofs.check_state(app_type, state)
        external = await self.proofs.verify(app_type, proof, app_id)
        await self.bind_external(
            session,
            user_id=user_id,
            session_id=session_id,
            external=external,
            client=client,
            old_code=old_code,
        )

    async def bind_external(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        session_id: str,
        external: ExternalIdentity,
        client: ClientInfo,
        old_code: str | None = None,
    ) -> None:
        """Bind a verified external identity to the user (scenario 1), or replace the bound one
        of that app with fresh proof (rebind). Raises IdentityTaken, FreshProofRequired,
        CodeInvalid."""
        links = self.links
        owner = await links.owner(session, external)
        if owner is not None:
            if owner.user_id == user_id:
                return
            raise IdentityTaken(field=external.app_type.value)
        if external.union_id:
            union_owner = await repository.union_owner(
                session, external.provider, external.union_id
            )
            if union_owner not in (None, user_id):
                raise IdentityTaken(field=external.app_type.value)
        current = await links.bound_of_type(session, user_id, external)
        action = "bind"
        if current is not None:
            if not await self._has_fresh_proof(
                session,
                session_id=session_id,
                method=external.app_type.value,
                old_code=old_code,
                user_id=user_id,
            ):
                raise FreshProofRequired() if old_code is None else CodeInvalid(field="old_code")
            await links.remove(session, current)
            action = "rebind"
        await links.add_external(session, user_id, external, client, action=action)
        if (
            external.union_id
            and await repository.union_owner(session, external.provider, external.union_id) is None
        ):
            await repository.add_union(session, external.provider, external.union_id, user_id)

    async def _has_fresh_proof(
        self,
        session: AsyncSession,
        *,
        session_id: str,
        method: str,
        old_code: str | None,
        user_id: int,
    ) -> bool:
        """Fresh proof of what is bound now: a login through it in the last minutes, or an SMS
        code sent to the bound phone (purpose change_phone)."""
        context = self.context
        if old_code is not None:
            phone = await context.phone_of(session, user_id)
            return phone is not None and await context.sms_codes.verify(
                phone, SmsPurpose.CHANGE_PHONE, old_code
            )
        current = await context.tokens.session_info(session, session_id)
        return (
            current is not None
            and current.login_method == method
            and clock.now() - current.created_at <= FRESH_LOGIN
        )

    # --- unbinding ------------------------------------------------------------------------

    async def unbind(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        identity_type: str,
        app_id: str | None,
        client: ClientInfo,
    ) -> None:
        """Remove a login method; never the last one. Raises NotBound, LastLoginMethod."""
        mine = await repository.identities_of(session, user_id)
        target = [
            i
            for i in mine
            if i.type == identity_type and (app_id is None or i.provider_app == app_id)
        ]
        if not target:
            raise NotBound(field="type")
        if len(mine) - len(target[:1]) < 1:
            raise LastLoginMethod(field="type")
        await self.links.remove(session, target[0])
        await audit.record_profile_change(
            session,
            user_id=user_id,
            action="unbind",
            attribute=identity_type,
            client=client,
        )
