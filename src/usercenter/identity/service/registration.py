"""Registering with a username and/or a verified e-mail, and a password."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.identity.errors import (
    CodeInvalid,
    IdentityTaken,
    RegistrationClosed,
    UsernameInvalid,
)
from usercenter.identity.models import IdentityType
from usercenter.identity.service.accounts import UserAccounts
from usercenter.identity.service.context import EmailPurpose, IdentityContext, IdentitySpec
from usercenter.identity.service.normalize import normalize_email, normalize_username
from usercenter.identity.service.sessions import SessionService
from usercenter.identity.views import LoginResult
from usercenter.kit.client import ClientInfo
from usercenter.security.passwords import PasswordHasher, PasswordPolicy


class RegistrationService:
    def __init__(
        self,
        context: IdentityContext,
        *,
        accounts: UserAccounts,
        sessions: SessionService,
        passwords: PasswordHasher,
        policy: PasswordPolicy,
    ) -> None:
        self.context = context
        self.accounts = accounts
        self.sessions = sessions
        self.passwords = passwords
        self.policy = policy

    async def register(
        self,
        session: AsyncSession,
        *,
        password: str,
        platform: str,
        client: ClientInfo,
        username: str | None = None,
        email: str | None = None,
        email_code: str | None = None,
    ) -> LoginResult:
        """Register with a username and/or a verified e-mail, and a password; logs the new user
        in. Raises RegistrationClosed, UsernameInvalid, EmailInvalid, CodeInvalid,
        PasswordTooWeak, IdentityTaken."""
        context = self.context
        if not context.settings.registration_open:
            raise RegistrationClosed()
        identities: list[IdentitySpec] = []
        if username:
            identities.append(IdentitySpec(IdentityType.USERNAME, normalize_username(username)))
        if email:
            address = normalize_email(email)
            if not email_code or not await context.email_codes.verify(
                address, EmailPurpose.REGISTER, email_code
            ):
                raise CodeInvalid(field="email_code")
            identities.append(IdentitySpec(IdentityType.EMAIL, address))
        if not identities:
            raise UsernameInvalid(field="username")
        self.policy.check(password, context_words=[spec.value.split("@")[0] for spec in identities])
        for spec in identities:
            if await context.find(session, spec.type, spec.value) is not None:
                raise IdentityTaken(field=spec.type)
        password_hash = await self.passwords.hash_async(password)
        user = await self.accounts.insert_user(
            session,
            method=identities[0].type,
            identities=identities,
            province=None,
            password_hash=password_hash,
            platform=platform,
        )
        return await self.sessions.start(
            session,
            user,
            method="password",
            platform=platform,
            client=client,
            is_new_user=True,
        )
