"""Sessions, access tokens and refresh tokens.

Access tokens are short-lived JWTs any service verifies offline from the JWKS. Our own API
also refuses a token whose session was revoked (looked up through the cache, a minute at most
stale); services verifying offline accept it until it expires.

A refresh token is `<session id>.<generation>.<secret>.<tag>`: the secret of generation n+1 is
an HMAC of the secret of generation n, and the tag is an HMAC over the rest, so the service can
tell a token it issued from a forged one without storing more than the hash of the current and
the previous token. Rotation is one compare-and-set UPDATE on the current hash, so of two racing
refreshes exactly one moves the session on. Presenting the previous token again revokes the
session (RFC 9700 §4.14.2) — unless it comes within the grace period from the same device (the
X-Device-Id its login reported; a login that reported none gets no grace), in which case it gets
the refresh token the winner got and an access token with the same claims (both derive them the
same way), so a client that sent two refreshes at once is not logged out (Keycloak's multi-tab
problem).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.config import Settings
from usercenter.db import Database
from usercenter.kit import clock
from usercenter.kit.cache import Cache, LocalMemo
from usercenter.kit.client import ClientInfo, Platform
from usercenter.security.crypto import hash_secret
from usercenter.tokens import repository
from usercenter.tokens.errors import (
    RefreshTokenInvalid,
    RefreshTokenReused,
    SessionNotFound,
    SessionRevoked,
    TokenExpired,
    TokenInvalid,
)
from usercenter.tokens.keys import SigningKeys, decode_header_kid
from usercenter.tokens.models import Session, SessionSubject
from usercenter.tokens.repository import RotatedSession

SESSION_STATE_TTL_SECONDS = 60
# How long a process trusts what it last read about a session (a revocation made by another
# process reaches it within this; one made here, at once).
LOCAL_MEMO_SECONDS = 2.0
_REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "sid", "jti"]
_LEEWAY_SECONDS = 5
# Access tokens whose signature and claims were checked, kept until they expire: a client
# presents the same token for up to its whole life, and the ES256 check is most of the CPU of
# an authenticated request. Bounded; the oldest entry goes first.
VERIFIED_TOKENS_MAX = 4096
# Staff sessions (platform ADMIN) are stored with subject type `staff`, so they never meet a
# user's sessions; their tokens say `sub: "staff:<id>"`, which a user route refuses.
STAFF_SUBJECT_PREFIX = "staff:"
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


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    uid: str
    session_id: str
    platform: str
    issued_at: datetime
    expires_at: datetime
    token_id: str
    raw: dict[str, Any]
    is_staff: bool = False


@dataclass(frozen=True, slots=True)
class _RefreshParts:
    session_id: str
    generation: int
    secret: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


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
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        """`wall_clock`: the seconds a remembered access token's `exp` is checked against,
        the system's by default as PyJWT's check (tests inject a clock they move on)."""
        self.settings = settings
        self.wall_clock = wall_clock
        self.database = database
        self.keys = keys
        self.cache = cache
        self._refresh_key = refresh_key
        self.access_ttl = timedelta(seconds=settings.access_token_ttl_seconds)
        self._memo = LocalMemo(ttl=LOCAL_MEMO_SECONDS)
        self._verified: dict[str, tuple[str, AccessClaims]] = {}  # token -> (kid, claims)
        self.refresh_ttl = timedelta(seconds=settings.refresh_token_ttl_seconds)

    # --- refresh token format -------------------------------------------------------------

    def _mac(self, *parts: str) -> str:
        message = "\x1f".join(parts).encode()
        return _b64(hmac.new(self._refresh_key, message, hashlib.sha256).digest())

    def _format_refresh(self, parts: _RefreshParts) -> str:
        body = f"{parts.session_id}.{parts.generation}.{parts.secret}"
        return f"{body}.{self._mac('tag', body)[:22]}"

    def _next_refresh(self, parts: _RefreshParts) -> _RefreshParts:
        secret = self._mac("next", parts.session_id, str(parts.generation), parts.secret)
        return _RefreshParts(parts.session_id, parts.generation + 1, secret)

    def _parse_refresh(self, token: str) -> _RefreshParts:
        pieces = token.split(".")
        if len(pieces) != 4 or not pieces[1].isdigit() or len(token) > 256:
            raise RefreshTokenInvalid(field="refresh_token")
        session_id, generation, secret, tag = pieces
        if not hmac.compare_digest(
            tag, self._mac("tag", f"{session_id}.{generation}.{secret}")[:22]
        ):
            raise RefreshTokenInvalid(field="refresh_token")
        return _RefreshParts(session_id, int(generation), secret)

    # --- access tokens --------------------------------------------------------------------

    async def _access_token(
        self,
        row: Session | RotatedSession,
        uid: str,
        issued_at: datetime,
        amr: Sequence[str] = (),
    ) -> str:
        key = await self.keys.signing_key()
        iat = int(issued_at.timestamp())
        is_staff = row.subject_type == SessionSubject.STAFF
        exp = (
            int(row.expires_at.timestamp())
            if is_staff
            else iat + int(self.access_ttl.total_seconds())
        )
        claims = {
            "iss": self.settings.token_issuer,
            "aud": self.settings.token_audience,
            "sub": f"{STAFF_SUBJECT_PREFIX}{row.user_id}" if is_staff else str(row.user_id),
            "uid": uid,
            "sid": row.id,
            "plat": row.platform,
            "iat": iat,
            "exp": exp,
            # Derived from the session's current refresh token, so a grace-period retry gets
            # the very token the first request got.
            "jti": row.refresh_hash[:22],
        }
        if amr:
            claims["amr"] = list(amr)  # how the login was proved (RFC 8176)
        return jwt.encode(
            claims, key.private_key, algorithm=key.algorithm, headers={"kid": key.kid}
        )

    async def _issue(
        self,
        row: Session | RotatedSession,
        uid: str,
        refresh: _RefreshParts,
        amr: Sequence[str] = (),
    ) -> IssuedTokens:
        issued_at = row.rotated_at or row.created_at
        return IssuedTokens(
            access_token=await self._access_token(row, uid, issued_at, amr),
            access_expires_in=int(self.access_ttl.total_seconds()),
            refresh_token=self._format_refresh(refresh),
            refresh_expires_in=max(0, int((row.expires_at - clock.now()).total_seconds())),
            session_id=row.id,
        )

    async def verify_access(self, token: str, *, staff: bool = False) -> AccessClaims:
        """Check signature (algorithm pinned), issuer, audience and expiry; not revocation.
        A user token where a staff one is expected (`staff`), or the other way, is invalid.
        A token verified before is only checked again for expiry and for its key still being
        published (so dropping a key refuses its tokens at once, as without the memo)."""
        known = self._verified.get(token)
        if known is not None:
            kid, claims = known
            # PyJWT's test, on the same (system) clock: expired once exp <= now - leeway.
            if int(claims.raw["exp"]) <= self.wall_clock() - _LEEWAY_SECONDS:
                self._verified.pop(token, None)
                raise TokenExpired()
            if await self.keys.verification_key(kid) is not None:
                if claims.is_staff != staff:
                    raise TokenInvalid()
                return claims
            self._verified.pop(token, None)
        claims, kid = await self._verify_signed(token, staff=staff)
        if len(self._verified) >= VERIFIED_TOKENS_MAX:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (kid, claims)
        return claims

    async def _verify_signed(self, token: str, *, staff: bool) -> tuple[AccessClaims, str]:
        kid = decode_header_kid(token)
        key = await self.keys.verification_key(kid) if kid else None
        if kid is None or key is None:
            raise TokenInvalid()
        try:
            claims = jwt.decode(
                token,
                key.public_key,
                algorithms=[key.algorithm],
                audience=self.settings.token_audience,
                issuer=self.settings.token_issuer,
                options={"require": _REQUIRED_CLAIMS},
                leeway=_LEEWAY_SECONDS,
            )
            subject = str(claims["sub"])
            if staff != subject.startswith(STAFF_SUBJECT_PREFIX):
                raise TokenInvalid()
            user_id = int(subject.removeprefix(STAFF_SUBJECT_PREFIX))
        except jwt.ExpiredSignatureError:
            raise TokenExpired() from None
        except (jwt.PyJWTError, ValueError, TypeError):
            raise TokenInvalid() from None
        access = AccessClaims(
            user_id=user_id,
            uid=str(claims.get("uid", "")),
            session_id=str(claims["sid"]),
            platform=str(claims.get("plat", "")),
            issued_at=datetime.fromtimestamp(int(claims["iat"]), tz=clock.now().tzinfo),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=clock.now().tzinfo),
            token_id=str(claims["jti"]),
            raw=claims,
            is_staff=staff,
        )
        return access, kid

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
    ) -> IssuedTokens:
        """A new session of a user with its first token pair; on a one-device platform, the
        user's other sessions there end. `provider_secret_encrypted`: a provider secret bound
        to this login (the WeChat session_key), already encrypted by the caller. `lifetime`:
        shorter than the refresh token's."""
        return await self._start(
            session,
            SessionSubject.USER,
            user_id,
            uid=uid,
            platform=platform,
            method=method,
            client=client,
            provider_secret_encrypted=provider_secret_encrypted,
            lifetime=lifetime,
            amr=amr,
        )

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
        return await self._start(
            session,
            SessionSubject.STAFF,
            staff_id,
            uid=STAFF_UID,
            platform=Platform.ADMIN,
            method=method,
            client=client,
            lifetime=lifetime,
            amr=amr,
        )

    async def _start(
        self,
        session: AsyncSession,
        subject_type: SessionSubject,
        subject_id: int,
        *,
        uid: str,
        platform: str,
        method: str,
        client: ClientInfo,
        provider_secret_encrypted: str | None = None,
        lifetime: timedelta | None = None,
        amr: Sequence[str] = (),
    ) -> IssuedTokens:
        now = clock.now()
        if platform in self.settings.single_device_platforms:
            await self._revoke(
                session, subject_type, subject_id, reason="replaced", platform=platform
            )
        refresh = _RefreshParts(secrets.token_hex(16), 0, _b64(secrets.token_bytes(32)))
        device = client.device
        row = Session(
            id=refresh.session_id,
            user_id=subject_id,
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
            refresh_hash=hash_secret(self._format_refresh(refresh)),
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
        presented = self._parse_refresh(token)
        presented_hash = hash_secret(token)
        following = self._next_refresh(presented)
        following_hash = hash_secret(self._format_refresh(following))
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
    ) -> list[str]:
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
        for session_id in revoked:
            await self.cache.set(_state_key(session_id), "revoked", ttl=SESSION_STATE_TTL_SECONDS)
            self._memo.put(_state_key(session_id), "revoked")
        return revoked

    async def end_session(
        self, session: AsyncSession, *, user_id: int, session_id: str, reason: str
    ) -> None:
        """End one of the user's sessions; SessionNotFound if it is not theirs or not live."""
        user = SessionSubject.USER
        if not await self._revoke(session, user, user_id, reason=reason, ids=[session_id]):
            raise SessionNotFound(field="session_id")

    async def end_sessions(
        self, session: AsyncSession, *, user_id: int, reason: str, keep: str | None = None
    ) -> list[str]:
        """End every live session of the user (but `keep`)."""
        return await self._revoke(session, SessionSubject.USER, user_id, reason=reason, keep=keep)

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
            parts = self._parse_refresh(token)
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
        staff = row.subject_type == SessionSubject.STAFF
        return {
            "active": True,
            "token_type": "refresh_token",
            "sub": f"{STAFF_SUBJECT_PREFIX}{row.user_id}" if staff else str(row.user_id),
            "sid": row.id,
            "plat": row.platform,
            "exp": int(row.expires_at.timestamp()),
        }
