"""What every identity capability shares: identifiers as stored (an HMAC blind index for
lookup, AES-GCM ciphertext for display), the one-time code stores, the login throttle, the
cached user views and the user row lookup."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.config import Settings
from usercenter.identity import repository
from usercenter.identity.codes import SendLimits, VerificationCodes
from usercenter.identity.errors import UserNotFound
from usercenter.identity.events import UserIdentityUnbound
from usercenter.identity.models import Identity, IdentityType, User, UserStatus
from usercenter.identity.service.user_views import UserViews
from usercenter.identity.throttle import LoginThrottle
from usercenter.ids.service import IdService
from usercenter.kit import clock
from usercenter.kit.cache import Counters
from usercenter.kit.events import EventSink
from usercenter.kit.session_hooks import ConsentGate
from usercenter.security.keys import Keyring
from usercenter.security.masking import mask_identifier
from usercenter.tokens.service import TokenService

USER_ID_SEGMENT = "USER"
PROVIDER_SECRET_CONTEXT = "tokens.provider_secret"
PASSWORD_LOGIN_TYPES = (IdentityType.PHONE, IdentityType.EMAIL, IdentityType.USERNAME)


class SmsPurpose:
    LOGIN = "login"
    BIND = "bind"
    RESET_PASSWORD = "reset_password"
    CHANGE_PHONE = "change_phone"
    PAYMENT_PASSWORD = "payment_password"


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


def masked_identifier(type_: str, value: str) -> str:
    """An identifier as events show it: `138****8888` (a mainland number without its +86),
    `z***@example.com`, a username whole, the ends of an openid."""
    if type_ == IdentityType.PHONE:
        value = value.removeprefix("+86")
    return mask_identifier(type_, value)


def login_subject(type_: str, index: str) -> str:
    """What failed logins are counted against: the login as normalised (its blind index for a
    phone or e-mail), the same whether or not an account has it."""
    return f"login:{type_}:{index}"


class IdentityContext:
    """The collaborators and the small helpers every identity service uses."""

    def __init__(
        self,
        *,
        settings: Settings,
        keyring: Keyring,
        counters: Counters,
        ids: IdService,
        tokens: TokenService,
        views: UserViews,
        outbox: EventSink,
        consents: ConsentGate | None = None,
    ) -> None:
        """`consents`: what a login asks which policy versions the user has still to accept
        (the profile's consents; none: nothing is ever required)."""
        self.settings = settings
        self.consents = consents
        self.outbox = outbox
        self.keyring = keyring
        self.ids = ids
        self.tokens = tokens
        self.views = views
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

    def index(self, type_: str, value: str) -> str:
        if type_ in (IdentityType.PHONE, IdentityType.EMAIL):
            return self.keyring.blind_index.compute(value, context=f"identity.{type_}")
        return value

    def _encrypt(self, type_: str, value: str) -> str | None:
        if type_ in (IdentityType.PHONE, IdentityType.EMAIL):
            return self.keyring.cipher.encrypt(value, context=f"identity.{type_}")
        return None

    def reveal(self, identity: Identity) -> str:
        """The identifier whole: decrypted for a phone or e-mail, else as indexed."""
        if identity.identifier_encrypted:
            return self.keyring.cipher.decrypt(
                identity.identifier_encrypted, context=f"identity.{identity.type}"
            )
        return identity.identifier_index

    async def find(self, session: AsyncSession, type_: str, value: str) -> Identity | None:
        return await repository.find_identity(session, type_, self.index(type_, value))

    def new_identity(self, user_id: int, spec: IdentitySpec) -> Identity:
        now = clock.now()
        return Identity(
            user_id=user_id,
            type=spec.type,
            provider=spec.provider,
            provider_app=spec.provider_app,
            identifier_index=self.index(spec.type, spec.value),
            identifier_encrypted=self._encrypt(spec.type, spec.value),
            union_id=spec.union_id,
            verified_at=now if spec.type != IdentityType.USERNAME else None,
            created_at=now,
            updated_at=now,
        )

    async def phone_of(self, session: AsyncSession, user_id: int) -> str | None:
        for identity in await repository.identities_of(session, user_id):
            if identity.type == IdentityType.PHONE and identity.identifier_encrypted:
                return self.keyring.cipher.decrypt(
                    identity.identifier_encrypted, context="identity.phone"
                )
        return None

    def masked(self, identity: Identity) -> str:
        """A stored identity's identifier, masked (`masked_identifier`)."""
        return masked_identifier(identity.type, self.reveal(identity))

    async def uid_or_raise(self, session: AsyncSession, user_id: int) -> str:
        """The user's display uid (what every user event carries); UserNotFound for no user."""
        uid = await repository.uid_of(session, user_id)
        if uid is None:
            raise UserNotFound()
        return uid

    async def record_unbound(
        self, session: AsyncSession, identity: Identity, *, by_staff_id: int | None = None
    ) -> None:
        """The `user.identity_unbound` event of an identity being removed, in `session`."""
        await self.outbox.add(
            session,
            UserIdentityUnbound(
                user_id=identity.user_id,
                uid=await self.uid_or_raise(session, identity.user_id),
                identity_type=identity.type,
                identifier_masked=self.masked(identity),
                app_id=identity.provider_app or None,
                by_staff_id=by_staff_id,
            ),
        )

    async def user_or_raise(self, session: AsyncSession, user_id: int) -> User:
        """The user row; UserNotFound for no user or a deleted one."""
        user = await repository.get_user(session, user_id)
        if user is None or user.status == UserStatus.DELETED:
            raise UserNotFound()
        return user
