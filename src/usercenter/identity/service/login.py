"""Logging in by SMS code (registering the phone's owner on first use) or by password, with the
lockout. A wrong password, an unknown account and an account with no password all give
`invalid_credentials` after the same password-hash work."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.audit import service as audit
from usercenter.audit.models import AuthEventKind
from usercenter.identity import repository
from usercenter.identity.errors import (
    AccountLocked,
    CodeInvalid,
    IdentityTaken,
    InvalidCredentials,
    RegistrationClosed,
)
from usercenter.identity.models import IdentityType, User
from usercenter.identity.service.accounts import UserAccounts
from usercenter.identity.service.context import (
    IdentityContext,
    IdentitySpec,
    SmsPurpose,
    login_subject,
)
from usercenter.identity.service.normalize import login_identifier, normalize_phone
from usercenter.identity.service.sessions import SessionService
from usercenter.identity.throttle import Locked
from usercenter.identity.views import LoginResult
from usercenter.kit.client import ClientInfo
from usercenter.security.captcha import CaptchaService
from usercenter.security.passwords import PasswordHasher


class LoginService:
    def __init__(
        self,
        context: IdentityContext,
        *,
        accounts: UserAccounts,
        sessions: SessionService,
        captcha: CaptchaService,
        passwords: PasswordHasher,
    ) -> None:
        self.context = context
        self.accounts = accounts
        self.sessions = sessions
        self.captcha = captcha
        self.passwords = passwords

    async def sms_login(
        self,
        session: AsyncSession,
        *,
        phone: str,
        code: str,
        platform: str,
        client: ClientInfo,
    ) -> LoginResult:
        """Log in with a code sent to the phone; registers the phone's owner on first use.
        Raises CodeInvalid, RegistrationClosed, AccountDisabled."""
        context = self.context
        number = normalize_phone(phone)
        if not await context.sms_codes.verify(number.e164, SmsPurpose.LOGIN, code):
            raise CodeInvalid()
        identity = await context.find(session, IdentityType.PHONE, number.e164)
        if identity is not None:
            user = await context.user_or_raise(session, identity.user_id)
            return await self.sessions.start(
                session, user, method="sms", platform=platform, client=client, is_new_user=False
            )
        if not context.settings.registration_open:
            raise RegistrationClosed()
        province = await context.ids.province_code_for(number.region)
        try:
            user = await self.accounts.insert_user(
                session,
                method="phone",
                identities=[IdentitySpec(IdentityType.PHONE, number.e164)],
                province=province,
                platform=platform,
            )
        except IdentityTaken:
            # The same phone registered a moment ago by a parallel request: log into that user.
            identity = await context.find(session, IdentityType.PHONE, number.e164)
            if identity is None:
                raise
            user = await context.user_or_raise(session, identity.user_id)
            return await self.sessions.start(
                session, user, method="sms", platform=platform, client=client, is_new_user=False
            )
        return await self.sessions.start(
            session, user, method="sms", platform=platform, client=client, is_new_user=True
        )

    async def password_login(
        self,
        session: AsyncSession,
        *,
        login: str,
        password: str,
        platform: str,
        client: ClientInfo,
        captcha_id: str | None = None,
        captcha_answer: str | None = None,
    ) -> LoginResult:
        """Log in with phone, username or e-mail and a password. Raises InvalidCredentials,
        AccountLocked, CaptchaRequired/CaptchaInvalid or AccountDisabled."""
        context = self.context
        parsed = login_identifier(login)
        if parsed:
            index = context.index(*parsed)
            found = await repository.user_with_password_hash(session, parsed[0], index)
            subject = login_subject(parsed[0], index)
        else:
            found = None
            raw = context.keyring.blind_index.compute(login.strip().lower(), context="login")
            subject = f"login:raw:{raw[:32]}"
        user, stored = found if found else (None, None)
        gate = await context.throttle.gate(subject, client.ip)
        if gate.captcha_needed:
            await self.captcha.verify_or_raise(captcha_id, captcha_answer)
        try:
            await context.throttle.begin_attempt(subject, gate)
        except Locked as locked:
            await self._record_failure(session, user, client, platform, reason="locked")
            raise AccountLocked(locked.until) from None
        if stored is None:
            await self.passwords.dummy_verify_async(password)
            verified = False
        else:
            verified = await self.passwords.verify_async(stored, password)
        if not verified or user is None:
            until = await context.throttle.failed(subject, client.ip)
            await self._record_failure(session, user, client, platform, reason="wrong_password")
            if until is not None:
                raise AccountLocked(until)
            raise InvalidCredentials(field="password")
        await context.throttle.succeeded(subject)
        if stored is not None and self.passwords.needs_rehash(stored):
            fresh = await self.passwords.hash_async(password)
            await repository.rehash_password(session, user.id, stored, fresh)
        return await self.sessions.start(
            session, user, method="password", platform=platform, client=client, is_new_user=False
        )

    async def _record_failure(
        self,
        session: AsyncSession,
        user: User | None,
        client: ClientInfo,
        platform: str,
        *,
        reason: str,
    ) -> None:
        await audit.record_auth_event(
            session,
            AuthEventKind.LOGIN_FAILED,
            user_id=user.id if user else None,
            client=client,
            method="password",
            reason=reason,
            platform=platform,
        )
