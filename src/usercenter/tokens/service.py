"""Sessions: their start, refresh, revocation and listing, and the token pairs issued for them
(the access token itself in `access_tokens`, the refresh token format in `refresh_tokens`).

Access tokens are short-lived JWTs any service verifies offline from the JWKS. Our own API
also refuses a token whose session was revoked (looked up through the cache, a minute at most
stale); services verifying offline accept it until it expires.

Rotation is one compare-and-set UPDATE on the current refresh token's hash, so of two racing
refreshes exactly one moves the session on. Presenting the previous token again revokes the
session (RFC 9700 §4.14.2) — unless it comes within the grace period from the same device (the
X-Device-Id its login reported; a login that reported none gets no grace), in which case it gets
the refresh token the winner got and an access token with the same claims (both derive them the
same way), so a client that sent two refreshes at once is not logged out (Keycloak's multi-tab
problem).

A session belongs to a user or, `subject_type` staff, to a staff account (the console's).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.config import Settings
from usercenter.db import Database
from usercenter.kit import clock
from usercenter.kit.cache import Cache, LocalMemo
from usercenter.kit.client import ClientInfo, Platform
from usercenter.kit.events import Event, EventSink
from usercenter.kit.session_hooks import ClientRecorder
from usercenter.security.crypto import hash_secret
from usercenter.tokens import repository
from usercenter.tokens.access_tokens import AccessClaims, AccessTokens, token_subject
from usercenter.tokens.errors import (
    RefreshTokenInvalid,
    RefreshTokenReused,
    SessionNotFound,
    SessionRevoked,
    TokenExpired,
    TokenInvalid,
)
from usercenter.tokens.events import SessionRevoked as SessionRevokedEvent
from usercenter.tokens.keys import SigningKeys
from usercenter.tokens.models import Session, SessionSubject
from usercenter.tokens.refresh_tokens import RefreshParts, RefreshTokenFormat
from usercenter.tokens.repository import RotatedSession

SESSION_STATE_TTL_SECONDS = 60
# How long a process trusts what it last read about a session (a revocation made by another
# process reaches it within this; one made here, at once).
LOCAL_MEMO_SECONDS = 2.0
# Staff sessions (platform ADMIN) are stored with subject type `staff`, so they never meet a
# user's sessions; their tokens say `sub: "staff:<id>"`, which a user route refuses.
STAFF_UID = "staff"


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    access_expires_in: int
    refresh_token: str
    refresh_expires_in: int
    session_id: str


@dataclass(frozen=True, slots=True)
class SessionView:
    """One live session as its owner (or staff) sees it."""

    id: str
    platform: str
    login_method: str
    device_id: str | None
    device_name: str | None
    os_name: str | None
    os_version: str | None
    client_name: str | None
    client_version: str | None
    ip: str | None
    created_at: datetime
    last_active_at: datetime
    expires_at: datetime

    @classmethod
    def of(cls, row: Session) -> SessionView:
        return cls(*(getattr(row, name) for name in cls.__slots__))


def _state_key(session_id: str) -> str:
    return f"user:session:state:{session_id}"


class TokenService:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        keys: SigningKeys,
        cache: Cache,
        refresh_key: bytes,
        *,
        outbox: EventSink,
        wall_clock: Callable[[], float] = time.time,
        client_recorder: ClientRecorder | None = None,
    ) -> None:
        """`outbox`: where a user session's early end is recorded (`session.revoked`), in the
        transaction that ends it. `wall_clock`: the seconds a remembered access token's `exp`
        is checked against, the system's by default as PyJWT's check (tests inject a clock
        they move on). `client_recorder`: told the client of each user login and refresh (the
        profile's devices), in the same transaction."""
        self.settings = settings
        self.client_recorder = client_recorder
        self.outbox = outbox
        self.database = database
        self.keys = keys
        self.cache = cache
        self.access_tokens = AccessTokens(settings, keys, wall_clock=wall_clock)
        self.refresh_format = RefreshTokenFormat(refresh_key)
        self.access_ttl = timedelta(seconds=settings.access_token_ttl_seconds)
        self._memo = LocalMemo(ttl=LOCAL_MEMO_SECONDS)
        self.refresh_ttl = timedelta(seconds=settings.refresh_token_ttl_seconds)

    async def _issue(
        self,
        row: Session | RotatedSession,
        uid: str,
        refresh: RefreshParts,
        amr: Sequence[str] = (),
    ) -> IssuedTokens:
        access_token = await self.access_tokens.encode(
            subject_type=row.subject_type,
            subject_id=row.user_id,
            uid=uid,
            session_id=row.id,
            platform=row.platform,
            # Derived from the session's current refresh token, so a grace-period retry gets
            # the very token the first request got.
            token_id=row.refresh_hash[:22],
            issued_at=row.rotated_at or row.created_at,
            session_expires_at=row.expires_at,
            amr=amr,
        )
        return IssuedTokens(
            access_token=access_token,
            access_expires_in=int(self.access_ttl.total_seconds()),
            refresh_token=self.refresh_format.format(refresh),
            refresh_expires_in=max(0, int((row.expires_at - clock.now()).total_seconds())),
            session_id=row.id,
        )

    async def verify_access(self, token: str, *, staff: bool = False) -> AccessClaims:
        """Check signature, issuer, audience and expiry; not revocation (AccessTokens.verify)."""
        return await self.access_tokens.verify(token, staff=staff)

    async def authenticate(self, token: str, *, staff: bool = False) -> AccessClaims:
        """verify_access, and refuse a token whose session has been revoked."""
        claims = await self.verify_access(token, staff=staff)
        if not await self.is_session_live(claims.session_id):
            raise SessionRevoked()
        return claims

    async def is_session_live(self, session_id: str) -> bool:
        key = _state_key(session_id)
        memo = self._memo.get(key)
        if memo is not None:
            return memo == "live"
        # Only a value fetched anew starts a memo entry: refreshed on every hit, a busy
        # session's entry would never expire and a revocation elsewhere never be seen here.
        cached = await self.cache.get(key)
        if cached is None:
            async with self.database.read_session() as session:
                live = await repository.session_is_live(session, session_id, clock.now())
            cached = "live" if live else "revoked"
            await self.cache.set(key, cached, ttl=SESSION_STATE_TTL_SECONDS)
        self._memo.put(key, cached)
        return cached == "live"

    # --- sessions -------------------------------------------------------------------------

    async def start_staff_session(
        self,
        session: AsyncSession,
        *,
        staff_id: int,
        method: str,
        client: ClientInfo,
        lifetime: timedelta,
        amr: Sequence[str],
    ) -> IssuedTokens:
        """A staff session (platform ADMIN, not refreshed: its access token lasts `lifetime`).
        `amr`: how the login was proved, put in the access token."""
        return await self.start_session(
            session,
            subject_type=SessionSubject.STAFF,
            user_id=staff_id,
            uid=STAFF_UID,
            platform=Platform.ADMIN,
            method=method,
            client=client,
            lifetime=lifetime,
            amr=amr,
        )

    async def start_session(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        uid: str,
        platform: str,
        method: str,
        client: ClientInfo,
        provider_secret_encrypted: str | None = None,
        lifetime: timedelta | None = None,
        amr: Sequence[str] = (),
        subject_type: SessionSubject = SessionSubject.USER,
    ) -> IssuedTokens:
        """A new session of a user (or, `subject_type` staff, of the staff account `user_id`)
        with its first token pair; on a one-device platform, the subject's other sessions
        there end. `provider_secret_encrypted`: a provider secret bound to this login (the
        WeChat session_key), already encrypted by the caller. `lifetime`: shorter than the
        refresh token's."""
        now = clock.now()
        if platform in self.settings.single_device_platforms:
            await self._revoke(session, subject_type, user_id, reason="replaced", platform=platform)
        refresh = self.refresh_format.first()
        device = client.device
        row = Session(
            id=refresh.session_id,
            user_id=user_id,
            subject_type=subject_type,
            uid=uid,
            platform=platform,
            login_method=method,
            device_id=device.device_id,
            device_name=device.device_name,
            vendor=device.vendor,
            os_name=device.os_name,
            os_version=device.os_version,
            client_name=device.client_name,
            client_version=device.client_version,
            ip=client.ip,
            user_agent=(client.user_agent or "")[:255] or None,
            refresh_hash=hash_secret(self.refresh_format.format(refresh)),
            previous_refresh_hash=None,
            refresh_generation=0,
            rotated_at=None,
            created_at=now,
            last_active_at=now,
            expires_at=now + (lifetime or self.refresh_ttl),
            revoked_at=None,
            revoke_reason=None,
            provider_secret_encrypted=provider_secret_encrypted,
        )
        await repository.add_session(session, row)
        if self.client_recorder is not None and subject_type == SessionSubject.USER:
            await self.client_recorder.record_login_client(
                session, user_id=user_id, platform=platform, client=client
            )
        return await self._issue(row, uid, refresh, amr)

    async def refresh(
        self,
        session: AsyncSession,
        token: str,
        *,
        uid_of: Callable[[AsyncSession, int], Awaitable[str]],
        client: ClientInfo,
    ) -> IssuedTokens:
        """Rotate a refresh token. Raises RefreshTokenInvalid, or RefreshTokenReused after
        revoking the session when an already-rotated token comes back outside the grace.

        The rotation itself is a compare-and-set on a connection of its own
        (`Database.statement_connection`): like an id allocator, one atomic statement that
        commits at once, so two racing refreshes cannot both win. Everything else — the
        lookup when the rotation lost, the revocation of a replayed session — is done in
        `session`, the caller's unit of work (RefreshTokenReused keeps its changes)."""
        presented = self.refresh_format.parse(token)
        presented_hash = hash_secret(token)
        following = self.refresh_format.following(presented)
        following_hash = hash_secret(self.refresh_format.format(following))
        now = clock.now()
        # The rotation is one atomic statement: no unit of work around it.
        async with self.database.statement_connection() as connection:
            moved = await repository.rotate_refresh_token(
                connection,
                session_id=presented.session_id,
                presented_hash=presented_hash,
                new_hash=following_hash,
                generation=following.generation,
                now=now,
                expires_at=now + self.refresh_ttl,
            )
        if moved is not None and moved.subject_type == SessionSubject.STAFF:
            raise RefreshTokenInvalid(field="refresh_token")  # staff sessions are not extended
        if moved is not None:
            if self.client_recorder is not None:
                await self.client_recorder.record_refresh_client(
                    session,
                    user_id=moved.user_id,
                    platform=moved.platform,
                    client=client,
                    opened_with=moved.device(),
                )
            if moved.uid:
                return await self._issue(moved, moved.uid, following)
            async with self.database.read_session() as reader:
                return await self._issue(moved, await uid_of(reader, moved.user_id), following)
        row = await repository.get_session(session, presented.session_id)
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise RefreshTokenInvalid(field="refresh_token")
        if row.subject_type == SessionSubject.STAFF:
            raise RefreshTokenInvalid(field="refresh_token")  # a staff session
        if self._is_grace_retry(row, presented_hash, following_hash, client, now):
            uid = row.uid or await uid_of(session, row.user_id)
            return await self._issue(row, uid, following)
        if row.refresh_generation > presented.generation:
            await self._revoke(
                session,
                SessionSubject.USER,
                row.user_id,
                reason="refresh_reused",
                ids=[row.id],
            )
            raise RefreshTokenReused(field="refresh_token")
        raise RefreshTokenInvalid(field="refresh_token")

    def _is_grace_retry(
        self,
        row: Session,
        presented_hash: str,
        following_hash: str,
        client: ClientInfo,
        now: datetime,
    ) -> bool:
        if row.previous_refresh_hash != presented_hash or row.refresh_hash != following_hash:
            return False
        if row.rotated_at is None:
            return False
        if (now - row.rotated_at).total_seconds() > self.settings.refresh_reuse_grace_seconds:
            return False
        # Only a client that named its device at login, naming the same one now: a user
        # agent is no proof (a thief's copy of the token sends whatever it likes).
        return bool(row.device_id) and client.device.device_id == row.device_id

    async def _revoke(
        self,
        session: AsyncSession,
        subject_type: SessionSubject,
        subject_id: int,
        *,
        reason: str,
        ids: list[str] | None = None,
        platform: str | None = None,
        keep: str | None = None,
        cause: Sequence[Event] = (),
    ) -> list[str]:
        """End the subject's live sessions (those named, of one platform, all but `keep`) in
        `session`, the caller's unit of work; for a user, a `session.revoked` event each goes
        with them, after `cause` (the event of the change that ends them). The ended ids.

        The sessions are locked before the events take the user's sequence counter, and a
        caller writes its own event of the user through `cause`, not before: every
        transaction takes a user's session rows, then the counter, so two never wait on each
        other crosswise (a password change against a logout)."""
        revoked = await repository.revoke_sessions(
            session,
            subject_type=subject_type,
            subject_id=subject_id,
            now=clock.now(),
            reason=reason,
            session_ids=ids,
            platform=platform,
            keep=keep,
        )
        if subject_type == SessionSubject.USER:
            await self.outbox.add(
                session,
                *cause,
                *(
                    SessionRevokedEvent(
                        user_id=subject_id, session_id=ended, platform=on, reason=reason
                    )
                    for ended, on in revoked.items()
                ),
            )
        for session_id in revoked:
            await self.cache.set(_state_key(session_id), "revoked", ttl=SESSION_STATE_TTL_SECONDS)
            self._memo.put(_state_key(session_id), "revoked")
        return list(revoked)

    async def end_session(
        self, session: AsyncSession, *, user_id: int, session_id: str, reason: str
    ) -> None:
        """End one of the user's sessions; SessionNotFound if it is not theirs or not live."""
        user = SessionSubject.USER
        if not await self._revoke(session, user, user_id, reason=reason, ids=[session_id]):
            raise SessionNotFound(field="session_id")

    async def end_sessions(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        reason: str,
        keep: str | None = None,
        cause: Sequence[Event] = (),
    ) -> list[str]:
        """End every live session of the user (but `keep`); `cause`: the events of the change
        that ends them, written first (see `_revoke`)."""
        return await self._revoke(
            session, SessionSubject.USER, user_id, reason=reason, keep=keep, cause=cause
        )

    async def end_staff_session(
        self, session: AsyncSession, *, staff_id: int, session_id: str, reason: str
    ) -> None:
        """End one of the staff member's sessions; SessionNotFound if it is not theirs or
        not live."""
        staff = SessionSubject.STAFF
        if not await self._revoke(session, staff, staff_id, reason=reason, ids=[session_id]):
            raise SessionNotFound(field="session_id")

    async def end_staff_sessions(
        self, session: AsyncSession, *, staff_id: int, reason: str
    ) -> list[str]:
        """End every live session of the staff member."""
        return await self._revoke(session, SessionSubject.STAFF, staff_id, reason=reason)

    async def provider_secret(self, session: AsyncSession, session_id: str) -> str | None:
        """The encrypted provider secret stored with a live session, if any."""
        row = await repository.get_session(session, session_id)
        if row is None or row.revoked_at is not None:
            return None
        return row.provider_secret_encrypted

    async def session_info(self, session: AsyncSession, session_id: str) -> SessionView | None:
        row = await repository.get_session(session, session_id)
        return SessionView.of(row) if row is not None else None

    async def list_sessions(self, session: AsyncSession, user_id: int) -> list[SessionView]:
        """The user's live sessions, the most recently used first."""
        rows = await repository.live_sessions(session, SessionSubject.USER, user_id, clock.now())
        return [SessionView.of(row) for row in rows]

    async def introspect(self, session: AsyncSession, token: str) -> dict[str, Any]:
        """RFC 7662: what a gateway needs to know about an access or refresh token."""
        if token.count(".") == 3 and not token.startswith("ey"):
            return await self._introspect_refresh(session, token)
        try:
            claims = await self.authenticate(token)
        except (TokenInvalid, TokenExpired, SessionRevoked):
            return {"active": False}
        return {
            "active": True,
            "token_type": "access_token",
            "sub": str(claims.user_id),
            "uid": claims.uid,
            "sid": claims.session_id,
            "plat": claims.platform,
            "iss": claims.raw["iss"],
            "aud": claims.raw["aud"],
            "iat": claims.raw["iat"],
            "exp": claims.raw["exp"],
            "jti": claims.token_id,
        }

    async def _introspect_refresh(self, session: AsyncSession, token: str) -> dict[str, Any]:
        try:
            parts = self.refresh_format.parse(token)
        except RefreshTokenInvalid:
            return {"active": False}
        row = await repository.get_session(session, parts.session_id)
        now = clock.now()
        if (
            row is None
            or row.revoked_at is not None
            or row.expires_at <= now
            or row.refresh_hash != hash_secret(token)
        ):
            return {"active": False}
        return {
            "active": True,
            "token_type": "refresh_token",
            "sub": token_subject(row.subject_type, row.user_id),
            "sid": row.id,
            "plat": row.platform,
            "exp": int(row.expires_at.timestamp()),
        }
