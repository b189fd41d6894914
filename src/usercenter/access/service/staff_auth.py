"""How a staff member proves who they are: password, then a TOTP code or a one-time recovery
code; the authenticator's enrolment and reset; logout."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.access import repository
from usercenter.access.errors import (
    SecondFactorRequired,
    StaffLocked,
    StaffLoginFailed,
    StaffNotFound,
    TotpAlreadyEnabled,
    TotpCodeInvalid,
    TotpNotStarted,
)
from usercenter.access.events import StaffCredentialsReset
from usercenter.access.models import StaffAccount, Status
from usercenter.access.service.permissions import Effective, PermissionService
from usercenter.access.service.staff import StaffService
from usercenter.audit import service as audit_service
from usercenter.audit.service import AuditDraft
from usercenter.config import Settings
from usercenter.identity.throttle import Locked, LoginThrottle
from usercenter.kit import clock
from usercenter.kit.cache import Counters, MemoryCounters
from usercenter.kit.client import ClientInfo
from usercenter.kit.events import EventSink
from usercenter.security.crypto import BlindIndex, FieldCipher
from usercenter.security.masking import masked_copy
from usercenter.security.passwords import PasswordHasher
from usercenter.tokens.service import TokenService

# How a staff login was proved, in its token's `amr` claim (RFC 8176): a password, a one-time
# code (the authenticator's or a recovery code).
AMR_PASSWORD = "pwd"
AMR_ONE_TIME_CODE = "otp"
RECOVERY_CODE_COUNT = 10
TOTP_CONTEXT = "staff.totp_secret"


@dataclass(slots=True)
class StaffLogin:
    staff: StaffAccount
    access_token: str
    expires_in: int
    session_id: str
    totp_enrolment_required: bool


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    secret: str
    provisioning_uri: str


class StaffAuthService:
    def __init__(
        self,
        *,
        settings: Settings,
        staff: StaffService,
        permissions: PermissionService,
        tokens: TokenService,
        cipher: FieldCipher,
        blind_index: BlindIndex,
        passwords: PasswordHasher,
        outbox: EventSink,
        counters: Counters | None = None,
    ) -> None:
        self.settings = settings
        self.outbox = outbox
        self.staff = staff
        self.permissions = permissions
        self.tokens = tokens
        self.cipher = cipher
        self.blind_index = blind_index
        self.passwords = passwords
        self._recovery_key = blind_index.derive_key("staff-recovery-code")
        self.session_lifetime = timedelta(seconds=settings.staff_session_ttl_seconds)
        # Lockouts in the counter store, which traffic cannot evict (the CLI passes none).
        self.throttle = LoginThrottle(
            counters if counters is not None else MemoryCounters(),
            max_failures=settings.login_max_failures,
            window_seconds=settings.login_failure_window_seconds,
            lock_seconds=settings.login_lock_seconds,
            captcha_after_address_failures=settings.login_captcha_after_address_failures,
        )

    def _recovery_hash(self, staff_id: int, code: str) -> str:
        normalized = code.strip().lower().replace("-", "").replace(" ", "")
        message = f"{staff_id}:{normalized}".encode()
        return hmac.new(self._recovery_key, message, hashlib.sha256).hexdigest()

    async def _accept_totp(
        self, session: AsyncSession, staff_id: int, secret: str, code: str
    ) -> bool:
        """True when `code` is right for now (±30 s) and its step was not used before."""
        code = code.strip()
        if not (code.isdigit() and len(code) == 6):
            return False
        totp = pyotp.TOTP(secret)
        now_step = totp.timecode(clock.now())
        for step in (now_step, now_step - 1, now_step + 1):
            if hmac.compare_digest(totp.generate_otp(step), code):
                return await repository.claim_totp_step(session, staff_id, step)
        return False

    # --- login and logout ---------------------------------------------------------------------

    async def login(
        self,
        session: AsyncSession,
        *,
        username: str,
        password: str,
        totp_code: str | None,
        recovery_code: str | None,
        client: ClientInfo,
        audit: AuditDraft,
    ) -> StaffLogin:
        """Password, then the second factor once enrolled. Without one (and with
        `staff_totp_required`), the session may only enrol it: see `needs_enrolment`. Raises
        StaffLoginFailed, SecondFactorRequired or StaffLocked; every outcome is logged in
        `audit`, the entry the route drafted (the request's username, masked, and notes)."""
        name = username.strip().lower()
        staff = await repository.staff_by_username(session, name) if name else None
        subject = (
            f"staff:{staff.id}"
            if staff
            else "staff-login:" + self.blind_index.compute(name, context="staff-login")[:32]
        )
        audit.request = masked_copy({"username": name})
        try:
            await self.throttle.begin_attempt(subject, await self.throttle.gate(subject, client.ip))
        except Locked as locked:
            await self._log_login(session, staff, audit, client, "locked")
            raise StaffLocked(locked.until) from None
        if staff is None or not password:
            await self.passwords.dummy_verify_async(password or "-")
            verified = False
        else:
            verified = await self.passwords.verify_async(staff.password_hash, password)
        if not verified or staff is None or staff.status != Status.ACTIVE:
            await self._fail_login(session, subject, staff, audit, client)
        assert staff is not None
        totp_secret = staff.totp_secret_encrypted if staff.totp_enabled_at is not None else None
        has_second_factor = bool(totp_secret)
        if totp_secret:
            if totp_code:
                secret = self.cipher.decrypt(totp_secret, context=TOTP_CONTEXT)
                accepted = await self._accept_totp(session, staff.id, secret, totp_code)
            elif recovery_code:
                accepted = await repository.use_recovery_code(
                    session, staff.id, self._recovery_hash(staff.id, recovery_code), clock.now()
                )
                audit.notes["recovery_code_used"] = accepted
            else:
                await self._log_login(session, staff, audit, client, "totp_required")
                raise SecondFactorRequired()
            if not accepted:
                await self._fail_login(session, subject, staff, audit, client)
        await self.throttle.succeeded(subject)
        now = clock.now()
        staff.last_login_at = now
        staff.last_login_ip = client.ip
        staff.updated_at = now
        if self.passwords.needs_rehash(staff.password_hash):
            staff.password_hash = await self.passwords.hash_async(password)
        amr = [AMR_PASSWORD, AMR_ONE_TIME_CODE] if has_second_factor else [AMR_PASSWORD]
        issued = await self.tokens.start_staff_session(
            session,
            staff_id=staff.id,
            method="password+totp" if has_second_factor else "password",
            client=client,
            lifetime=self.session_lifetime,
            amr=amr,
        )
        enrolment_only = self.needs_enrolment(amr)
        if enrolment_only:
            audit.notes["totp_enrolment_only"] = True
        await self._log_login(session, staff, audit, client, "ok")
        return StaffLogin(
            staff=staff,
            access_token=issued.access_token,
            expires_in=int(self.session_lifetime.total_seconds()),
            session_id=issued.session_id,
            totp_enrolment_required=enrolment_only,
        )

    def needs_enrolment(self, amr: Sequence[str]) -> bool:
        """A staff session proved by the password alone while TOTP is required: it may set up
        the authenticator (and see its own account, log out), nothing else."""
        return self.settings.staff_totp_required and AMR_ONE_TIME_CODE not in amr

    async def _fail_login(
        self,
        session: AsyncSession,
        subject: str,
        staff: StaffAccount | None,
        audit: AuditDraft,
        client: ClientInfo,
    ) -> None:
        until = await self.throttle.failed(subject, client.ip)
        await self._log_login(session, staff, audit, client, "failed")
        if until is not None:
            raise StaffLocked(until)
        raise StaffLoginFailed()

    async def _log_login(
        self,
        session: AsyncSession,
        staff: StaffAccount | None,
        audit: AuditDraft,
        client: ClientInfo,
        result: str,
    ) -> None:
        await audit_service.record_admin_action(
            session,
            audit,
            staff_id=staff.id if staff else None,
            username=staff.username if staff else None,
            client=client,
            result=result,
        )

    async def logout(self, session: AsyncSession, *, staff_id: int, session_id: str) -> None:
        await self.tokens.end_staff_session(
            session, staff_id=staff_id, session_id=session_id, reason="logout"
        )

    # --- the authenticator --------------------------------------------------------------------

    async def begin_totp(self, session: AsyncSession, staff_id: int) -> TotpEnrolment:
        """A new secret to scan; TotpAlreadyEnabled once confirmed (a reset starts over)."""
        staff = await self.staff.get_staff_or_raise(session, staff_id)
        if staff.totp_enabled_at is not None:
            raise TotpAlreadyEnabled()
        secret = pyotp.random_base32()
        staff.totp_pending_encrypted = self.cipher.encrypt(secret, context=TOTP_CONTEXT)
        staff.updated_at = clock.now()
        await session.flush()
        uri = pyotp.TOTP(secret).provisioning_uri(
            name=staff.username, issuer_name=self.settings.staff_totp_issuer
        )
        return TotpEnrolment(secret=secret, provisioning_uri=uri)

    async def confirm_totp(self, session: AsyncSession, staff_id: int, code: str) -> list[str]:
        """Turn TOTP on with a first code; returns the recovery codes (shown this once).
        Raises TotpNotStarted, TotpAlreadyEnabled or TotpCodeInvalid."""
        staff = await repository.lock_staff(session, staff_id)
        if staff is None:
            raise StaffNotFound()
        if staff.totp_enabled_at is not None:
            raise TotpAlreadyEnabled()
        if not staff.totp_pending_encrypted:
            raise TotpNotStarted()
        secret = self.cipher.decrypt(staff.totp_pending_encrypted, context=TOTP_CONTEXT)
        if not await self._accept_totp(session, staff.id, secret, code):
            raise TotpCodeInvalid()
        now = clock.now()
        staff.totp_secret_encrypted = staff.totp_pending_encrypted
        staff.totp_pending_encrypted = None
        staff.totp_enabled_at = now
        staff.updated_at = now
        codes = [
            f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODE_COUNT)
        ]
        await repository.replace_recovery_codes(
            session, staff.id, [self._recovery_hash(staff.id, c) for c in codes], now
        )
        await session.flush()
        return codes

    async def reset_totp(
        self,
        session: AsyncSession,
        staff_id: int,
        *,
        ceiling: Effective | None,
        by_staff_id: int | None = None,
    ) -> None:
        """Clear the staff member's authenticator and recovery codes and end their sessions
        (`staff.credentials_reset`); they enrol again at their next login. Raises
        StaffNotFound, or PrivilegeExceeded when they hold what `ceiling` does not."""
        staff = await self.staff.get_staff_or_raise(session, staff_id)
        await self.permissions.staff_within(session, staff.id, ceiling)
        staff.totp_secret_encrypted = None
        staff.totp_pending_encrypted = None
        staff.totp_enabled_at = None
        staff.updated_at = clock.now()
        await repository.replace_recovery_codes(session, staff.id, [], clock.now())
        await session.flush()
        await self.outbox.add(
            session, StaffCredentialsReset(staff_id=staff.id, by_staff_id=by_staff_id, what="totp")
        )
        await self.tokens.end_staff_sessions(session, staff_id=staff.id, reason="totp_reset")
