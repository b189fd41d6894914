"""Changing a password (proven by the old one or an SMS code) and resetting a forgotten one
with a code; either ends the other sessions and lifts a login lock."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.audit import service as audit
from usercenter.audit.models import AuthEventKind
from usercenter.identity import repository
from usercenter.identity.errors import CodeInvalid, InvalidCredentials, PasswordRequired
from usercenter.identity.events import UserPasswordChanged
from usercenter.identity.models import IdentityType, User
from usercenter.identity.service.context import (
    PASSWORD_LOGIN_TYPES,
    IdentityContext,
    SmsPurpose,
    login_subject,
)
from usercenter.identity.service.normalize import normalize_email, normalize_phone
from usercenter.kit import clock
from usercenter.kit.client import ClientInfo
from usercenter.notify.errors import PhoneInvalid
from usercenter.security.passwords import PasswordHasher, PasswordPolicy


class PasswordService:
    def __init__(
        self, context: IdentityContext, *, passwords: PasswordHasher, policy: PasswordPolicy
    ) -> None:
        self.context = context
        self.passwords = passwords
        self.policy = policy

    async def change_password(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        session_id: str,
        new_password: str,
        client: ClientInfo,
        old_password: str | None = None,
        sms_code: str | None = None,
    ) -> list[str]:
        """Set a new password, proven by the old one or a fresh SMS code to the bound phone;
        every other session ends. Returns the ended session ids. Raises InvalidCredentials,
        CodeInvalid, PasswordRequired, PasswordTooWeak."""
        context = self.context
        user = await context.user_or_raise(session, user_id)
        credential = await repository.get_credential(session, user_id)
        if old_password is not None:
            stored = credential.password_hash if credential else None
            if stored is None or not await self.passwords.verify_async(stored, old_password):
                raise InvalidCredentials(field="old_password")
        elif sms_code is not None:
            phone = await context.phone_of(session, user_id)
            if phone is None or not await context.sms_codes.verify(
                phone, SmsPurpose.RESET_PASSWORD, sms_code
            ):
                raise CodeInvalid(field="sms_code")
        else:
            raise PasswordRequired()
        self.policy.check(new_password, context_words=[user.uid])
        had_password = credential is not None and credential.password_hash is not None
        await self._store_password(session, user, new_password, client, keep=session_id)
        how = "changed" if had_password else "set"
        return await context.tokens.end_sessions(
            session,
            user_id=user_id,
            reason="password_changed",
            keep=session_id,
            cause=[UserPasswordChanged(user_id=user.id, uid=user.uid, how=how)],
        )

    async def reset_password(
        self,
        session: AsyncSession,
        *,
        new_password: str,
        code: str,
        client: ClientInfo,
        phone: str | None = None,
        email: str | None = None,
    ) -> None:
        """Reset a forgotten password with a code sent to the phone or e-mail; every session
        ends. A wrong code and an unknown phone answer alike (CodeInvalid)."""
        context = self.context
        if phone:
            target, type_ = normalize_phone(phone).e164, IdentityType.PHONE
            codes = context.sms_codes
        elif email:
            target, type_ = normalize_email(email), IdentityType.EMAIL
            codes = context.email_codes
        else:
            raise PhoneInvalid(field="phone")
        if not await codes.verify(target, SmsPurpose.RESET_PASSWORD, code):
            raise CodeInvalid()
        identity = await context.find(session, type_, target)
        if identity is None:
            raise CodeInvalid()
        user = await context.user_or_raise(session, identity.user_id)
        self.policy.check(new_password, context_words=[user.uid])
        await self._store_password(session, user, new_password, client, keep=None)
        await context.tokens.end_sessions(
            session,
            user_id=user.id,
            reason="password_reset",
            cause=[UserPasswordChanged(user_id=user.id, uid=user.uid, how="reset")],
        )

    async def _store_password(
        self,
        session: AsyncSession,
        user: User,
        new_password: str,
        client: ClientInfo,
        *,
        keep: str | None,
    ) -> None:
        """The new hash, the login locks lifted, the auth log row. The caller ends the
        sessions with the `user.password_changed` event as their cause."""
        password_hash = await self.passwords.hash_async(new_password)
        await repository.set_password_hash(session, user.id, password_hash, clock.now())
        await self.context.views.forget(user.id)
        for identity in await repository.identities_of(session, user.id):
            if identity.type in PASSWORD_LOGIN_TYPES:
                await self.context.throttle.unlock(
                    login_subject(identity.type, identity.identifier_index)
                )
        await audit.record_auth_event(
            session,
            AuthEventKind.PASSWORD_CHANGED,
            user_id=user.id,
            client=client,
            session_id=keep,
        )
