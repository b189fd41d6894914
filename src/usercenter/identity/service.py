"""Registration, login by SMS code, password or e-mail code, password change and reset.

Phones and e-mails are stored as an HMAC blind index (for lookup) and AES-GCM ciphertext (for
display, masked). Answers that could tell whether a phone or login name is registered do not:
sending a code always answers alike, and a wrong password, an unknown account and an account
with no password all give `invalid_credentials` after the same password-hash work.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import geocoder
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.audit import service as audit
from usercenter.audit.models import AuthEventKind
from usercenter.config import Settings
from usercenter.db import Database
from usercenter.identity import repository
from usercenter.identity.codes import LimitReached, SendLimits, VerificationCodes
from usercenter.identity.errors import (
    AccountDisabled,
    AccountLocked,
    CodeInvalid,
    CodeRateLimited,
    EmailInvalid,
    IdentityTaken,
    InvalidCredentials,
    PasswordRequired,
    RegistrationClosed,
    UsernameInvalid,
    UsernameLooksLikePhone,
    UserNotFound,
)
from usercenter.identity.models import Identity, IdentityType, User, UserStatus
from usercenter.identity.throttle import Locked, LoginThrottle
from usercenter.ids.service import IdService
from usercenter.kit import clock
from usercenter.kit.cache import Cache, Counters, LocalMemo
from usercenter.kit.client import ClientInfo
from usercenter.notify.courier import Courier
from usercenter.notify.errors import PhoneInvalid
from usercenter.notify.mail import MailSender
from usercenter.notify.sms import SmsSender
from usercenter.security.captcha import CaptchaService
from usercenter.security.keys import Keyring
from usercenter.security.masking import mask_email, mask_identifier, mask_phone
from usercenter.security.passwords import PasswordHasher, PasswordPolicy
from usercenter.tokens.service import IssuedTokens, TokenService

USER_ID_SEGMENT = "USER"
# A cached view is dropped by every change the service makes; the TTL bounds what a change
# committed elsewhere meanwhile (another process, a rolled-back race) can leave stale.
USER_VIEW_TTL_SECONDS = 60
LOCAL_MEMO_SECONDS = 2.0
PROVIDER_SECRET_CONTEXT = "tokens.provider_secret"
_USERNAME = re.compile(r"^[A-Za-z0-9_]{4,32}$")
_PASSWORD_LOGIN_TYPES = (IdentityType.PHONE, IdentityType.EMAIL, IdentityType.USERNAME)


class SmsPurpose:
    LOGIN = "login"
    BIND = "bind"
    RESET_PASSWORD = "reset_password"
    CHANGE_PHONE = "change_phone"


class EmailPurpose:
    REGISTER = "register"
    BIND = "bind"
    RESET_PASSWORD = "reset_password"


@dataclass(frozen=True, slots=True)
class IdentitySpec:
    """An identity to add: its type and normalised value, and for third-party identities the
    provider, our app id there and the unionid."""

    type: str
    value: str
    provider: str = ""
    provider_app: str = ""
    union_id: str | None = None


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    e164: str
    national: str
    region: str | None


@dataclass(frozen=True, slots=True)
class CodeSent:
    expires_in: int
    resend_after: int


@dataclass(frozen=True, slots=True)
class UserView:
    """A user as the API shows it: phone and e-mail masked. Plain values, so it can be cached."""

    id: int
    uid: str
    nickname: str | None
    avatar_url: str | None
    gender: int
    birthday: date | None
    signature: str | None
    status: str
    created_at: datetime
    phone: str | None
    email: str | None
    username: str | None
    has_password: bool

    def to_json(self) -> str:
        values = {k: getattr(self, k) for k in self.__slots__}
        values["birthday"] = self.birthday.isoformat() if self.birthday else None
        values["created_at"] = self.created_at.isoformat()
        return json.dumps(values)

    @classmethod
    def from_json(cls, text: str) -> UserView:
        values = json.loads(text)
        values["birthday"] = date.fromisoformat(values["birthday"]) if values["birthday"] else None
        values["created_at"] = datetime.fromisoformat(values["created_at"])
        return cls(**values)


@dataclass(frozen=True, slots=True)
class LoginResult:
    view: UserView
    tokens: IssuedTokens
    is_new_user: bool


def _view_key(user_id: int) -> str:
    return f"user:view:{user_id}"


def normalize_phone(raw: str, *, field: str = "phone") -> PhoneNumber:
    """E.164 (`+86` when no country code is given); PhoneInvalid unless plausible."""
    try:
        number = phonenumbers.parse(raw.strip(), "CN")
    except phonenumbers.NumberParseException:
        raise PhoneInvalid(field=field) from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneInvalid(field=field)
    region = geocoder.description_for_number(number, "zh") if number.country_code == 86 else ""
    return PhoneNumber(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        national=str(number.national_number),
        region=region or None,
    )


def normalize_email(raw: str, *, field: str = "email") -> str:
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise EmailInvalid(field=field) from None
    return result.normalized.lower()


def normalize_username(raw: str, *, field: str = "username") -> str:
    """Lowercased; UsernameInvalid, or UsernameLooksLikePhone for digits only (a login of digits
    is read as a phone number, see `_login_identifier`)."""
    if not _USERNAME.fullmatch(raw.strip()):
        raise UsernameInvalid(field=field)
    if raw.strip().isdigit():
        raise UsernameLooksLikePhone(field=field)
    return raw.strip().lower()


class IdentityService:
    """The identity rules. Holds its collaborators; every call takes the caller's session."""

    def __init__(
        self,
        *,
        settings: Settings,
        keyring: Keyring,
        cache: Cache,
        counters: Counters,
        courier: Courier,
        ids: IdService,
        tokens: TokenService,
        sms: SmsSender,
        mail: MailSender,
        captcha: CaptchaService,
        passwords: PasswordHasher,
        policy: PasswordPolicy,
    ) -> None:
        self.settings = settings
        self.keyring = keyring
        self.cache = cache
        self.counters = counters
        self.courier = courier
        self._memo = LocalMemo(ttl=LOCAL_MEMO_SECONDS)
        self.ids = ids
        self.tokens = tokens
        self.sms = sms
        self.mail = mail
        self.captcha = captcha
        self.passwords = passwords
        self.policy = policy
        limits = SendLimits(
            resend_interval_seconds=settings.sms_resend_interval_seconds,
            daily_per_target=settings.sms_daily_limit_per_phone,
            daily_per_address=settings.sms_daily_limit_per_address,
            captcha_after_per_address=settings.sms_captcha_after_per_address,
        )
        self.sms_codes = VerificationCodes(
            counters,
            keyring.blind_index,
            channel="sms",
            ttl_seconds=settings.sms_code_ttl_seconds,
            max_attempts=settings.sms_code_max_attempts,
            limits=limits,
        )
        self.email_codes = VerificationCodes(
            counters,
            keyring.blind_index,
            channel="email",
            ttl_seconds=max(settings.sms_code_ttl_seconds, 600),
            max_attempts=settings.sms_code_max_attempts,
            limits=limits,
        )
        self.throttle = LoginThrottle(
            counters,
            max_failures=settings.login_max_failures,
            window_seconds=settings.login_failure_window_seconds,
            lock_seconds=settings.login_lock_seconds,
            captcha_after_address_failures=settings.login_captcha_after_address_failures,
        )

    # --- identifiers ----------------------------------------------------------------------

    def _index(self, type_: str, value: str) -> str:
        if type_ in (IdentityType.PHONE, IdentityType.EMAIL):
            return self.keyring.blind_index.compute(value, context=f"identity.{type_}")
        return value

    def _encrypt(self, type_: str, value: str) -> str | None:
        if type_ in (IdentityType.PHONE, IdentityType.EMAIL):
            return self.keyring.cipher.encrypt(value, context=f"identity.{type_}")
        return None

    async def find(self, session: AsyncSession, type_: str, value: str) -> Identity | None:
        return await repository.find_identity(session, type_, self._index(type_, value))

    def new_identity(self, user_id: int, spec: IdentitySpec) -> Identity:
        now = clock.now()
        return Identity(
            user_id=user_id,
            type=spec.type,
            provider=spec.provider,
            provider_app=spec.provider_app,
            identifier_index=self._index(spec.type, spec.value),
            identifier_encrypted=self._encrypt(spec.type, spec.value),
            union_id=spec.union_id,
            verified_at=now if spec.type != IdentityType.USERNAME else None,
            created_at=now,
            updated_at=now,
        )

    async def view(self, session: AsyncSession, user: User) -> UserView:
        found: dict[str, str] = {}
        for identity in await repository.identities_of(session, user.id):
            if identity.identifier_encrypted:
                plain = self.keyring.cipher.decrypt(
                    identity.identifier_encrypted, context=f"identity.{identity.type}"
                )
                found[identity.type] = (
                    mask_phone(plain.removeprefix("+86"))
                    if identity.type == IdentityType.PHONE
                    else mask_email(plain)
                )
            elif identity.type == IdentityType.USERNAME:
                found[identity.type] = identity.identifier_index
        credential = await repository.get_credential(session, user.id)
        view = UserView(
            id=user.id,
            uid=user.uid,
            nickname=user.nickname,
            avatar_url=user.avatar_url,
            gender=user.gender,
            birthday=user.birthday,
            signature=user.signature,
            status=user.status,
            created_at=user.created_at,
            phone=found.get(IdentityType.PHONE),
            email=found.get(IdentityType.EMAIL),
            username=found.get(IdentityType.USERNAME),
            has_password=bool(credential and credential.password_hash),
        )
        await self.cache.set(_view_key(user.id), view.to_json(), ttl=USER_VIEW_TTL_SECONDS)
        self._memo.drop(_view_key(user.id))
        return view

    async def _cached(self, user_id: int) -> UserView | None:
        key = _view_key(user_id)
        cached = self._memo.get(key)
        if cached is None:
            # Memoised only when fetched anew, so the entry expires however busy the user.
            cached = await self.cache.get(key)
            if cached is None:
                return None
            self._memo.put(key, cached)
        return UserView.from_json(cached)

    async def profile(self, database: Database, user_id: int) -> UserView:
        """The user as the API shows it, from the cache when it is there (the hot path of
        GET /v1/me: no database round trip, not even a session); read on a miss."""
        cached = await self._cached(user_id)
        if cached is not None:
            return cached
        async with database.read_session() as session:
            return await self.view(session, await self.get_user_or_raise(session, user_id))

    async def status_of(self, database: Database, user_id: int) -> str | None:
        """A user's status (`active`, `disabled`, `deleted`), None for an id that is no user's:
        from the cached view when there, else one primary-key read. For callers that only gate
        on the status (the wallet's payees), so a user not seen lately costs no view build."""
        cached = await self._cached(user_id)
        if cached is not None:
            return cached.status
        async with database.read_session() as session:
            return await repository.user_status(session, user_id)

    async def cached_view(self, session: AsyncSession, user: User) -> UserView:
        """The view of a user already loaded: from the cache when there, else built."""
        return await self._cached(user.id) or await self.view(session, user)

    async def forget_view(self, user_id: int) -> None:
        """Drop the cached view after a change to the user or their identities."""
        self._memo.drop(_view_key(user_id))
        await self.cache.delete(_view_key(user_id))

    async def phone_of(self, session: AsyncSession, user_id: int) -> str | None:
        for identity in await repository.identities_of(session, user_id):
            if identity.type == IdentityType.PHONE and identity.identifier_encrypted:
                return self.keyring.cipher.decrypt(
                    identity.identifier_encrypted, context="identity.phone"
                )
        return None

    # --- users ----------------------------------------------------------------------------

    async def create_user(
        self,
        session: AsyncSession,
        *,
        method: str,
        identities: list[IdentitySpec],
        province: str | None,
        password_hash: str | None = None,
        nickname: str | None = None,
        avatar_url: str | None = None,
    ) -> User:
        """A new user with its identities (and the unionid they carry), in a savepoint:
        IdentityTaken, naming the first identity's type, if one is taken meanwhile."""
        now = clock.now()
        code = province or self.settings.uid_default_province
        user = User(
            id=await self.ids.next_id(USER_ID_SEGMENT, session=session),
            uid=await self.ids.next_uid(code, session=session),
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
                    session.add(self.new_identity(user.id, spec))
                    if spec.union_id:
                        await repository.add_union(session, spec.provider, spec.union_id, user.id)
                await session.flush()
        except IntegrityError:
            raise IdentityTaken(field=identities[0].type) from None
        if password_hash is not None:
            await repository.set_password_hash(session, user.id, password_hash, now)
        return user

    async def uid_of(self, session: AsyncSession, user_id: int) -> str:
        uid = await repository.uid_of(session, user_id)
        if uid is None:
            raise UserNotFound()
        return uid

    async def get_user_or_raise(self, session: AsyncSession, user_id: int) -> User:
        user = await repository.get_user(session, user_id)
        if user is None or user.status == UserStatus.DELETED:
            raise UserNotFound()
        return user

    # --- codes ----------------------------------------------------------------------------

    async def _send_code(
        self,
        codes: VerificationCodes,
        target: str,
        purpose: str,
        client: ClientInfo,
        captcha: tuple[str | None, str | None],
        *,
        deliver: bool,
        send: Callable[[str, str, str], Awaitable[object]],
    ) -> CodeSent:
        """Check the limits, store a new code and hand it to the courier when `deliver`:
        the same work, and the same answer, whether or not a message goes out."""
        if await codes.captcha_needed(client.ip):
            await self.captcha.verify_or_raise(*captcha)
        try:
            permit = await codes.take_send_permit(target, client.ip)
        except LimitReached as limit:
            raise CodeRateLimited(retry_after=limit.retry_after or 60) from None
        code = codes.new_code()
        await codes.store(target, purpose, code)
        if deliver:

            async def give_back() -> None:
                await codes.give_back(permit)

            self.courier.submit(
                codes.channel, purpose, lambda: send(target, code, purpose), on_failure=give_back
            )
        return CodeSent(
            expires_in=codes.ttl_seconds, resend_after=codes.limits.resend_interval_seconds
        )

    async def send_sms_code(
        self,
        session: AsyncSession,
        *,
        phone: str,
        purpose: str,
        client: ClientInfo,
        captcha_id: str | None = None,
        captcha_answer: str | None = None,
    ) -> CodeSent:
        """Send a login/bind/reset code. Answers alike, in the same time, whether or not the
        phone is registered: the message goes out after the answer (a reset code for an
        unknown phone, or a login code for one when registration is closed, not at all)."""
        number = normalize_phone(phone)
        known = await self.find(session, IdentityType.PHONE, number.e164) is not None
        deliver = {
            SmsPurpose.LOGIN: known or self.settings.registration_open,
            SmsPurpose.RESET_PASSWORD: known,
        }.get(purpose, True)

        async def send(target: str, code: str, why: str) -> None:
            await self.sms.send_code(target, code, purpose=why)

        return await self._send_code(
            self.sms_codes,
            number.e164,
            purpose,
            client,
            (captcha_id, captcha_answer),
            deliver=deliver,
            send=send,
        )

    async def send_email_code(
        self,
        session: AsyncSession,
        *,
        email: str,
        purpose: str,
        client: ClientInfo,
        captcha_id: str | None = None,
        captcha_answer: str | None = None,
    ) -> CodeSent:
        """Send a register/bind/reset code by e-mail; answers alike, in the same time, whether
        or not the address is registered (a register code goes only to an unknown address,
        a reset code only to a known one, both after the answer)."""
        address = normalize_email(email)
        known = await self.find(session, IdentityType.EMAIL, address) is not None
        deliver = {
            EmailPurpose.REGISTER: not known,
            EmailPurpose.RESET_PASSWORD: known,
        }.get(purpose, True)

        async def send(target: str, code: str, why: str) -> None:
            subject = "usercenter 验证码 / verification code"
            body = (
                f"您的验证码是 {code}，{self.email_codes.ttl_seconds // 60} 分钟内有效。\n"
                f"Your code is {code}; it is valid for "
                f"{self.email_codes.ttl_seconds // 60} minutes.\n"
            )
            await self.mail.send(target, subject, body)

        return await self._send_code(
            self.email_codes,
            address,
            purpose,
            client,
            (captcha_id, captcha_answer),
            deliver=deliver,
            send=send,
        )

    # --- logging in -----------------------------------------------------------------------

    async def login(
        self,
        session: AsyncSession,
        user: User,
        *,
        method: str,
        platform: str,
        client: ClientInfo,
        is_new_user: bool,
        provider_secret: str | None = None,
    ) -> LoginResult:
        if user.status != UserStatus.ACTIVE:
            raise AccountDisabled()
        tokens = await self.tokens.start_session(
            session,
            user_id=user.id,
            uid=user.uid,
            platform=platform,
            method=method,
            client=client,
            provider_secret_encrypted=(
                self.keyring.cipher.encrypt(provider_secret, context=PROVIDER_SECRET_CONTEXT)
                if provider_secret
                else None
            ),
        )
        if is_new_user:
            await audit.record_auth_event(
                session,
                AuthEventKind.REGISTER,
                user_id=user.id,
                client=client,
                method=method,
                platform=platform,
            )
        await audit.record_auth_event(
            session,
            AuthEventKind.LOGIN,
            user_id=user.id,
            client=client,
            method=method,
            session_id=tokens.session_id,
            platform=platform,
        )
        return LoginResult(
            view=await self.cached_view(session, user), tokens=tokens, is_new_user=is_new_user
        )

    async def sms_login(
        self,
        session: AsyncSession,
        *,
        phone: str,
        code: str,
        platform: str,
        client: ClientInfo,
    ) -> LoginResult:
        """Log in with a code sent to the phone; registers the phone's owner on first use."""
        number = normalize_phone(phone)
        if not await self.sms_codes.verify(number.e164, SmsPurpose.LOGIN, code):
            raise CodeInvalid()
        identity = await self.find(session, IdentityType.PHONE, number.e164)
        if identity is not None:
            user = await self.get_user_or_raise(session, identity.user_id)
            return await self.login(
                session, user, method="sms", platform=platform, client=client, is_new_user=False
            )
        if not self.settings.registration_open:
            raise RegistrationClosed()
        province = await self.ids.province_code_for(number.region)
        try:
            user = await self.create_user(
                session,
                method="phone",
                identities=[IdentitySpec(IdentityType.PHONE, number.e164)],
                province=province,
            )
        except IdentityTaken:
            # The same phone registered a moment ago by a parallel request: log into that user.
            identity = await self.find(session, IdentityType.PHONE, number.e164)
            if identity is None:
                raise
            user = await self.get_user_or_raise(session, identity.user_id)
            return await self.login(
                session, user, method="sms", platform=platform, client=client, is_new_user=False
            )
        return await self.login(
            session, user, method="sms", platform=platform, client=client, is_new_user=True
        )

    def _login_identifier(self, login: str) -> tuple[str, str] | None:
        value = login.strip()
        if "@" in value:
            try:
                return IdentityType.EMAIL, normalize_email(value, field="login")
            except EmailInvalid:
                return None
        compact = value.replace(" ", "").replace("-", "")
        if compact.lstrip("+").isdigit():
            try:
                return IdentityType.PHONE, normalize_phone(compact, field="login").e164
            except PhoneInvalid:
                return None
        if _USERNAME.fullmatch(value):
            return IdentityType.USERNAME, value.lower()
        return None

    @staticmethod
    def _login_subject(type_: str, index: str) -> str:
        """What failed logins are counted against: the login as normalised (its blind index
        for a phone or e-mail), the same whether or not an account has it."""
        return f"login:{type_}:{index}"

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
        parsed = self._login_identifier(login)
        if parsed:
            index = self._index(*parsed)
            found = await repository.user_with_password_hash(session, parsed[0], index)
            subject = self._login_subject(parsed[0], index)
        else:
            found = None
            raw = self.keyring.blind_index.compute(login.strip().lower(), context="login")
            subject = f"login:raw:{raw[:32]}"
        user, stored = found if found else (None, None)
        gate = await self.throttle.gate(subject, client.ip)
        if gate.captcha_needed:
            await self.captcha.verify_or_raise(captcha_id, captcha_answer)
        try:
            await self.throttle.begin_attempt(subject, gate)
        except Locked as locked:
            await self._record_failure(session, user, client, platform, reason="locked")
            raise AccountLocked(locked.until) from None
        if stored is None:
            await self.passwords.dummy_verify_async(password)
            verified = False
        else:
            verified = await self.passwords.verify_async(stored, password)
        if not verified or user is None:
            until = await self.throttle.failed(subject, client.ip)
            await self._record_failure(session, user, client, platform, reason="wrong_password")
            if until is not None:
                raise AccountLocked(until)
            raise InvalidCredentials(field="password")
        await self.throttle.succeeded(subject)
        if stored is not None and self.passwords.needs_rehash(stored):
            fresh = await self.passwords.hash_async(password)
            await repository.rehash_password(session, user.id, stored, fresh)
        return await self.login(
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
        """Register with a username and/or a verified e-mail, and a password."""
        if not self.settings.registration_open:
            raise RegistrationClosed()
        identities: list[IdentitySpec] = []
        if username:
            identities.append(IdentitySpec(IdentityType.USERNAME, normalize_username(username)))
        if email:
            address = normalize_email(email)
            if not email_code or not await self.email_codes.verify(
                address, EmailPurpose.REGISTER, email_code
            ):
                raise CodeInvalid(field="email_code")
            identities.append(IdentitySpec(IdentityType.EMAIL, address))
        if not identities:
            raise UsernameInvalid(field="username")
        self.policy.check(password, context_words=[spec.value.split("@")[0] for spec in identities])
        for spec in identities:
            if await self.find(session, spec.type, spec.value) is not None:
                raise IdentityTaken(field=spec.type)
        password_hash = await self.passwords.hash_async(password)
        user = await self.create_user(
            session,
            method=identities[0].type,
            identities=identities,
            province=None,
            password_hash=password_hash,
        )
        return await self.login(
            session,
            user,
            method="password",
            platform=platform,
            client=client,
            is_new_user=True,
        )

    # --- passwords ------------------------------------------------------------------------

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
        every other session ends. Returns the ended session ids."""
        user = await self.get_user_or_raise(session, user_id)
        credential = await repository.get_credential(session, user_id)
        if old_password is not None:
            stored = credential.password_hash if credential else None
            if stored is None or not await self.passwords.verify_async(stored, old_password):
                raise InvalidCredentials(field="old_password")
        elif sms_code is not None:
            phone = await self.phone_of(session, user_id)
            if phone is None or not await self.sms_codes.verify(
                phone, SmsPurpose.RESET_PASSWORD, sms_code
            ):
                raise CodeInvalid(field="sms_code")
        else:
            raise PasswordRequired()
        self.policy.check(new_password, context_words=[user.uid])
        await self._store_password(session, user, new_password, client, keep=session_id)
        return await self.tokens.end_sessions(
            session, user_id=user_id, reason="password_changed", keep=session_id
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
        ends. A wrong code and an unknown phone answer alike."""
        if phone:
            target, type_, codes = normalize_phone(phone).e164, IdentityType.PHONE, self.sms_codes
        elif email:
            target, type_, codes = normalize_email(email), IdentityType.EMAIL, self.email_codes
        else:
            raise PhoneInvalid(field="phone")
        if not await codes.verify(target, SmsPurpose.RESET_PASSWORD, code):
            raise CodeInvalid()
        identity = await self.find(session, type_, target)
        if identity is None:
            raise CodeInvalid()
        user = await self.get_user_or_raise(session, identity.user_id)
        self.policy.check(new_password, context_words=[user.uid])
        await self._store_password(session, user, new_password, client, keep=None)
        await self.tokens.end_sessions(session, user_id=user.id, reason="password_reset")

    async def _store_password(
        self,
        session: AsyncSession,
        user: User,
        new_password: str,
        client: ClientInfo,
        *,
        keep: str | None,
    ) -> None:
        password_hash = await self.passwords.hash_async(new_password)
        await repository.set_password_hash(session, user.id, password_hash, clock.now())
        await self.forget_view(user.id)
        for identity in await repository.identities_of(session, user.id):
            if identity.type in _PASSWORD_LOGIN_TYPES:
                await self.throttle.unlock(
                    self._login_subject(identity.type, identity.identifier_index)
                )
        await audit.record_auth_event(
            session,
            AuthEventKind.PASSWORD_CHANGED,
            user_id=user.id,
            client=client,
            session_id=keep,
        )

    # --- profile and status ---------------------------------------------------------------

    async def update_profile(
        self, session: AsyncSession, user_id: int, changes: dict[str, Any]
    ) -> UserView:
        """Change nickname, avatar, gender, birthday or signature (only the fields given)."""
        user = await self.get_user_or_raise(session, user_id)
        allowed = {"nickname", "avatar_url", "gender", "birthday", "signature"}
        for name, value in changes.items():
            if name in allowed:
                setattr(user, name, value)
        user.updated_at = clock.now()
        await session.flush()
        await self.forget_view(user_id)
        return await self.view(session, user)

    async def refresh(
        self, session: AsyncSession, *, refresh_token: str, client: ClientInfo
    ) -> IssuedTokens:
        """Rotate a refresh token (see TokenService.refresh: the rotation is atomic on its
        own, what else it writes goes in `session`)."""
        return await self.tokens.refresh(session, refresh_token, uid_of=self.uid_of, client=client)

    async def logout(
        self, session: AsyncSession, *, user_id: int, session_id: str, client: ClientInfo
    ) -> None:
        await self.tokens.end_session(
            session, user_id=user_id, session_id=session_id, reason="logout"
        )
        await audit.record_auth_event(
            session, AuthEventKind.LOGOUT, user_id=user_id, client=client, session_id=session_id
        )

    async def disable_user(self, session: AsyncSession, user_id: int) -> list[str]:
        """Disable a user: every session ends at once and no login succeeds."""
        user = await repository.lock_user(session, user_id)
        if user is None:
            raise UserNotFound()
        user.status = UserStatus.DISABLED
        user.updated_at = clock.now()
        await session.flush()
        await self.forget_view(user_id)
        return await self.tokens.end_sessions(session, user_id=user_id, reason="user_disabled")

    # --- for staff (issue 7) --------------------------------------------------------------

    async def search_users(
        self,
        session: AsyncSession,
        *,
        uid: str | None,
        phone: str | None,
        nickname: str | None,
        status: str | None,
        before_id: int | None,
        limit: int,
    ) -> list[User]:
        """Staff search: by uid, by phone (exact, through the blind index), by nickname, by
        status; filters combine."""
        user_id: int | None = None
        if phone:
            identity = await self.find(session, IdentityType.PHONE, normalize_phone(phone).e164)
            if identity is None:
                return []
            user_id = identity.user_id
        return await repository.search_users(
            session,
            user_id=user_id,
            uid=uid,
            nickname=nickname,
            status=status,
            before_id=before_id,
            limit=limit,
        )

    async def identities_for_staff(
        self, session: AsyncSession, user_id: int, *, reveal: bool
    ) -> list[tuple[Identity, str]]:
        """The user's identities with their identifier masked (or whole, `reveal`)."""
        shown: list[tuple[Identity, str]] = []
        for identity in await repository.identities_of(session, user_id):
            if identity.identifier_encrypted:
                plain = self.keyring.cipher.decrypt(
                    identity.identifier_encrypted, context=f"identity.{identity.type}"
                )
            else:
                plain = identity.identifier_index
            shown.append((identity, plain if reveal else mask_identifier(identity.type, plain)))
        return shown

    async def enable_user(self, session: AsyncSession, user_id: int) -> User:
        user = await repository.lock_user(session, user_id)
        if user is None:
            raise UserNotFound()
        if user.status == UserStatus.DISABLED:
            user.status = UserStatus.ACTIVE
            user.updated_at = clock.now()
            await session.flush()
            await self.forget_view(user_id)
        return user

    async def unbind_for_staff(
        self, session: AsyncSession, user_id: int, identity_id: int, client: ClientInfo
    ) -> None:
        """Remove an identity of a user who lost access to it (a lost phone), even the last
        one: the user then logs in another way or binds a new one through support."""
        identity = await repository.get_identity(session, identity_id)
        if identity is None or identity.user_id != user_id:
            raise UserNotFound(field="identity_id")
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
        )
        await self.forget_view(user_id)
