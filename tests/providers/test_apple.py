from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.providers.conftest import FAST, person
from usercenter.kit import clock
from usercenter.providers.apple import AppleProvider, nonce_matches
from usercenter.providers.base import AppCredentials, AppType, LoginProof
from usercenter.providers.errors import ProviderCodeInvalid, ProviderUnavailable
from usercenter.providers.stubs import (
    APPLE_BUNDLE_ID,
    APPLE_SERVICE_ID,
    AppleStub,
    RunningStubs,
    free_port,
    serve,
)


@pytest.fixture
def apple(http: httpx.AsyncClient) -> AppleProvider:
    """A provider of its own per test: its key cache starts empty."""
    return AppleProvider(http, **FAST)


@pytest.fixture
def app(stubs: RunningStubs) -> AppCredentials:
    return stubs.app(APPLE_SERVICE_ID)


@pytest.fixture
def an_hour_later() -> Iterator[None]:
    clock.set_clock(lambda: clock._system_now() + timedelta(hours=1))
    yield
    clock.set_clock(None)


async def refused_because(apple: AppleProvider, app: AppCredentials, proof: LoginProof) -> str:
    with pytest.raises(ProviderCodeInvalid) as caught:
        await apple.exchange(app, proof)
    assert caught.value.field == "id_token"
    return str(caught.value.vendor_code)


def b64(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).decode().rstrip("=")


class TestGoodTokens:
    async def test_a_token_with_the_hashed_nonce_names_the_person(
        self, apple: AppleProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        who = person()
        token = stubs.apple.mint_id_token(APPLE_SERVICE_ID, who, nonce="n-123")
        identity = await apple.exchange(app, LoginProof(id_token=token, nonce="n-123"))
        assert identity.app_type is AppType.APPLE
        assert identity.subject == stubs.apple.subject_for(who)
        assert identity.email == f"{who}@privaterelay.appleid.com"

    async def test_a_token_with_the_raw_nonce_is_accepted(
        self, apple: AppleProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        token = stubs.apple.mint_id_token(nonce="raw-nonce", hash_nonce=False)
        assert await apple.exchange(app, LoginProof(id_token=token, nonce="raw-nonce"))

    async def test_another_audience_of_the_app_is_accepted(
        self, apple: AppleProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        token = stubs.apple.mint_id_token(APPLE_BUNDLE_ID, nonce="n")
        assert await apple.exchange(app, LoginProof(id_token=token, nonce="n"))

    async def test_without_a_client_nonce_the_token_is_accepted(
        self, apple: AppleProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        token = stubs.apple.mint_id_token()
        assert await apple.exchange(app, LoginProof(id_token=token))


class TestBadTokens:
    async def test_wrong_audience(
        self, apple: AppleProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        token = stubs.apple.mint_id_token("com.someone.else", nonce="n")
        proof = LoginProof(id_token=token, nonce="n")
        assert await refused_because(apple, app, proof) == "wrong audience"

    async def test_wrong_issuer(
        self, apple: AppleProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        token = stubs.apple.mint_id_token(issuer="https://evil.example.com", nonce="n")
        proof = LoginProof(id_token=token, nonce="n")
        assert await refused_because(apple, app, proof) == "wrong issuer"

    async def test_expired(
        self, apple: AppleProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        token = stubs.apple.mint_id_token(nonce="n", is_expired=True)
        proof = LoginProof(id_token=token, nonce="n")
        assert await refused_because(apple, app, proof) == "expired"

    @pytest.mark.usefixtures("an_hour_later")
    async def test_expiry_is_judged_by_the_service_clock(
        self, apple: AppleProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        token = stubs.apple.mint_id_token(nonce="n")
        proof = LoginProof(id_token=token, nonce="n")
        assert await refused_because(apple, app, proof) == "expired"

    async def test_wrong_nonce(
        self, apple: AppleProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        token = stubs.apple.mint_id_token(nonce="n-1")
        proof = LoginProof(id_token=token, nonce="n-2")
        assert await refused_because(apple, app, proof) == "nonce mismatch"

    async def test_a_client_nonce_needs_a_nonce_in_the_token(
        self, apple: AppleProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        proof = LoginProof(id_token=stubs.apple.mint_id_token(), nonce="n")
        assert await refused_because(apple, app, proof) == "token without nonce"

    async def test_an_app_can_require_a_nonce(
        self, apple: AppleProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        strict = AppCredentials(app.app_type, app.app_id, "", {**app.extra, "require_nonce": True})
        proof = LoginProof(id_token=stubs.apple.mint_id_token(nonce="n"))
        assert await refused_because(apple, strict, proof) == "client sent no nonce"

    async def test_a_key_apple_does_not_publish(
        self, apple: AppleProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        token = stubs.apple.mint_id_token(nonce="n", is_published=False)
        proof = LoginProof(id_token=token, nonce="n")
        assert await refused_because(apple, app, proof) == "unknown kid"

    async def test_alg_none(
        self, apple: AppleProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        proof = LoginProof(id_token=stubs.apple.mint_unsigned_id_token())
        assert await refused_because(apple, app, proof) == "algorithm 'none'"

    async def test_hs256_signed_with_the_public_key(
        self,
        apple: AppleProvider,
        app: AppCredentials,
        stubs: RunningStubs,
        http: httpx.AsyncClient,
    ) -> None:
        real = stubs.apple.mint_id_token()
        kid = json.loads(base64.urlsafe_b64decode(real.split(".")[0] + "=="))["kid"]
        jwks = (await http.get(app.extra["keys_url"])).json()
        [jwk] = [key for key in jwks["keys"] if key["kid"] == kid]
        public_key = RSAAlgorithm.from_jwk(jwk)
        assert isinstance(public_key, rsa.RSAPublicKey)
        public_pem = public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        header = b64(json.dumps({"alg": "HS256", "kid": kid}).encode())
        claims = real.split(".")[1]
        signature = hmac.new(public_pem, f"{header}.{claims}".encode(), hashlib.sha256).digest()
        proof = LoginProof(id_token=f"{header}.{claims}.{b64(signature)}")
        assert await refused_because(apple, app, proof) == "algorithm 'HS256'"

    async def test_a_changed_payload_breaks_the_signature(
        self, apple: AppleProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        header, claims, signature = stubs.apple.mint_id_token().split(".")
        payload = json.loads(base64.urlsafe_b64decode(claims + "=="))
        payload["sub"] = "someone-else"
        forged = f"{header}.{b64(json.dumps(payload).encode())}.{signature}"
        assert await refused_because(apple, app, LoginProof(id_token=forged)) == "bad signature"

    @pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c"])
    async def test_garbage(self, apple: AppleProvider, app: AppCredentials, token: str) -> None:
        await refused_because(apple, app, LoginProof(id_token=token or None))


class TestKeys:
    async def test_keys_are_fetched_once_for_many_tokens(
        self, apple: AppleProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        before = stubs.apple.jwks_calls
        for _ in range(3):
            await apple.exchange(app, LoginProof(id_token=stubs.apple.mint_id_token()))
        assert stubs.apple.jwks_calls - before == 1

    async def test_unknown_kids_refetch_at_most_once_a_minute(
        self, apple: AppleProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        before = stubs.apple.jwks_calls
        await apple.exchange(app, LoginProof(id_token=stubs.apple.mint_id_token()))
        for _ in range(3):
            forged = stubs.apple.mint_id_token(is_published=False, kid="forged-kid")
            await refused_because(apple, app, LoginProof(id_token=forged))
        assert stubs.apple.jwks_calls - before == 1

    async def test_a_new_key_of_apple_is_found_by_refetching(
        self, http: httpx.AsyncClient, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        apple = AppleProvider(http, refetch_interval=0)
        await apple.exchange(app, LoginProof(id_token=stubs.apple.mint_id_token()))
        before = stubs.apple.jwks_calls
        stubs.apple.rotate_key()
        identity = await apple.exchange(app, LoginProof(id_token=stubs.apple.mint_id_token()))
        assert identity.subject
        assert stubs.apple.jwks_calls - before == 1

    async def test_keys_out_of_reach_are_unavailable(
        self, apple: AppleProvider, app: AppCredentials, stubs: RunningStubs
    ) -> None:
        down = AppCredentials(
            app.app_type, app.app_id, "", {"keys_url": f"http://127.0.0.1:{free_port()}/keys"}
        )
        with pytest.raises(ProviderUnavailable):
            await apple.exchange(down, LoginProof(id_token=stubs.apple.mint_id_token()))

    async def test_stale_keys_serve_while_apple_is_out_of_reach(
        self, http: httpx.AsyncClient
    ) -> None:
        now = [1000.0]
        apple = AppleProvider(http, keys_ttl=60, timeout=0.3, retries=0, monotonic=lambda: now[0])
        stub = AppleStub()
        with serve(stub.app()) as url:
            app = stub.credentials(url)
            await apple.exchange(app, LoginProof(id_token=stub.mint_id_token()))
        now[0] += 61  # the keys are stale and Apple is gone
        identity = await apple.exchange(app, LoginProof(id_token=stub.mint_id_token()))
        assert identity.subject == stub.subject_for("alice")


class TestNonce:
    def test_the_hash_or_the_nonce_itself_match(self) -> None:
        hashed = hashlib.sha256(b"abc").hexdigest()
        assert nonce_matches(hashed, "abc")
        assert nonce_matches(hashed.upper(), "abc")
        assert nonce_matches("abc", "abc")
        assert not nonce_matches("abd", "abc")
        assert not nonce_matches(None, "abc")
        assert not nonce_matches("", "")


class TestAuthorizeUrl:
    def test_apple_has_no_redirect_flow_here(self, apple: AppleProvider) -> None:
        with pytest.raises(ValueError, match="id_token"):
            apple.authorize_url(
                AppCredentials(AppType.APPLE, "x", ""), redirect_uri="https://x", state="s"
            )
