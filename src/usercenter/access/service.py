"""The access rules: effective permissions (by code, scoped, cached), staff accounts with
TOTP, roles/permissions/grants management and the admin log.

Cached permissions are keyed by `access_version`, a row every change moves in its own
transaction. A process trusts the version it last read for `access_memo_seconds` (0.5 s), so
a change committed anywhere is seen everywhere within that; with Redis, the change is also
published once committed and every process forgets the version at once (the poll stays as the
fallback for a lost message). A subject's permissions computed for a version are kept in the
shared cache (Redis when configured) and in process memory.
A stale value can never be stored under a newer version: the version is read before the
permissions, and the change and its version move commit together.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pyotp
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.access import repository
from usercenter.access.errors import (
    GrantExists,
    GrantNotFound,
    PermissionCodeTaken,
    PermissionDenied,
    PermissionNotFound,
    PrivilegeExceeded,
    RoleAudienceMismatch,
    RoleCodeTaken,
    RoleNotFound,
    ScopeInvalid,
    SecondFactorRequired,
    StaffLocked,
    StaffLoginFailed,
    StaffNotFound,
    StaffUsernameTaken,
    TotpAlreadyEnabled,
    TotpCodeInvalid,
    TotpNotStarted,
)
from usercenter.access.models import (
    Grant,
    Permission,
    PermissionKind,
    Role,
    ScopeType,
    StaffAccount,
    Status,
    SubjectType,
)
from usercenter.audit import service as audit_service
from usercenter.audit.models import AuthEvent
from usercenter.audit.service import AuditDraft
from usercenter.config import Settings
from usercenter.db import Database
from usercenter.identity.errors import UserNotFound
from usercenter.identity.service.accounts import UserAccounts
from usercenter.identity.throttle import Locked, LoginThrottle
from usercenter.identity.views import IdentityRecord, UserSummary
from usercenter.ids.service import IdService
from usercenter.kit import clock
from usercenter.kit.broadcast import Broadcast
from usercenter.kit.cache import Cache, Counters, MemoryCounters
from usercenter.kit.client import ClientInfo, Platform
from usercenter.kit.schemas import MAX_INT64
from usercenter.security.crypto import BlindIndex, FieldCipher
from usercenter.security.masking import mask_device_id, mask_ip, masked_copy
from usercenter.security.passwords import PasswordHasher, PasswordPolicy
from usercenter.tokens.models import Session
from usercenter.tokens.service import TokenService

STAFF_ID_SEGMENT = "STAFF"
EVERYWHERE = "*"
# The role that holds every permission, those created later included (the migration seeds it
# with all of them; create_permission adds each new one).
SUPER_ADMIN_ROLE = "super_admin"
# How a staff login was proved, in its token's `amr` claim (RFC 8176): a password, a one-time
# code (the authenticator's or a recovery code).
AMR_PASSWORD = "pwd"
AMR_ONE_TIME_CODE = "otp"
PERMISSIONS_CACHE_TTL_SECONDS = 300
RECOVERY_CODE_COUNT = 10
RECENT_LOGINS = 20
TOTP_CONTEXT = "staff.totp_secret"
CHANGES_CHANNEL = "usercenter:access:changed"
_LOCAL_ENTRIES_MAX = 50_000
# Request fields never copied into the log in clear (compared lower-cased, substrings).


@dataclass(frozen=True, slots=True)
class Scope:
    type: str
    id: int

    def key(self) -> str:
        return f"{self.type}:{self.id}"


@dataclass(frozen=True, slots=True)
class Subject:
    type: str
    id: int

    def key(self) -> str:
        return f"{self.type}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> Subject | None:
        """`staff:5`, `user:123` or a bare user id `123`."""
        kind, sep, rest = text.partition(":")
        if not sep:
            kind, rest = SubjectType.USER, text
        if kind not in (SubjectType.USER, SubjectType.STAFF) or not rest.isdigit():
            return None
        subject_id = int(rest)
        return cls(kind, subject_id) if 1 <= subject_id <= MAX_INT64 else None


@dataclass(frozen=True, slots=True)
class Effective:
    """What a subject may do: permission code -> the scopes it holds it in (`*`: all)."""

    held: Mapping[str, frozenset[str]]

    def allows(self, code: str, scope: Scope | None = None) -> bool:
        scopes = self.held.get(code)
        if not scopes:
            return False
        return EVERYWHERE in scopes or (scope is not None and scope.key() in scopes)

    def lacks(self, other: Effective) -> list[str]:
        """The codes `other` holds somewhere this does not hold (everywhere, or in each of
        those scopes): what a holder of this may not hand out nor manage."""
        missing = []
        for code, scopes in other.held.items():
            mine = self.held.get(code, frozenset())
            if EVERYWHERE not in mine and not scopes <= mine:
                missing.append(code)
        return sorted(missing)

    def to_json(self) -> str:
        return json.dumps({code: sorted(scopes) for code, scopes in self.held.items()})

    @classmethod
    def from_json(cls, text: str) -> Effective:
        return cls({code: frozenset(scopes) for code, scopes in json.loads(text).items()})


NOTHING = Effective({})


def _within(ceiling: Effective | None, wanted: Effective) -> None:
    """Raise PrivilegeExceeded unless `ceiling` (the acting staff member's permissions; None:
    a trusted caller such as the command line) holds all of `wanted`."""
    if ceiling is None:
        return
    missing = ceiling.lacks(wanted)
    if missing:
        more = f" (+{len(missing) - 10})" if len(missing) > 10 else ""
        raise PrivilegeExceeded(missing=", ".join(missing[:10]) + more)


def _codes_in(codes: Sequence[str], scope: Scope | None = None) -> Effective:
    where = frozenset({scope.key() if scope else EVERYWHERE})
    return Effective(dict.fromkeys(codes, where))


@dataclass(slots=True)
class StaffLogin:
    staff: StaffAccount
    access_token: str
    expires_in: int
    session_id: str
    totp_enrolment_required: bool


@dataclass(frozen=True, slots=True)
class UserDetail:
    """A user for staff: identities, live sessions and recent logins, the addresses and
    device ids in them masked unless revealed."""

    user: UserSummary
    identities: list[IdentityRecord]
    sessions: list[Session]
    logins: list[AuthEvent]


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    secret: str
    provisioning_uri: str


@dataclass(frozen=True, slots=True)
class PermissionNode:
    id: int
    code: str
    name: str
    kind: str
    path: str | None
    sort_order: int
    status: str
    scopes: list[str]
    children: list[PermissionNode]


class _VersionMemo:
    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.value: int | None = None
        self.read_at = 0.0

    def get(self) -> int | None:
        if self.value is None or time.monotonic() - self.read_at >= self.ttl:
            return None
        return self.value

    def put(self, value: int, read_at: float) -> None:
        self.value, self.read_at = value, read_at

    def drop(self) -> None:
        self.value = None


class AccessService:
    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        cache: Cache,
        ids: IdService,
        tokens: TokenService,
        cipher: FieldCipher,
        blind_index: BlindIndex,
        passwords: PasswordHasher,
        policy: PasswordPolicy,
        broadcast: Broadcast | None = None,
        counters: Counters | None = None,
        identity: UserAccounts | None = None,
    ) -> None:
        self.settings = settings
        # Roles are granted to users only where it is wired (the app; not the command line).
        self.identity = identity
        self.broadcast = broadcast
        self.database = database
        self.cache = cache
        self.ids = ids
        self.tokens = tokens
        self.cipher = cipher
        self.blind_index = blind_index
        self.passwords = passwords
        self.policy = policy
        self._recovery_key = blind_index.derive_key("staff-recovery-code")
        self._version = _VersionMemo(settings.access_memo_seconds)
        self._local: dict[tuple[int, str], Effective] = {}
        self.session_lifetime = timedelta(seconds=settings.staff_session_ttl_seconds)
        # Lockouts in the counter store, which traffic cannot evict (the CLI passes none).
        self.throttle = LoginThrottle(
            counters if counters is not None else MemoryCounters(),
            max_failures=settings.login_max_failures,
            window_seconds=settings.login_failure_window_seconds,
            lock_seconds=settings.login_lock_seconds,
            captcha_after_address_failures=settings.login_captcha_after_address_failures,
        )

    # --- effective permissions ----------------------------------------------------------------

    async def _current_version(self) -> int:
        version = self._version.get()
        if version is not None:
            return version
        read_at = time.monotonic()
        async with self.database.read_session() as session:
            version = await repository.access_version(session)
        if version != self._version.value:
            self._local.clear()
        self._version.put(version, read_at)
        return version

    async def effective(self, subject: Subject) -> Effective:
        """The subject's permissions, from process memory, the cache or the database."""
        found = self._local.get((await self._current_version(), subject.key()))
        if found is not None:
            return found
        return (await self.effective_many([subject]))[subject.key()]

    async def effective_many(self, subjects: Sequence[Subject]) -> dict[str, Effective]:
        """Several subjects' permissions, by subject key: process memory first, then one cache
        round trip for the rest, then one database session for what neither had."""
        version = await self._current_version()
        found: dict[str, Effective] = {}
        missing: dict[str, Subject] = {}
        for subject in subjects:
            key = subject.key()
            hit = self._local.get((version, key))
            if hit is not None:
                found[key] = hit
            else:
                missing[key] = subject
        if not missing:
            return found
        keys = list(missing)
        cached = await self.cache.get_many(*(f"access:perm:{version}:{key}" for key in keys))
        to_compute = [key for key, text in zip(keys, cached, strict=True) if text is None]
        for key, text in zip(keys, cached, strict=True):
            if text is not None:
                found[key] = Effective.from_json(text)
        if to_compute:
            async with self.database.read_session() as session:
                for key in to_compute:
                    found[key] = await self._compute(session, missing[key])
            for key in to_compute:
                await self.cache.set(
                    f"access:perm:{version}:{key}",
                    found[key].to_json(),
                    ttl=PERMISSIONS_CACHE_TTL_SECONDS,
                )
        if len(self._local) + len(missing) > _LOCAL_ENTRIES_MAX:
            self._local.clear()
        for key in missing:
            self._local[(version, key)] = found[key]
        return found

    async def _compute(self, session: AsyncSession, subject: Subject) -> Effective:
        if subject.type == SubjectType.STAFF:
            status = await repository.staff_status(session, subject.id)
            if status != Status.ACTIVE:
                return NOTHING
        return await self._held(session, subject)

    async def _held(self, session: AsyncSession, subject: Subject) -> Effective:
        """What the subject's grants give, whatever the account's status (a disabled staff
        member's power is what enabling them gives back)."""
        held: dict[str, set[str]] = {}
        for code, scope_type, scope_id in await repository.held_permissions(
            session, subject.type, subject.id
        ):
            held.setdefault(code, set()).add(
                f"{scope_type}:{scope_id}" if scope_type else EVERYWHERE
            )
        return Effective({code: frozenset(scopes) for code, scopes in held.items()})

    async def is_allowed(self, subject: Subject, code: str, scope: Scope | None = None) -> bool:
        return (await self.effective(subject)).allows(code, scope)

    async def _changed(self, session: AsyncSession) -> None:
        """Every change calls this in its transaction: cached permissions go stale with it,
        here at once and, once it commits, in every other process too."""
        await repository.bump_access_version(session)
        self._version.drop()
        if not session.info.get("access_changed"):
            session.info["access_changed"] = True
            event.listen(session.sync_session, "after_commit", self._committed, once=True)

    def _committed(self, session: Any) -> None:
        # Dropped again: a request of this process may have read the old version meanwhile.
        session.info.pop("access_changed", None)
        self._version.drop()
        if self.broadcast is not None:
            self.broadcast.publish_soon("changed")

    def _heard(self, message: str | None) -> None:
        """A change published by a process (or a new subscription: some may have been
        missed): read the version again on the next check."""
        self._version.drop()

    def start(self) -> None:
        """Listen for changes other processes publish (with Redis); in the running loop."""
        if self.broadcast is not None:
            self.broadcast.listen(self._heard)

    async def close(self) -> None:
        if self.broadcast is not None:
            await self.broadcast.close()

    async def permission_tree(
        self, session: AsyncSession, subject: Subject
    ) -> list[PermissionNode]:
        """The menus, buttons and APIs the subject holds, as a tree (parents of held nodes
        included), for a front end to build its routes."""
        effective = await self.effective(subject)
        rows = [p for p in await repository.all_permissions(session) if p.status == Status.ACTIVE]
        by_id = {p.id: p for p in rows}
        wanted: set[int] = set()
        for row in rows:
            if row.code in effective.held:
                node: Permission | None = row
                while node is not None and node.id not in wanted:
                    wanted.add(node.id)
                    node = by_id.get(node.parent_id) if node.parent_id else None
        return self._tree([p for p in rows if p.id in wanted], effective)

    def _tree(
        self, rows: Sequence[Permission], effective: Effective | None
    ) -> list[PermissionNode]:
        children: dict[int | None, list[Permission]] = {}
        ids = {row.id for row in rows}
        for row in rows:
            parent = row.parent_id if row.parent_id in ids else None
            children.setdefault(parent, []).append(row)

        def build(parent: int | None) -> list[PermissionNode]:
            return [
                PermissionNode(
                    id=row.id,
                    code=row.code,
                    name=row.name,
                    kind=row.kind,
                    path=row.path,
                    sort_order=row.sort_order,
                    status=row.status,
                    scopes=sorted(effective.held.get(row.code, ())) if effective else [],
                    children=build(row.id),
                )
                for row in sorted(children.get(parent, []), key=lambda r: (r.sort_order, r.id))
            ]

        return build(None)

    # --- staff login and TOTP -----------------------------------------------------------------

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

    async def login(
        self,
        session: AsyncSession,
        *,
        username: str,
        password: str,
        totp_code: str | None,
        recovery_code: str | None,
        client: ClientInfo,
    ) -> StaffLogin:
        """Password, then the second factor once enrolled. Without one (and with
        `staff_totp_required`), the session may only enrol it: see `needs_enrolment`. Raises
        StaffLoginFailed, SecondFactorRequired or StaffLocked; every outcome is logged."""
        name = username.strip().lower()
        staff = await repository.staff_by_username(session, name) if name else None
        subject = (
            f"staff:{staff.id}"
            if staff
            else "staff-login:" + self.blind_index.compute(name, context="staff-login")[:32]
        )
        draft = AuditDraft("auth.login", "auth", "POST", "/v1/admin/auth/login")
        draft.request = masked_copy({"username": name})
        try:
            await self.throttle.begin_attempt(subject, await self.throttle.gate(subject, client.ip))
        except Locked as locked:
            await self._log_login(session, staff, draft, client, "locked")
            raise StaffLocked(locked.until) from None
        if staff is None or not password:
            await self.passwords.dummy_verify_async(password or "-")
            verified = False
        else:
            verified = await self.passwords.verify_async(staff.password_hash, password)
        if not verified or staff is None or staff.status != Status.ACTIVE:
            await self._fail_login(session, subject, staff, draft, client)
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
                draft.notes["recovery_code_used"] = accepted
            else:
                await self._log_login(session, staff, draft, client, "totp_required")
                raise SecondFactorRequired()
            if not accepted:
                await self._fail_login(session, subject, staff, draft, client)
        await self.throttle.succeeded(subject)
        now = clock.now()
        staff.last_login_at = now
        staff.last_login_ip = client.ip
        staff.updated_at = now
        if self.passwords.needs_rehash(staff.password_hash):
            staff.password_hash = await self.passwords.hash_async(password)
        amr = [AMR_PASSWORD, AMR_ONE_TIME_CODE] if has_second_factor else [AMR_PASSWORD]
        issued = await self.tokens.start_session(
            session,
            user_id=-staff.id,
            uid="staff",
            platform=Platform.ADMIN,
            method="password+totp" if has_second_factor else "password",
            client=client,
            lifetime=self.session_lifetime,
            amr=amr,
        )
        enrolment_only = self.needs_enrolment(amr)
        if enrolment_only:
            draft.notes["totp_enrolment_only"] = True
        await self._log_login(session, staff, draft, client, "ok")
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
        draft: AuditDraft,
        client: ClientInfo,
    ) -> None:
        until = await self.throttle.failed(subject, client.ip)
        await self._log_login(session, staff, draft, client, "failed")
        if until is not None:
            raise StaffLocked(until)
        raise StaffLoginFailed()

    async def _log_login(
        self,
        session: AsyncSession,
        staff: StaffAccount | None,
        draft: AuditDraft,
        client: ClientInfo,
        result: str,
    ) -> None:
        await audit_service.record_admin_action(
            session,
            draft,
            staff_id=staff.id if staff else None,
            username=staff.username if staff else None,
            client=client,
            result=result,
        )

    async def logout(self, session: AsyncSession, *, staff_id: int, session_id: str) -> None:
        await self.tokens.end_session(
            session, user_id=-staff_id, session_id=session_id, reason="logout"
        )

    async def begin_totp(self, session: AsyncSession, staff_id: int) -> TotpEnrolment:
        """A new secret to scan; TotpAlreadyEnabled once confirmed (a reset starts over)."""
        staff = await self.get_staff_or_raise(session, staff_id)
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
        self, session: AsyncSession, staff_id: int, *, ceiling: Effective | None
    ) -> None:
        """Clear the staff member's authenticator and recovery codes and end their sessions;
        they enrol again at their next login. Raises StaffNotFound, or PrivilegeExceeded when
        they hold what `ceiling` does not."""
        staff = await self.get_staff_or_raise(session, staff_id)
        await self._staff_within(session, staff.id, ceiling)
        staff.totp_secret_encrypted = None
        staff.totp_pending_encrypted = None
        staff.totp_enabled_at = None
        staff.updated_at = clock.now()
        await repository.replace_recovery_codes(session, staff.id, [], clock.now())
        await session.flush()
        await self.tokens.end_sessions(session, user_id=-staff.id, reason="totp_reset")

    # --- staff accounts -----------------------------------------------------------------------

    async def staff_username(self, staff_id: int) -> str:
        """A staff member's login name, read outside the caller's transaction (which on SQLite
        would take the write lock before the call's work has begun). Raises StaffNotFound."""
        async with self.database.read_session() as session:
            return (await self.get_staff_or_raise(session, staff_id)).username

    async def get_staff_or_raise(self, session: AsyncSession, staff_id: int) -> StaffAccount:
        staff = await repository.get_staff(session, staff_id)
        if staff is None:
            raise StaffNotFound()
        return staff

    async def _staff_within(
        self, session: AsyncSession, staff_id: int, ceiling: Effective | None
    ) -> None:
        """PrivilegeExceeded unless `ceiling` holds all the staff member's grants give."""
        if ceiling is not None:
            _within(ceiling, await self._held(session, Subject(SubjectType.STAFF, staff_id)))

    async def create_staff(
        self,
        session: AsyncSession,
        *,
        username: str,
        password: str,
        display_name: str | None = None,
        user_id: int | None = None,
        related_partner_id: int | None = None,
        roles: Sequence[str] = (),
        created_by: int | None = None,
        ceiling: Effective | None,
    ) -> StaffAccount:
        """A staff account holding `roles` everywhere. Raises StaffUsernameTaken,
        PasswordTooWeak, RoleNotFound, RoleAudienceMismatch (a user role), or
        PrivilegeExceeded when a role holds what `ceiling` does not."""
        name = username.strip().lower()
        for code in roles:
            role = await repository.role_by_code(session, code)
            if role is None:
                raise RoleNotFound(field="roles")
            if role.audience != SubjectType.STAFF:
                raise RoleAudienceMismatch(field="roles")
            if ceiling is not None:
                held = await repository.role_permission_codes(session, [role.id])
                _within(ceiling, _codes_in(held[role.id]))
        if await repository.staff_by_username(session, name) is not None:
            raise StaffUsernameTaken()
        self.policy.check(password, context_words=[name])
        now = clock.now()
        staff = StaffAccount(
            id=await self.ids.next_id(STAFF_ID_SEGMENT, session=session),
            username=name,
            display_name=display_name,
            password_hash=await self.passwords.hash_async(password),
            totp_last_step=0,
            status=Status.ACTIVE,
            user_id=user_id,
            related_partner_id=related_partner_id,
            created_by=created_by,
            created_at=now,
            updated_at=now,
        )
        try:
            await repository.add(session, staff)
        except IntegrityError:
            raise StaffUsernameTaken() from None
        for code in roles:
            await self.grant(
                session,
                subject=Subject(SubjectType.STAFF, staff.id),
                role_code=code,
                granted_by=created_by,
                ceiling=None,  # checked above, before the account existed
            )
        return staff

    async def set_staff_status(
        self, session: AsyncSession, staff_id: int, status: Status, *, ceiling: Effective | None
    ) -> StaffAccount:
        """Disable (every session ends, permissions go at once) or enable a staff account.
        Raises StaffNotFound, or PrivilegeExceeded when they hold what `ceiling` does not."""
        staff = await repository.lock_staff(session, staff_id)
        if staff is None:
            raise StaffNotFound()
        await self._staff_within(session, staff.id, ceiling)
        staff.status = status
        staff.updated_at = clock.now()
        await session.flush()
        await self._changed(session)
        if status == Status.DISABLED:
            await self.tokens.end_sessions(session, user_id=-staff.id, reason="staff_disabled")
        return staff

    async def list_staff(
        self, session: AsyncSession, *, before_id: int | None, limit: int
    ) -> list[StaffAccount]:
        return await repository.list_staff(session, before_id, limit)

    # --- roles, permissions, grants -----------------------------------------------------------

    async def list_permissions(self, session: AsyncSession) -> list[PermissionNode]:
        return self._tree(await repository.all_permissions(session), None)

    async def create_permission(
        self,
        session: AsyncSession,
        *,
        code: str,
        name: str,
        kind: PermissionKind,
        parent_id: int | None,
        path: str | None,
        sort_order: int,
        description: str | None,
    ) -> Permission:
        if parent_id is not None and await repository.get_permission(session, parent_id) is None:
            raise PermissionNotFound(field="parent_id")
        if await repository.permissions_by_codes(session, [code]):
            raise PermissionCodeTaken()
        now = clock.now()
        row = Permission(
            code=code,
            name=name,
            kind=kind,
            parent_id=parent_id,
            path=path,
            sort_order=sort_order,
            description=description,
            status=Status.ACTIVE,
            created_at=now,
            updated_at=now,
        )
        try:
            await repository.add(session, row)
        except IntegrityError:
            raise PermissionCodeTaken() from None
        super_admin = await repository.role_by_code(session, SUPER_ADMIN_ROLE)
        if super_admin is not None:
            await repository.add_role_permission(session, super_admin.id, row.id, now)
        await self._changed(session)
        return row

    async def update_permission(
        self,
        session: AsyncSession,
        permission_id: int,
        changes: Mapping[str, Any],
        *,
        ceiling: Effective | None,
    ) -> Permission:
        """Rename, move or disable a node (disabling takes it from everyone). Raises
        PermissionNotFound, or PrivilegeExceeded when `ceiling` does not hold it."""
        row = await repository.get_permission(session, permission_id)
        if row is None:
            raise PermissionNotFound()
        _within(ceiling, _codes_in([row.code]))
        for key, value in changes.items():
            setattr(row, key, value)
        row.updated_at = clock.now()
        await session.flush()
        await self._changed(session)
        return row

    async def list_roles(self, session: AsyncSession) -> list[tuple[Role, list[str]]]:
        roles = await repository.all_roles(session)
        held = await repository.role_permission_codes(session, [r.id for r in roles])
        return [(role, held[role.id]) for role in roles]

    async def _role_or_raise(self, session: AsyncSession, role_id: int) -> Role:
        role = await repository.get_role(session, role_id)
        if role is None:
            raise RoleNotFound()
        return role

    async def _permission_ids(self, session: AsyncSession, codes: Sequence[str]) -> list[int]:
        found = await repository.permissions_by_codes(session, codes)
        missing = set(codes) - {p.code for p in found}
        if missing:
            raise PermissionNotFound(field="permissions")
        return [p.id for p in found]

    async def create_role(
        self,
        session: AsyncSession,
        *,
        code: str,
        name: str,
        audience: str,
        description: str | None,
        permissions: Sequence[str],
        ceiling: Effective | None,
    ) -> tuple[Role, list[str]]:
        """Raises RoleCodeTaken, PermissionNotFound, or PrivilegeExceeded when `ceiling` does
        not hold every permission of the role."""
        if await repository.role_by_code(session, code) is not None:
            raise RoleCodeTaken()
        permission_ids = await self._permission_ids(session, permissions)
        _within(ceiling, _codes_in(permissions))
        now = clock.now()
        role = Role(
            code=code,
            name=name,
            audience=audience,
            description=description,
            status=Status.ACTIVE,
            created_at=now,
            updated_at=now,
        )
        try:
            await repository.add(session, role)
        except IntegrityError:
            raise RoleCodeTaken() from None
        await repository.replace_role_permissions(session, role.id, permission_ids, now)
        await self._changed(session)
        return role, sorted(permissions)

    async def update_role(
        self,
        session: AsyncSession,
        role_id: int,
        changes: Mapping[str, Any],
        permissions: Sequence[str] | None,
        *,
        ceiling: Effective | None,
    ) -> tuple[Role, list[str]]:
        """Rename, enable/disable, or replace the role's permissions. Raises RoleNotFound,
        PermissionNotFound, or PrivilegeExceeded when `ceiling` does not hold every permission
        the role has or is given."""
        role = await self._role_or_raise(session, role_id)
        current = (await repository.role_permission_codes(session, [role.id]))[role.id]
        _within(ceiling, _codes_in(current))
        for key, value in changes.items():
            setattr(role, key, value)
        role.updated_at = clock.now()
        if permissions is not None:
            ids = await self._permission_ids(session, permissions)
            _within(ceiling, _codes_in(permissions))
            await repository.replace_role_permissions(session, role.id, ids, clock.now())
        await session.flush()
        await self._changed(session)
        held = await repository.role_permission_codes(session, [role.id])
        return role, held[role.id]

    async def grants_of(self, session: AsyncSession, subject: Subject) -> list[tuple[Grant, str]]:
        roles = {r.id: r.code for r in await repository.all_roles(session)}
        return [
            (g, roles.get(g.role_id, ""))
            for g in await repository.grants_of(session, subject.type, subject.id)
        ]

    async def grant(
        self,
        session: AsyncSession,
        *,
        subject: Subject,
        role_code: str,
        scope: Scope | None = None,
        granted_by: int | None = None,
        ceiling: Effective | None,
    ) -> Grant:
        """Give a role, everywhere or in one scope, to an active user or staff account of the
        role's audience. Raises RoleNotFound, ScopeInvalid, UserNotFound, StaffNotFound,
        RoleAudienceMismatch, GrantExists, or PrivilegeExceeded when `ceiling` does not hold
        the role's permissions there (or, for staff, all the account holds already)."""
        role = await repository.role_by_code(session, role_code)
        if role is None:
            raise RoleNotFound(field="role")
        if scope is not None and scope.type not in (ScopeType.AGENCY, ScopeType.MERCHANT):
            raise ScopeInvalid()
        await self._active_subject_or_raise(session, subject)
        if role.audience != subject.type:
            raise RoleAudienceMismatch()
        await self._grant_within(session, ceiling, subject, role.id, scope)
        scope_type, scope_id = (scope.type, scope.id) if scope else ("", 0)
        if await repository.find_grant(
            session, subject.type, subject.id, role.id, scope_type, scope_id
        ):
            raise GrantExists()
        row = Grant(
            subject_type=subject.type,
            subject_id=subject.id,
            role_id=role.id,
            scope_type=scope_type,
            scope_id=scope_id,
            granted_by=granted_by,
            created_at=clock.now(),
        )
        try:
            await repository.add(session, row)
        except IntegrityError:
            raise GrantExists() from None
        await self._changed(session)
        return row

    async def revoke(
        self, session: AsyncSession, grant_id: int, *, ceiling: Effective | None
    ) -> None:
        """Take a grant back. Raises GrantNotFound, or PrivilegeExceeded when `ceiling` does
        not hold the role's permissions there (or, for staff, all the account holds)."""
        row = await repository.get_grant(session, grant_id)
        if row is None:
            raise GrantNotFound()
        scope = Scope(row.scope_type, row.scope_id) if row.scope_type else None
        subject = Subject(row.subject_type, row.subject_id)
        await self._grant_within(session, ceiling, subject, row.role_id, scope)
        if not await repository.delete_grant(session, grant_id):
            raise GrantNotFound()
        await self._changed(session)

    async def _active_subject_or_raise(self, session: AsyncSession, subject: Subject) -> None:
        """UserNotFound or StaffNotFound unless the subject exists and is active."""
        if subject.type == SubjectType.STAFF:
            if await repository.staff_status(session, subject.id) != Status.ACTIVE:
                raise StaffNotFound(field="subject")
            return
        if self.identity is None:
            raise RuntimeError("granting roles to users needs the identity service")
        try:
            user = await self.identity.get_user_or_raise(session, subject.id)
        except UserNotFound:
            raise UserNotFound(field="subject") from None
        if not user.is_active:
            raise UserNotFound(field="subject")

    async def _grant_within(
        self,
        session: AsyncSession,
        ceiling: Effective | None,
        subject: Subject,
        role_id: int,
        scope: Scope | None,
    ) -> None:
        """Granting or revoking a role is giving or taking its permissions (in the scope):
        `ceiling` must hold them, and hold all a staff subject holds already."""
        if ceiling is None:
            return
        codes = (await repository.role_permission_codes(session, [role_id]))[role_id]
        _within(ceiling, _codes_in(codes, scope))
        if subject.type == SubjectType.STAFF:
            await self._staff_within(session, subject.id, ceiling)

    # --- users, for staff ---------------------------------------------------------------------

    async def user_detail(
        self,
        session: AsyncSession,
        identity: UserAccounts,
        *,
        effective: Effective,
        audit: AuditDraft,
        user_id: int,
        reveal: bool,
    ) -> UserDetail:
        """A user with identities, live sessions and recent logins, masked; whole only for a
        holder of `user:pii:view` who asks, and then the log entry says so. Raises
        PermissionDenied, UserNotFound."""
        if reveal and not effective.allows("user:pii:view"):
            raise PermissionDenied(permission="user:pii:view")
        user = await identity.get_user_or_raise(session, user_id)
        identities = await identity.identities_for_staff(session, user_id, reveal=reveal)
        sessions = await self.tokens.list_sessions(session, user_id)
        logins = await audit_service.login_history(
            session, user_id, cursor=None, limit=RECENT_LOGINS
        )
        if reveal:
            audit.notes["pii_revealed"] = True
            audit.action = "user.pii.view"
        return UserDetail(user=user, identities=identities, sessions=sessions, logins=logins.items)

    @staticmethod
    def shown_ip(address: str | None, *, reveal: bool) -> str | None:
        return address if reveal or address is None else mask_ip(address)

    @staticmethod
    def shown_device_id(device_id: str | None, *, reveal: bool) -> str | None:
        return device_id if reveal or device_id is None else mask_device_id(device_id)
