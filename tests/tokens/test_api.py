"""Sessions and tokens, as clients and gateways see them."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from sqlalchemy import text

from tests.conftest import MovableClock
from tests.identity.conftest import (
    AppFactory,
    bearer,
    client_for,
    last_mail_code,
    last_sms_code,
    new_phone,
    new_username,
    register,
    sms_login,
    state_of,
)
from usercenter.db import Database
from usercenter.models import metadata
from usercenter.tokens.service import LOCAL_MEMO_SECONDS


async def refresh(http: httpx.AsyncClient, token: str, **headers: str) -> httpx.Response:
    return await http.post("/v1/auth/refresh", json={"refresh_token": token}, headers=headers)


class TestRefresh:
    async def test_rotates_on_every_use(self, http: httpx.AsyncClient) -> None:
        first = await register(http, new_username())
        second = await refresh(http, first["refresh_token"])
        assert second.status_code == 200, second.text
        pair = second.json()
        assert pair["refresh_token"] != first["refresh_token"]
        assert pair["access_token"] != first["access_token"]
        assert pair["session_id"] == first["session_id"]
        assert (await http.get("/v1/me", headers=bearer(pair))).status_code == 200
        third = await refresh(http, pair["refresh_token"])
        assert third.status_code == 200

    async def test_reuse_ends_the_session(self, make_app: AppFactory) -> None:
        application = await make_app(refresh_reuse_grace_seconds=0)
        async with client_for(application) as http:
            first = await register(http, new_username())
            rotated = (await refresh(http, first["refresh_token"])).json()
            replay = await refresh(http, first["refresh_token"])
            assert replay.status_code == 401
            assert replay.json()["code"] == "refresh_token_reused"
            # The thief's replay killed the session: the legitimate pair is dead too.
            assert (await refresh(http, rotated["refresh_token"])).status_code == 401
            me = await http.get("/v1/me", headers=bearer(rotated))
            assert me.json()["code"] == "session_revoked"

    async def test_a_racing_retry_from_the_same_device_gets_the_same_pair(
        self, http: httpx.AsyncClient
    ) -> None:
        body = {"username": new_username(), "password": "correct horse 42", "platform": "APP"}
        login = await http.post("/v1/auth/register", json=body, headers={"X-Device-Id": "phone-1"})
        first = login.json()
        one = await refresh(http, first["refresh_token"], **{"X-Device-Id": "phone-1"})
        two = await refresh(http, first["refresh_token"], **{"X-Device-Id": "phone-1"})
        assert one.status_code == two.status_code == 200
        assert one.json()["refresh_token"] == two.json()["refresh_token"]
        # Same claims (jti, iat, exp); ECDSA signatures differ from one signing to the next.
        assert _claims_of(one.json()["access_token"]) == _claims_of(two.json()["access_token"])
        assert (await http.get("/v1/me", headers=bearer(two.json()))).status_code == 200

    async def test_a_retry_from_another_device_in_the_grace_is_reuse(
        self, http: httpx.AsyncClient
    ) -> None:
        body = {"username": new_username(), "password": "correct horse 42", "platform": "APP"}
        login = await http.post("/v1/auth/register", json=body, headers={"X-Device-Id": "phone-1"})
        first = login.json()
        ok = await refresh(http, first["refresh_token"], **{"X-Device-Id": "phone-1"})
        assert ok.status_code == 200
        thief = await refresh(http, first["refresh_token"], **{"X-Device-Id": "laptop-9"})
        assert thief.json()["code"] == "refresh_token_reused"
        assert (await refresh(http, ok.json()["refresh_token"])).status_code == 401

    async def test_no_grace_when_the_login_named_no_device(self, http: httpx.AsyncClient) -> None:
        """A stolen previous token replayed within the grace, with the same user agent and
        claiming a device now, is reuse: the session ends."""
        first = await register(http, new_username())
        rotated = await refresh(http, first["refresh_token"])
        assert rotated.status_code == 200
        replay = await refresh(http, first["refresh_token"], **{"X-Device-Id": "phone-1"})
        assert replay.status_code == 401
        assert replay.json()["code"] == "refresh_token_reused"
        assert (await refresh(http, rotated.json()["refresh_token"])).status_code == 401
        me = await http.get("/v1/me", headers=bearer(rotated.json()))
        assert me.json()["code"] == "session_revoked"

    @pytest.mark.parametrize("same_client", [True, False])
    async def test_two_racing_refreshes_never_both_get_independent_live_tokens(
        self, http: httpx.AsyncClient, same_client: bool
    ) -> None:
        first = await register(http, new_username())
        devices = ["d1", "d1"] if same_client else ["d1", "d2"]
        results = await asyncio.gather(
            *(refresh(http, first["refresh_token"], **{"X-Device-Id": d}) for d in devices)
        )
        winners = [r.json() for r in results if r.status_code == 200]
        assert winners, [r.text for r in results]
        assert len({w["refresh_token"] for w in winners}) == 1
        live = [
            token
            for token in {w["refresh_token"] for w in winners}
            if (await refresh(http, token, **{"X-Device-Id": "d1"})).status_code == 200
        ]
        assert len(live) <= 1

    async def test_a_forged_token_is_refused_without_ending_the_session(
        self, http: httpx.AsyncClient
    ) -> None:
        first = await register(http, new_username())
        session_id, generation, secret, tag = first["refresh_token"].split(".")
        forged = f"{session_id}.{int(generation) + 5}.{secret}.{tag}"
        response = await refresh(http, forged)
        assert response.status_code == 401
        assert response.json()["code"] == "refresh_token_invalid"
        assert (await refresh(http, first["refresh_token"])).status_code == 200

    async def test_garbage_is_refused(self, http: httpx.AsyncClient) -> None:
        for token in ("x", "a.b.c.d", "." * 3, "é" * 40):
            response = await refresh(http, token)
            assert response.status_code == 401, token
            assert response.json()["code"] == "refresh_token_invalid"


class TestSessions:
    async def test_list_end_one_and_end_the_others(self, http: httpx.AsyncClient) -> None:
        username = new_username()
        first = await register(http, username)
        logins = [
            (
                await http.post(
                    "/v1/auth/password-login",
                    json={"login": username, "password": "correct horse 42", "platform": p},
                    headers={"X-Device-Id": f"dev-{p}", "X-OS": "iOS"},
                )
            ).json()
            for p in ("APP", "MINIAPP")
        ]
        listed = (await http.get("/v1/me/sessions", headers=bearer(first))).json()
        assert len(listed) == 3
        assert sum(item["current"] for item in listed) == 1
        assert {item["platform"] for item in listed} == {"WEB", "APP", "MINIAPP"}
        ended = await http.delete(
            f"/v1/me/sessions/{logins[0]['session_id']}", headers=bearer(first)
        )
        assert ended.status_code == 204
        assert (await http.get("/v1/me", headers=bearer(logins[0]))).status_code == 401
        again = await http.delete(
            f"/v1/me/sessions/{logins[0]['session_id']}", headers=bearer(first)
        )
        assert again.status_code == 404
        others = await http.post("/v1/me/sessions/revoke-others", headers=bearer(first))
        assert others.json() == {"revoked": [logins[1]["session_id"]]}
        assert (await http.get("/v1/me", headers=bearer(logins[1]))).status_code == 401
        assert (await http.get("/v1/me", headers=bearer(first))).status_code == 200

    async def test_someone_elses_session_cannot_be_ended(self, http: httpx.AsyncClient) -> None:
        mine = await register(http, new_username())
        theirs = await register(http, new_username())
        response = await http.delete(
            f"/v1/me/sessions/{theirs['session_id']}", headers=bearer(mine)
        )
        assert response.status_code == 404
        assert (await http.get("/v1/me", headers=bearer(theirs))).status_code == 200

    async def test_logout_ends_this_session(self, http: httpx.AsyncClient) -> None:
        tokens = await register(http, new_username())
        assert (await http.post("/v1/auth/logout", headers=bearer(tokens))).status_code == 204
        assert (await http.get("/v1/me", headers=bearer(tokens))).status_code == 401
        assert (await refresh(http, tokens["refresh_token"])).status_code == 401

    async def test_one_device_per_platform(self, make_app: AppFactory) -> None:
        application = await make_app(single_device_platforms="APP")
        phone = new_phone()
        async with client_for(application) as http:
            old_app = await sms_login(application, http, phone)  # platform APP
            web = await sms_login(application, http, phone, platform="WEB")
            new_app = await sms_login(application, http, phone)
            assert (await http.get("/v1/me", headers=bearer(old_app))).status_code == 401
            assert (await http.get("/v1/me", headers=bearer(new_app))).status_code == 200
            assert (await http.get("/v1/me", headers=bearer(web))).status_code == 200

    async def test_disabling_a_user_ends_every_session(
        self, app: FastAPI, http: httpx.AsyncClient, db: Database
    ) -> None:
        username = new_username()
        tokens = await register(http, username)
        async with db.unit_of_work() as session:
            await state_of(app).identity.disable_user(session, int(tokens["user"]["id"]))
        assert (await http.get("/v1/me", headers=bearer(tokens))).status_code == 401
        login = await http.post(
            "/v1/auth/password-login",
            json={"login": username, "password": "correct horse 42", "platform": "WEB"},
        )
        assert login.status_code == 403
        assert login.json()["code"] == "account_disabled"

    async def test_a_busy_process_sees_a_revocation_made_in_another(
        self, make_app: AppFactory, request: pytest.FixtureRequest, moved_clock: MovableClock
    ) -> None:
        if request.node.callspec.params["make_app"] != "redis":
            pytest.skip("processes share revocations through Redis")
        here, there = await make_app(), await make_app()
        async with client_for(here) as http_here, client_for(there) as http_there:
            tokens = await register(http_here, new_username())
            assert (await http_there.get("/v1/me", headers=bearer(tokens))).status_code == 200
            assert (await http_here.post("/v1/auth/logout", headers=bearer(tokens))).status_code
            # The other process may trust its memo of the session until that expires, no longer.
            moved_clock.advance(LOCAL_MEMO_SECONDS)
            answer = await http_there.get("/v1/me", headers=bearer(tokens))
            assert answer.status_code == 401, answer.text
            assert answer.json()["code"] == "session_revoked"


class TestClientAddress:
    """The address kept with a session (and used by per-address limits) is the peer's, or
    with a trusted proxy in front the hop it vouches for; always an address."""

    @staticmethod
    async def _session_ip(http: httpx.AsyncClient, forwarded_for: str) -> str | None:
        body = {"username": new_username(), "password": "correct horse 42", "platform": "WEB"}
        login = await http.post(
            "/v1/auth/register", json=body, headers={"X-Forwarded-For": forwarded_for}
        )
        assert login.status_code == 201, login.text
        listed = await http.get("/v1/me/sessions", headers=bearer(login.json()))
        assert listed.status_code == 200, listed.text
        [session] = listed.json()
        ip: str | None = session["ip"]
        return ip

    async def test_forwarded_for_from_an_untrusted_peer_is_ignored(
        self, make_app: AppFactory
    ) -> None:
        application = await make_app()
        async with client_for(application, ip="10.1.2.3") as http:
            assert await self._session_ip(http, "203.0.113.9") == "10.1.2.3"

    async def test_a_trusted_proxy_vouches_for_the_rightmost_untrusted_hop(
        self, make_app: AppFactory
    ) -> None:
        application = await make_app(trusted_proxies="10.0.0.0/8")
        async with client_for(application, ip="10.1.2.3") as http:
            # The client claims 198.51.100.1; our two proxies saw 203.0.113.9, then 10.9.9.9.
            chain = "198.51.100.1, 203.0.113.9, 10.9.9.9"
            assert await self._session_ip(http, chain) == "203.0.113.9"
        async with client_for(application, ip="192.0.2.7") as http:  # not a proxy of ours
            assert await self._session_ip(http, chain) == "192.0.2.7"

    async def test_a_forwarded_value_that_is_not_an_address_is_never_kept(
        self, make_app: AppFactory
    ) -> None:
        application = await make_app(trusted_proxies="10.0.0.0/8")
        async with client_for(application, ip="10.1.2.3") as http:
            for junk in ("<img src=x onerror=alert(1)>", "1" * 100, "::ffff:" + "a" * 90):
                assert await self._session_ip(http, junk) == "10.1.2.3"
            mapped = await self._session_ip(http, "::ffff:203.0.113.9")
            assert mapped == "203.0.113.9"

    async def test_rotating_forwarded_for_does_not_escape_the_captcha(
        self, make_app: AppFactory
    ) -> None:
        application = await make_app(login_captcha_after_address_failures=3)
        async with client_for(application) as http:
            for n in range(3):
                failed = await http.post(
                    "/v1/auth/password-login",
                    json={"login": new_username(), "password": "whatever 123", "platform": "WEB"},
                    headers={"X-Forwarded-For": f"203.0.113.{n}"},
                )
                assert failed.status_code == 401
            gated = await http.post(
                "/v1/auth/password-login",
                json={"login": new_username(), "password": "whatever 123", "platform": "WEB"},
                headers={"X-Forwarded-For": "203.0.113.99"},
            )
        assert (gated.status_code, gated.json()["code"]) == (403, "captcha_required")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


class TestAccessTokenAttacks:
    async def _expect(self, http: httpx.AsyncClient, token: str, code: str) -> None:
        response = await http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, response.text
        assert response.json()["code"] == code

    async def test_forgeries_are_refused(self, app: FastAPI, http: httpx.AsyncClient) -> None:
        tokens = await register(http, new_username())
        good = tokens["access_token"]
        header = jwt.get_unverified_header(good)
        claims = _claims_of(good)
        key = await state_of(app).signing_keys.signing_key()
        public_pem = key.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        # alg none
        none = f"{_b64(json.dumps({'alg': 'none', 'kid': header['kid']}).encode())}."
        none += f"{_b64(json.dumps(claims).encode())}."
        await self._expect(http, none, "token_invalid")
        # HS256 keyed with the public key (algorithm confusion)
        await self._expect(http, _hs256(claims, public_pem, header["kid"]), "token_invalid")
        # a key of our own making, under the real kid and under an unknown one
        mine = ec.generate_private_key(ec.SECP256R1())
        for kid in (header["kid"], "no-such-kid"):
            forged = jwt.encode(claims, mine, algorithm="ES256", headers={"kid": kid})
            await self._expect(http, forged, "token_invalid")
        # tampered payload
        head, _, signature = good.split(".")
        other = _b64(json.dumps({**claims, "sub": "1"}).encode())
        await self._expect(http, f"{head}.{other}.{signature}", "token_invalid")
        # right key, wrong audience / issuer; expired
        for change, code in (
            ({"aud": "someone-else"}, "token_invalid"),
            ({"iss": "someone-else"}, "token_invalid"),
            ({"exp": int(time.time()) - 60, "iat": int(time.time()) - 960}, "token_expired"),
        ):
            token = jwt.encode(
                {**claims, **change}, key.private_key, algorithm="ES256", headers={"kid": key.kid}
            )
            await self._expect(http, token, code)
        await self._expect(http, "not-a-jwt", "token_invalid")
        missing = await http.get("/v1/me")
        assert missing.status_code == 401
        assert missing.json()["code"] == "token_missing"
        assert missing.headers["www-authenticate"] == "Bearer"

    async def test_token_accepted_before_is_refused_once_expired(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        # Verified tokens are remembered; the memory must not outlive the token.
        claims = _claims_of((await register(http, new_username()))["access_token"])
        key = await state_of(app).signing_keys.signing_key()
        # A minute to live on the system clock (PyJWT's): a slow machine cannot expire it
        # before the first call, as an `exp` inside the leeway once did.
        expiring = {**claims, "exp": int(time.time()) + 60}
        token = jwt.encode(expiring, key.private_key, algorithm="ES256", headers={"kid": key.kid})
        accepted = await http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert accepted.status_code == 200, accepted.text
        # Past the leeway on the clock the remembered token is checked against: no sleep.
        access_tokens = state_of(app).tokens.access_tokens
        access_tokens.wall_clock = lambda: expiring["exp"] + 5.05
        try:
            await self._expect(http, token, "token_expired")
        finally:
            access_tokens.wall_clock = time.time

    async def test_key_rotation_keeps_old_tokens_valid(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        before = await register(http, new_username())
        old_kid = jwt.get_unverified_header(before["access_token"])["kid"]
        new_kid = await state_of(app).signing_keys.rotate()
        jwks = (await http.get("/.well-known/jwks.json")).json()
        assert {key["kid"] for key in jwks["keys"]} == {old_kid, new_kid}
        assert all(key["alg"] == "ES256" and "d" not in key for key in jwks["keys"])
        assert (await http.get("/v1/me", headers=bearer(before))).status_code == 200
        after = await register(http, new_username())
        assert jwt.get_unverified_header(after["access_token"])["kid"] == new_kid


def _hs256(claims: dict[str, Any], secret: bytes, kid: str) -> str:
    """An HS256 token keyed with `secret`, built by hand (PyJWT refuses PEM keys for HMAC)."""
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = _b64(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(signature)}"


class TestIntrospection:
    async def test_gateway_learns_who_a_token_belongs_to(self, make_app: AppFactory) -> None:
        application = await make_app(introspection_clients="gateway:s3cret")
        auth = "Basic " + base64.b64encode(b"gateway:s3cret").decode()
        async with client_for(application) as http:
            tokens = await register(http, new_username())
            for token, kind in (
                (tokens["access_token"], "access_token"),
                (tokens["refresh_token"], "refresh_token"),
            ):
                answer = await http.post(
                    "/v1/oauth/introspect", data={"token": token}, headers={"Authorization": auth}
                )
                assert answer.status_code == 200, answer.text
                body = answer.json()
                assert body["active"] is True
                assert body["token_type"] == kind
                assert body["sub"] == tokens["user"]["id"]
                assert body["client_id"] == "gateway"
            await http.post("/v1/auth/logout", headers=bearer(tokens))
            dead = await http.post(
                "/v1/oauth/introspect",
                data={"token": tokens["access_token"]},
                headers={"Authorization": auth},
            )
            assert dead.json() == {"active": False}
            for bad in (None, "Basic " + base64.b64encode(b"gateway:wrong").decode(), "Bearer x"):
                headers = {"Authorization": bad} if bad else {}
                refused = await http.post(
                    "/v1/oauth/introspect", data={"token": "x"}, headers=headers
                )
                assert refused.status_code == 401
                assert refused.json()["code"] == "client_unauthorized"


class TestPersonalData:
    async def test_the_database_holds_no_plaintext_phone_or_email(
        self, app: FastAPI, http: httpx.AsyncClient, db: Database
    ) -> None:
        phone = new_phone()
        await sms_login(app, http, phone)
        address = f"li.{new_username()}@example.org"
        await http.post("/v1/email/codes", json={"email": address, "purpose": "register"})
        code = await last_mail_code(app, address)
        registered = await http.post(
            "/v1/auth/register",
            json={"email": address, "email_code": code, "password": "correct horse 42"},
        )
        assert registered.status_code == 201, registered.text
        dumped = []
        async with db.read_session() as session:
            for table in metadata.sorted_tables:
                rows = await session.execute(text(f"SELECT * FROM {table.name}"))  # noqa: S608
                dumped.extend(str(value) for row in rows for value in row)
        everything = "\n".join(dumped).lower()
        assert phone[-8:] not in everything
        assert address.split("@")[0] not in everything
        assert "example.org" not in everything


class TestAlgorithms:
    @pytest.mark.parametrize("algorithm", ["RS256", "EdDSA"])
    async def test_other_configured_algorithms_sign_and_verify(
        self, make_app: AppFactory, algorithm: str
    ) -> None:
        application = await make_app(token_algorithm=algorithm)
        async with client_for(application) as http:
            tokens = await register(http, new_username())
            assert jwt.get_unverified_header(tokens["access_token"])["alg"] == algorithm
            assert (await http.get("/v1/me", headers=bearer(tokens))).status_code == 200
            jwks = (await http.get("/.well-known/jwks.json")).json()
        assert [key["alg"] for key in jwks["keys"]] == [algorithm]


class TestTokensAreNotCached:
    """Every answer that carries a token says `Cache-Control: no-store` (RFC 6749 5.1)."""

    async def test_logins_registration_and_refresh(self, app: FastAPI) -> None:
        async with client_for(app) as http:
            phone = new_phone()
            sent = await http.post("/v1/sms/codes", json={"phone": phone, "purpose": "login"})
            assert sent.status_code == 202, sent.text
            code = await last_sms_code(app, phone)
            login = await http.post("/v1/auth/sms-login", json={"phone": phone, "code": code})
            assert login.status_code == 200, login.text
            username = new_username()
            registered = await http.post(
                "/v1/auth/register",
                json={"username": username, "password": "correct horse 42", "platform": "WEB"},
            )
            assert registered.status_code == 201, registered.text
            password_login = await http.post(
                "/v1/auth/password-login",
                json={"login": username, "password": "correct horse 42", "platform": "APP"},
            )
            assert password_login.status_code == 200, password_login.text
            refreshed = await refresh(http, password_login.json()["refresh_token"])
            assert refreshed.status_code == 200, refreshed.text
            for answer in (login, registered, password_login, refreshed):
                assert answer.headers["cache-control"] == "no-store", answer.url
                assert answer.headers["x-content-type-options"] == "nosniff", answer.url
