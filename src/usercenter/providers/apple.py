"""Sign in with Apple: the client brings Apple's id_token (an RS256 JWT) and the raw nonce it
asked Apple to put in it; we check the signature against Apple's published keys, the issuer,
the audience (our service or bundle id), the expiry and the nonce.

Apple's keys (a JWKS) are cached per URL for `keys_ttl` seconds; a token signed by a key we do
not know makes us fetch them again, at most once every `refetch_interval` seconds, so that
forged kids cannot make us hammer Apple. Every fault of the token is ProviderCodeInvalid;
not being able to get the keys is ProviderUnavailable.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from usercenter.kit import clock
from usercenter.kit.log import get_logger
from usercenter.providers.base import AppCredentials, AppType, ExternalIdentity, LoginProof
from usercenter.providers.errors import ProviderCodeInvalid, ProviderUnavailable
from usercenter.providers.vendor_http import VendorHttp, json_object

_log = get_logger(__name__)

PROVIDER = "apple"
ISSUER = "https://appleid.apple.com"
KEYS_URL = "https://appleid.apple.com/auth/keys"
ALGORITHM = "RS256"
LEEWAY_SECONDS = 30


@dataclass(slots=True)
class _KeySet:
    keys: dict[str, jwt.PyJWK]
    fetched_at: float


def nonce_matches(claim: object, nonce: str) -> bool:
    """Apple puts either the SHA-256 (hex) of the raw nonce or the nonce itself in the token."""
    if not isinstance(claim, str) or not claim:
        return False
    hashed = hashlib.sha256(nonce.encode("utf-8")).hexdigest()
    return hmac.compare_digest(claim.lower(), hashed) or hmac.compare_digest(claim, nonce)


class AppleProvider:
    """Apple; the audience is `app.app_id` or one of `app.extra["audiences"]` (an iOS bundle id
    and a web service id of one team), `app.extra["keys_url"]` points at other keys (a stub),
    and `app.extra["require_nonce"]` refuses tokens whose client sent no nonce."""

    app_types: tuple[AppType, ...] = (AppType.APPLE,)

    def __init__(
        self,
        http: httpx.AsyncClient | None = None,
        *,
        keys_url: str = KEYS_URL,
        timeout: float = 5.0,
        retries: int = 1,
        backoff: float = 0.2,
        keys_ttl: float = 86_400.0,
        refetch_interval: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`monotonic` is the clock the key cache ages by (tests pass one they move)."""
        self._http = VendorHttp(PROVIDER, http, timeout=timeout, retries=retries, backoff=backoff)
        self._keys_url = keys_url
        self._keys_ttl = keys_ttl
        self._refetch_interval = refetch_interval
        self._key_sets: dict[str, _KeySet] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._monotonic = monotonic

    def _invalid(self, app: AppCredentials, reason: str) -> ProviderCodeInvalid:
        _log.info("apple_id_token_refused", app_id=app.app_id, reason=reason)
        return ProviderCodeInvalid(provider=PROVIDER, vendor_code=reason, field="id_token")

    async def exchange(self, app: AppCredentials, proof: LoginProof) -> ExternalIdentity:
        """The person an id_token names; raises ProviderCodeInvalid or ProviderUnavailable."""
        if not proof.id_token:
            raise self._invalid(app, "missing id_token")
        try:
            header = jwt.get_unverified_header(proof.id_token)
        except jwt.InvalidTokenError:
            raise self._invalid(app, "malformed") from None
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM:
            raise self._invalid(app, f"algorithm {header.get('alg')!r}")
        if not isinstance(kid, str) or not kid:
            raise self._invalid(app, "no kid")
        key = await self._key(app, kid)
        if key is None:
            raise self._invalid(app, "unknown kid")
        claims = self._verified_claims(app, proof.id_token, key)
        self._check_nonce(app, claims, proof.nonce)
        email = claims.get("email")
        return ExternalIdentity(
            app_type=app.app_type,
            app_id=app.app_id,
            subject=str(claims["sub"]),
            email=email if isinstance(email, str) and email else None,
        )

    def _audiences(self, app: AppCredentials) -> list[str]:
        extra = app.extra.get("audiences") or []
        return [app.app_id, *(str(item) for item in extra)]

    def _verified_claims(self, app: AppCredentials, token: str, key: jwt.PyJWK) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[ALGORITHM],
                audience=self._audiences(app),
                issuer=ISSUER,
                # Time is checked below against the service clock (kit.clock).
                options={
                    "require": ["iss", "aud", "exp", "iat", "sub"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.InvalidAudienceError:
            raise self._invalid(app, "wrong audience") from None
        except jwt.InvalidIssuerError:
            raise self._invalid(app, "wrong issuer") from None
        except jwt.InvalidSignatureError:
            raise self._invalid(app, "bad signature") from None
        except jwt.MissingRequiredClaimError as exc:
            raise self._invalid(app, f"missing {exc.claim}") from None
        except jwt.InvalidTokenError as exc:
            raise self._invalid(app, type(exc).__name__) from None
        now = clock.now().timestamp()
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp + LEEWAY_SECONDS <= now:
            raise self._invalid(app, "expired")
        iat = claims.get("iat")
        if not isinstance(iat, int | float) or iat - LEEWAY_SECONDS > now:
            raise self._invalid(app, "issued in the future")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise self._invalid(app, "empty sub")
        return claims

    def _check_nonce(self, app: AppCredentials, claims: dict[str, Any], nonce: str | None) -> None:
        if nonce is None:
            if app.extra.get("require_nonce"):
                raise self._invalid(app, "client sent no nonce")
            return
        if "nonce" not in claims:
            raise self._invalid(app, "token without nonce")
        if not nonce_matches(claims["nonce"], nonce):
            raise self._invalid(app, "nonce mismatch")

    # --- Apple's keys ---------------------------------------------------------------------

    async def _key(self, app: AppCredentials, kid: str) -> jwt.PyJWK | None:
        url = str(app.extra.get("keys_url") or self._keys_url)
        lock = self._locks.setdefault(url, asyncio.Lock())
        async with lock:
            cached = self._key_sets.get(url)
            if cached is not None and not self._needs_fetch(cached, kid):
                return cached.keys.get(kid)
            try:
                fresh = await self._fetch(app, url)
            except ProviderUnavailable:
                if cached is None or kid not in cached.keys:
                    raise
                return cached.keys[kid]  # stale keys beat no login while Apple is away
            self._key_sets[url] = fresh
            return fresh.keys.get(kid)

    def _needs_fetch(self, cached: _KeySet, kid: str) -> bool:
        """Stale keys are fetched again; an unknown kid too, at most once per interval."""
        age = self._monotonic() - cached.fetched_at
        if age >= self._keys_ttl:
            return True
        return kid not in cached.keys and age >= self._refetch_interval

    async def _fetch(self, app: AppCredentials, url: str) -> _KeySet:
        response = await self._http.request("GET", url, app_id=app.app_id, operation="keys")
        data = json_object(response) if response.status_code == 200 else None
        items = data.get("keys") if data else None
        if not isinstance(items, list):
            raise self._http.failure(
                ProviderUnavailable,
                app_id=app.app_id,
                operation="keys",
                vendor_code=f"HTTP {response.status_code} without a key set",
            )
        keys: dict[str, jwt.PyJWK] = {}
        for item in items:
            if not isinstance(item, dict) or item.get("kty") != "RSA" or not item.get("kid"):
                continue
            try:
                keys[str(item["kid"])] = jwt.PyJWK(item, algorithm=ALGORITHM)
            except jwt.PyJWKError:
                continue
        _log.info("apple_keys_fetched", app_id=app.app_id, kids=sorted(keys))
        return _KeySet(keys, self._monotonic())

    def authorize_url(self, app: AppCredentials, *, redirect_uri: str, state: str) -> str:
        """Not a redirect flow here: the client gets the id_token (with its nonce) from Apple's
        own sheet or JS and brings it."""
        raise ValueError("Sign in with Apple: the client brings the id_token")
