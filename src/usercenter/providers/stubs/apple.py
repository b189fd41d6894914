"""The Sign in with Apple stub (appleid.apple.com): the JWKS at `/auth/keys`, and id tokens
minted here with its keys (`mint_id_token`), expired, unsigned or for another audience on
request; `/_stub/id-token?aud=&person=&nonce=` mints one over HTTP."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from usercenter.providers.base import AppCredentials, AppType
from usercenter.providers.stubs.base import DEFAULT_PERSON, digest

APPLE_ISSUER = "https://appleid.apple.com"
APPLE_SERVICE_ID = "com.example.usercenter.web"
APPLE_BUNDLE_ID = "com.example.usercenter"


class AppleStub:
    """appleid.apple.com: the JWKS at `/auth/keys` (`jwks_calls` counts its fetches) and id
    tokens minted here with the published keys."""

    def __init__(self, *, team: str = "STUBTEAM01") -> None:
        self.team = team
        self.jwks_calls = 0
        self._keys: dict[str, rsa.RSAPrivateKey] = {}
        self._current_kid = ""
        self._unpublished_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.rotate_key()

    def rotate_key(self) -> str:
        """Publish a new signing key and sign with it from now on; returns its kid."""
        kid = f"stub-{len(self._keys) + 1}-{secrets.token_hex(3)}"
        self._keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._current_kid = kid
        return kid

    def credentials(self, base_url: str, **extra: Any) -> AppCredentials:
        return AppCredentials(
            AppType.APPLE,
            APPLE_SERVICE_ID,
            "",
            {"keys_url": base_url + "/auth/keys", "audiences": [APPLE_BUNDLE_ID], **extra},
        )

    def subject_for(self, person: str) -> str:
        """Apple's `sub`: stable per person and team."""
        hexdigest = digest("apple-sub", self.team, person).hex()
        head, tail = int(hexdigest[:8], 16) % 10000, int(hexdigest[40:48], 16) % 10000
        return f"00{head:04d}.{hexdigest[8:40]}.{tail:04d}"

    def mint_id_token(
        self,
        audience: str = APPLE_SERVICE_ID,
        person: str = DEFAULT_PERSON,
        *,
        nonce: str | None = None,
        hash_nonce: bool = True,
        email: str | None = None,
        issuer: str = APPLE_ISSUER,
        is_expired: bool = False,
        lifetime: int = 600,
        is_published: bool = True,
        kid: str | None = None,
    ) -> str:
        """An id_token for `person`; `nonce` goes in as its SHA-256 hex (as Apple does for
        native apps) unless `hash_nonce` is false. `is_published=False` signs with a key the
        JWKS does not list."""
        now = int(time.time())
        issued_at = now - lifetime - 60 if is_expired else now
        claims: dict[str, Any] = {
            "iss": issuer,
            "aud": audience,
            "exp": issued_at + lifetime,
            "iat": issued_at,
            "sub": self.subject_for(person),
            "c_hash": secrets.token_urlsafe(16),
            "email": email or f"{person}@privaterelay.appleid.com",
            "email_verified": True,
            "is_private_email": email is None,
            "auth_time": issued_at,
            "nonce_supported": True,
        }
        if nonce is not None:
            claims["nonce"] = hashlib.sha256(nonce.encode()).hexdigest() if hash_nonce else nonce
        if is_published:
            key_id = kid or self._current_kid
            key = self._keys[key_id]
        else:
            key_id, key = kid or "stub-unpublished", self._unpublished_key
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": key_id})

    def mint_unsigned_id_token(
        self, audience: str = APPLE_SERVICE_ID, person: str = DEFAULT_PERSON
    ) -> str:
        """A token with `alg: none` and no signature (which must never be accepted)."""

        def part(value: dict[str, Any]) -> str:
            raw = json.dumps(value, separators=(",", ":")).encode()
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")

        now = int(time.time())
        header = {"alg": "none", "kid": self._current_kid, "typ": "JWT"}
        claims = {
            "iss": APPLE_ISSUER,
            "aud": audience,
            "exp": now + 600,
            "iat": now,
            "sub": self.subject_for(person),
        }
        return f"{part(header)}.{part(claims)}."

    def app(self) -> Starlette:
        return Starlette(
            routes=[Route("/auth/keys", self._jwks), Route("/_stub/id-token", self._stub_token)]
        )

    async def _jwks(self, request: Request) -> Response:
        self.jwks_calls += 1
        keys = []
        for kid, key in self._keys.items():
            jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return JSONResponse({"keys": keys})

    async def _stub_token(self, request: Request) -> Response:
        query = request.query_params
        token = self.mint_id_token(
            query.get("aud", APPLE_SERVICE_ID),
            query.get("person", DEFAULT_PERSON),
            nonce=query.get("nonce"),
        )
        return JSONResponse({"id_token": token})
