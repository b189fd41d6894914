"""The refresh token format: `<session id>.<generation>.<secret>.<tag>`.

The secret of generation n+1 is an HMAC of the secret of generation n, and the tag is an HMAC
over the rest, so the service can tell a token it issued from a forged one without storing
more than the hash of the current and the previous token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from usercenter.tokens.errors import RefreshTokenInvalid


@dataclass(frozen=True, slots=True)
class RefreshParts:
    session_id: str
    generation: int
    secret: str


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class RefreshTokenFormat:
    """Makes, chains and checks refresh tokens under one key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, *parts: str) -> str:
        message = "\x1f".join(parts).encode()
        return b64(hmac.new(self._key, message, hashlib.sha256).digest())

    @staticmethod
    def first() -> RefreshParts:
        """Generation 0 of a new session (whose id it makes)."""
        return RefreshParts(secrets.token_hex(16), 0, b64(secrets.token_bytes(32)))

    def format(self, parts: RefreshParts) -> str:
        body = f"{parts.session_id}.{parts.generation}.{parts.secret}"
        return f"{body}.{self._mac('tag', body)[:22]}"

    def following(self, parts: RefreshParts) -> RefreshParts:
        """The next generation: derived, so two refreshes of the same token agree on it."""
        secret = self._mac("next", parts.session_id, str(parts.generation), parts.secret)
        return RefreshParts(parts.session_id, parts.generation + 1, secret)

    def parse(self, token: str) -> RefreshParts:
        """The parts of a token this key tagged; RefreshTokenInvalid otherwise."""
        pieces = token.split(".")
        if len(pieces) != 4 or not pieces[1].isdigit() or len(token) > 256:
            raise RefreshTokenInvalid(field="refresh_token")
        session_id, generation, secret, tag = pieces
        if not hmac.compare_digest(
            tag, self._mac("tag", f"{session_id}.{generation}.{secret}")[:22]
        ):
            raise RefreshTokenInvalid(field="refresh_token")
        return RefreshParts(session_id, int(generation), secret)
