"""Access tokens: short-lived JWTs signed with the current signing key, verified offline by
any service from the JWKS. A user token says `sub: "<user id>"`, a staff token
`sub: "staff:<id>"`; each is refused where the other is expected."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from usercenter.config import Settings
from usercenter.kit import clock
from usercenter.tokens.errors import TokenExpired, TokenInvalid
from usercenter.tokens.keys import SigningKeys, decode_header_kid
from usercenter.tokens.models import SessionSubject

_REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "sid", "jti"]
_LEEWAY_SECONDS = 5
# Access tokens whose signature and claims were checked, kept until they expire: a client
# presents the same token for up to its whole life, and the ES256 check is most of the CPU of
# an authenticated request. Bounded; the oldest entry goes first.
VERIFIED_TOKENS_MAX = 4096
STAFF_SUBJECT_PREFIX = "staff:"


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


def token_subject(subject_type: str, subject_id: int) -> str:
    """The `sub` of a session's tokens: `<user id>`, or `staff:<id>`."""
    if subject_type == SessionSubject.STAFF:
        return f"{STAFF_SUBJECT_PREFIX}{subject_id}"
    return str(subject_id)


class AccessTokens:
    def __init__(
        self,
        settings: Settings,
        keys: SigningKeys,
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        """`wall_clock`: the seconds a remembered token's `exp` is checked against, the
        system's by default as PyJWT's own check (tests inject a clock they move on)."""
        self.settings = settings
        self.keys = keys
        self.wall_clock = wall_clock
        self.ttl = timedelta(seconds=settings.access_token_ttl_seconds)
        self._verified: dict[str, tuple[str, AccessClaims]] = {}  # token -> (kid, claims)

    async def encode(
        self,
        *,
        subject_type: str,
        subject_id: int,
        uid: str,
        session_id: str,
        platform: str,
        token_id: str,
        issued_at: datetime,
        session_expires_at: datetime,
        amr: Sequence[str] = (),
    ) -> str:
        """A signed token. A staff token lasts as long as its session (staff sessions are not
        refreshed); a user's for the access token lifetime."""
        key = await self.keys.signing_key()
        iat = int(issued_at.timestamp())
        is_staff = subject_type == SessionSubject.STAFF
        exp = (
            int(session_expires_at.timestamp()) if is_staff else iat + int(self.ttl.total_seconds())
        )
        claims = {
            "iss": self.settings.token_issuer,
            "aud": self.settings.token_audience,
            "sub": token_subject(subject_type, subject_id),
            "uid": uid,
            "sid": session_id,
            "plat": platform,
            "iat": iat,
            "exp": exp,
            "jti": token_id,
        }
        if amr:
            claims["amr"] = list(amr)  # how the login was proved (RFC 8176)
        return jwt.encode(
            claims, key.private_key, algorithm=key.algorithm, headers={"kid": key.kid}
        )

    async def verify(self, token: str, *, staff: bool = False) -> AccessClaims:
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
