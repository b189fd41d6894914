"""Keys that sign access tokens: made on first start, rotated by `usercenter keys rotate`,
published as a JWKS until the last token each one signed has expired.

Every process keeps the keys in memory and reads the table again once a minute, or at once
when a token names a key it has not seen (another process rotated), at most every few seconds.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.config import TokenAlgorithm
from usercenter.db import Database
from usercenter.kit import clock
from usercenter.security.crypto import FieldCipher
from usercenter.tokens import repository
from usercenter.tokens.models import SigningKey

KEY_CONTEXT = "tokens.signing_key"
RELOAD_EVERY_SECONDS = 60.0
RELOAD_ON_UNKNOWN_KID_AT_MOST_EVERY = 5.0

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


@dataclass(frozen=True, slots=True)
class LoadedKey:
    kid: str
    algorithm: str
    private_key: PrivateKey
    public_key: Any
    public_jwk: dict[str, Any]
    created_at: datetime
    retired_at: datetime | None


def _generate(algorithm: TokenAlgorithm) -> PrivateKey:
    if algorithm is TokenAlgorithm.ES256:
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm is TokenAlgorithm.RS256:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ed25519.Ed25519PrivateKey.generate()


def _public_jwk(private_key: PrivateKey, kid: str, algorithm: str) -> dict[str, Any]:
    public = private_key.public_key()
    to_jwk: Any = {
        "ES256": ECAlgorithm.to_jwk,
        "RS256": RSAAlgorithm.to_jwk,
        "EdDSA": OKPAlgorithm.to_jwk,
    }[algorithm]
    jwk: dict[str, Any] = to_jwk(public, as_dict=True)
    return {**jwk, "kid": kid, "alg": algorithm, "use": "sig"}


def new_signing_key(cipher: FieldCipher, algorithm: TokenAlgorithm) -> SigningKey:
    """A fresh key pair as a row: private half encrypted, public half as a JWK."""
    now = clock.now()
    kid = f"{now:%Y%m%d}-{secrets.token_hex(4)}"
    private_key = _generate(algorithm)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return SigningKey(
        kid=kid,
        algorithm=algorithm.value,
        private_key_encrypted=cipher.encrypt(pem, context=KEY_CONTEXT),
        public_jwk=json.dumps(_public_jwk(private_key, kid, algorithm.value)),
        created_at=now,
        retired_at=None,
    )


class SigningKeys:
    """The keys of this process: the newest active one signs, any published one verifies."""

    def __init__(
        self,
        database: Database,
        cipher: FieldCipher,
        algorithm: TokenAlgorithm,
        access_token_ttl: timedelta,
    ) -> None:
        self.database = database
        self.cipher = cipher
        self.algorithm = algorithm
        self.access_token_ttl = access_token_ttl
        self._keys: dict[str, LoadedKey] = {}
        self._signing: LoadedKey | None = None
        self._loaded_at = 0.0
        self._unknown_kid_reload_at = 0.0

    async def load(self) -> None:
        """Read the published keys; make the first key if there is none for our algorithm
        (at start: background work, see `rotate`)."""
        rows = await self._published_rows()
        if not any(r.algorithm == self.algorithm.value and r.retired_at is None for r in rows):
            await self.rotate()
            rows = await self._published_rows()
        self._install(rows)

    async def rotate(self) -> str:
        """Make a new signing key and retire the others (they still verify until expiry).

        Background work, not part of any request's operation: run at start (`load`, when no
        key exists) and by `usercenter keys rotate`, it commits in a unit of work of its own
        (`run_in_transaction`, which retries a deadlock), as db.py's rule has it."""
        row = new_signing_key(self.cipher, self.algorithm)

        async def work(session: AsyncSession) -> None:
            await repository.retire_signing_keys(session, row.created_at)
            session.add(row)

        await self.database.run_in_transaction(work)
        self._loaded_at = 0.0
        return row.kid

    async def signing_key(self) -> LoadedKey:
        await self._reload_if_stale()
        assert self._signing is not None, "SigningKeys.load() was not awaited"
        return self._signing

    async def verification_key(self, kid: str) -> LoadedKey | None:
        await self._reload_if_stale()
        key = self._keys.get(kid)
        now = time.monotonic()
        if key is None and now - self._unknown_kid_reload_at > RELOAD_ON_UNKNOWN_KID_AT_MOST_EVERY:
            self._unknown_kid_reload_at = now
            self._install(await self._published_rows())
            key = self._keys.get(kid)
        return key

    async def jwks(self) -> dict[str, Any]:
        await self._reload_if_stale()
        return {"keys": [key.public_jwk for key in self._keys.values()]}

    async def _reload_if_stale(self) -> None:
        if time.monotonic() - self._loaded_at > RELOAD_EVERY_SECONDS:
            self._install(await self._published_rows())

    async def _published_rows(self) -> list[SigningKey]:
        # A retired key stays published while tokens it signed may still be unexpired.
        since = clock.now() - self.access_token_ttl - timedelta(seconds=60)
        async with self.database.read_session() as session:
            return await repository.published_signing_keys(session, since)

    def _install(self, rows: list[SigningKey]) -> None:
        keys: dict[str, LoadedKey] = {}
        for row in rows:
            private_key = serialization.load_pem_private_key(
                self.cipher.decrypt(row.private_key_encrypted, context=KEY_CONTEXT).encode(),
                password=None,
            )
            assert isinstance(private_key, PrivateKey)
            keys[row.kid] = LoadedKey(
                kid=row.kid,
                algorithm=row.algorithm,
                private_key=private_key,
                public_key=private_key.public_key(),
                public_jwk=json.loads(row.public_jwk),
                created_at=row.created_at,
                retired_at=row.retired_at,
            )
        active = [
            k for k in keys.values() if k.retired_at is None and k.algorithm == self.algorithm
        ]
        if active:
            self._signing = max(active, key=lambda k: (k.created_at, k.kid))
        self._keys = keys
        self._loaded_at = time.monotonic()


def decode_header_kid(token: str) -> str | None:
    """The `kid` of a compact JWS, or None; the signature is checked later, with that key."""
    head, _, _ = token.partition(".")
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None
