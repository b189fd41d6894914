"""The payment password (seed 000 §1.10, 004 §1.3): six digits, hashed with argon2id, set
with an SMS code to the bound phone, changed with the old one, reset with an SMS code (and the
ID number's last six digits once the user's identity is verified). Wrong tries are counted in
the database: five in a row lock it for a day (settings), whatever process the tries reach.

The value never leaves this module: not in answers, events, the change log ("changed") or the
log (`security.masking` hides every field named like a password).
"""

from __future__ import annotations

import hmac
import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.audit import service as audit
from usercenter.config import Settings
from usercenter.identity.errors import CodeInvalid
from usercenter.identity.service.context import IdentityContext, SmsPurpose
from usercenter.kit import clock
from usercenter.kit.client import ClientInfo
from usercenter.profile.errors import (
    IdNumberMismatch,
    PaymentPasswordAlreadySet,
    PaymentPasswordInvalid,
    PaymentPasswordLocked,
    PaymentPasswordNotSet,
    PaymentPasswordTooSimple,
    PaymentPasswordWrong,
)
from usercenter.profile.events import PaymentPasswordChanged
from usercenter.profile.models import PaymentPassword
from usercenter.profile.repository import payment_password as repository
from usercenter.profile.service.verification_views import VerifiedIdentity
from usercenter.security.passwords import PasswordHasher

PAYMENT_PASSWORD_LENGTH = 6
# How a payment password came to change, and the change-log action of each.
ChangeHow = Literal["set", "changed", "reset"]
_LOG_ACTIONS = {"set": "set", "changed": "update", "reset": "reset"}


class VerifiedIdentities(Protocol):
    """The real-name verification, as the payment password needs it (wired in `app.py`)."""

    async def verified_identity(
        self, session: AsyncSession, user_id: int
    ) -> VerifiedIdentity | None: ...


@dataclass(frozen=True, slots=True)
class PaymentPasswordStatus:
    is_set: bool
    locked_until: datetime | None


def birth_date_forms(birthday: date) -> set[str]:
    """A birth date as six digits the ways people write it: YYMMDD, MMDDYY, DDMMYY."""
    yy, mm, dd = f"{birthday.year % 100:02d}", f"{birthday.month:02d}", f"{birthday.day:02d}"
    return {yy + mm + dd, mm + dd + yy, dd + mm + yy}


def is_trivial(password: str, birthdays: list[date]) -> bool:
    """One digit repeated (111111), a run up or down (123456, 654321, 890123), or a birth
    date in any of `birth_date_forms`."""
    digits = [int(c) for c in password]
    steps = {(b - a) % 10 for a, b in itertools.pairwise(digits)}
    if steps in ({0}, {1}, {9}):
        return True
    return any(password in birth_date_forms(day) for day in birthdays)


def check_format(password: str, field: str = "password") -> None:
    """Raises PaymentPasswordInvalid unless `password` is six ASCII digits."""
    if len(password) != PAYMENT_PASSWORD_LENGTH or not (password.isascii() and password.isdigit()):
        raise PaymentPasswordInvalid(field=field)


class PaymentPasswordService:
    def __init__(
        self,
        context: IdentityContext,
        *,
        settings: Settings,
        hasher: PasswordHasher,
        identities: VerifiedIdentities,
    ) -> None:
        self.context = context
        self.hasher = hasher
        self.identities = identities
        self.max_failures = settings.profile_payment_password_max_failures
        self.lock_seconds = settings.profile_payment_password_lock_seconds

    async def status(self, session: AsyncSession, user_id: int) -> PaymentPasswordStatus:
        """Whether the user has a payment password, and until when it is locked (None: not
        locked). Raises UserNotFound."""
        await self.context.user_or_raise(session, user_id)
        row = await repository.get_payment_password(session, user_id)
        if row is None:
            return PaymentPasswordStatus(is_set=False, locked_until=None)
        locked = row.locked_until if row.locked_until and row.locked_until > clock.now() else None
        return PaymentPasswordStatus(is_set=True, locked_until=locked)

    async def has_payment_password(self, session: AsyncSession, user_id: int) -> bool:
        return await repository.payment_password_exists(session, user_id)

    async def save_payment_password(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        password: str,
        sms_code: str | None,
        old_password: str | None,
        client: ClientInfo,
    ) -> None:
        """PUT's two meanings: a change when the old password is given, else the first set
        (with an SMS code). Raises what `change_payment_password` and `set_payment_password`
        raise, CodeInvalid for neither."""
        if old_password is not None:
            await self.change_payment_password(
                session,
                user_id=user_id,
                old_password=old_password,
                password=password,
                client=client,
            )
            return
        if sms_code is None:
            if await repository.payment_password_exists(session, user_id):
                raise PaymentPasswordAlreadySet()
            raise CodeInvalid(field="sms_code")
        await self.set_payment_password(
            session, user_id=user_id, password=password, sms_code=sms_code, client=client
        )

    async def set_payment_password(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        password: str,
        sms_code: str,
        client: ClientInfo,
    ) -> None:
        """Set the first payment password, proven by an SMS code (purpose payment_password)
        to the bound phone. Raises PaymentPasswordInvalid, PaymentPasswordTooSimple,
        PaymentPasswordAlreadySet, CodeInvalid, UserNotFound."""
        await self._check_new(session, user_id, password)
        if await repository.payment_password_exists(session, user_id):
            raise PaymentPasswordAlreadySet()
        await self._check_sms_code(session, user_id, sms_code)
        now = clock.now()
        # Two first sets at once: the primary key lets one insert win.
        is_first = await repository.add_payment_password(
            session,
            PaymentPassword(
                user_id=user_id,
                password_hash=await self.hasher.hash_async(password),
                failed_count=0,
                locked_until=None,
                changed_at=now,
                created_at=now,
            ),
        )
        if not is_first:
            raise PaymentPasswordAlreadySet()
        await self._record(session, user_id, "set", client)

    async def change_payment_password(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        old_password: str,
        password: str,
        client: ClientInfo,
    ) -> None:
        """Replace the payment password, proven by the old one (a wrong old one counts as a
        wrong try). Raises PaymentPasswordNotSet, PaymentPasswordWrong, PaymentPasswordLocked,
        PaymentPasswordInvalid, PaymentPasswordTooSimple."""
        await self._check_new(session, user_id, password)
        await self.verify_or_raise(session, user_id, old_password, field="old_password")
        await repository.replace_payment_password_hash(
            session, user_id, await self.hasher.hash_async(password), clock.now()
        )
        await self._record(session, user_id, "changed", client)

    async def reset_payment_password(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        password: str,
        sms_code: str,
        id_number_last_six: str | None,
        client: ClientInfo,
    ) -> None:
        """Reset a forgotten payment password with an SMS code to the bound phone and, when
        the user's identity is verified, the last six characters of the ID number; lifts a
        lock. Raises PaymentPasswordNotSet, CodeInvalid, IdNumberMismatch,
        PaymentPasswordInvalid, PaymentPasswordTooSimple."""
        await self._check_new(session, user_id, password)
        if not await repository.payment_password_exists(session, user_id):
            raise PaymentPasswordNotSet()
        verified = await self.identities.verified_identity(session, user_id)
        if verified is not None and verified.number_last_six is not None:
            given = (id_number_last_six or "").strip().upper()
            if not hmac.compare_digest(given.encode(), verified.number_last_six.upper().encode()):
                raise IdNumberMismatch()
        await self._check_sms_code(session, user_id, sms_code)
        await repository.replace_payment_password_hash(
            session, user_id, await self.hasher.hash_async(password), clock.now()
        )
        await self._record(session, user_id, "reset", client)

    async def verify_or_raise(
        self, session: AsyncSession, user_id: int, password: str, *, field: str = "password"
    ) -> None:
        """Check the payment password. A wrong one is counted (in the row, atomically); the
        one that reaches the limit locks it; while locked even the right one is refused.
        Raises PaymentPasswordNotSet, PaymentPasswordLocked, PaymentPasswordWrong (both keep
        the count: their unit of work commits)."""
        now = clock.now()
        row = await repository.get_payment_password(session, user_id)
        if row is None:
            raise PaymentPasswordNotSet()
        if row.locked_until is not None and row.locked_until <= now:
            await repository.clear_expired_lock(session, user_id, now)
            row = await repository.get_payment_password(session, user_id)
            if row is None:
                raise PaymentPasswordNotSet()
        if row.locked_until is not None and row.locked_until > now:
            raise PaymentPasswordLocked(until=row.locked_until)
        is_right = (
            len(password) == PAYMENT_PASSWORD_LENGTH
            and password.isascii()
            and password.isdigit()
            and await self.hasher.verify_async(row.password_hash, password)
        )
        if is_right:
            if not await repository.clear_wrong_tries(session, user_id, now):
                await self._raise_locked(session, user_id)
            return
        counted, failed, locked_until = await repository.count_wrong_try(
            session,
            user_id,
            now=now,
            max_failures=self.max_failures,
            lock_until=now + timedelta(seconds=self.lock_seconds),
        )
        if locked_until is not None and (not counted or failed >= self.max_failures):
            raise PaymentPasswordLocked(until=locked_until, field=field)
        raise PaymentPasswordWrong(remaining=max(0, self.max_failures - failed), field=field)

    async def _raise_locked(self, session: AsyncSession, user_id: int) -> None:
        row = await repository.get_payment_password(session, user_id)
        until = row.locked_until if row is not None else None
        raise PaymentPasswordLocked(until=until or clock.now())

    async def _check_new(self, session: AsyncSession, user_id: int, password: str) -> None:
        check_format(password)
        user = await self.context.user_or_raise(session, user_id)
        birthdays = [user.birthday] if user.birthday else []
        verified = await self.identities.verified_identity(session, user_id)
        if verified is not None and verified.birth_date is not None:
            birthdays.append(verified.birth_date)
        if is_trivial(password, birthdays):
            raise PaymentPasswordTooSimple()

    async def _check_sms_code(self, session: AsyncSession, user_id: int, code: str) -> None:
        phone = await self.context.phone_of(session, user_id)
        if phone is None or not await self.context.sms_codes.verify(
            phone, SmsPurpose.PAYMENT_PASSWORD, code
        ):
            raise CodeInvalid(field="sms_code")

    async def _record(
        self, session: AsyncSession, user_id: int, how: ChangeHow, client: ClientInfo
    ) -> None:
        """The event and the change-log row of a set, change or reset: that it changed,
        never the value."""
        uid = await self.context.uid_or_raise(session, user_id)
        await self.context.outbox.add(
            session,
            PaymentPasswordChanged(user_id=user_id, uid=uid, how=how),
        )
        await audit.record_profile_change(
            session,
            user_id=user_id,
            action=_LOG_ACTIONS[how],
            attribute="payment_password",
            client=client,
            old_value=None,
            new_value="changed",
        )
