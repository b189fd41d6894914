"""Registering and logging in, as a client sees it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.identity.conftest import (
    AppFactory,
    MovableClock,
    bearer,
    client_for,
    delivered,
    last_mail_code,
    last_sms_code,
    new_phone,
    new_username,
    register,
    sms_login,
    state_of,
)
from usercenter.audit.models import AuthEvent
from usercenter.db import Database
from usercenter.identity.models import Credential
from usercenter.identity.service.user_views import LOCAL_MEMO_SECONDS
from usercenter.kit import clock
from usercenter.kit.cache import MemoryCache
from usercenter.notify.sms import SmsReceipt


def spellings(phone: str) -> list[str]:
    """Ways people write one mainland number."""
    return [phone, f"+86{phone}", f"{phone[:3]} {phone[3:7]} {phone[7:]}", f"+86-{phone}"]


async def set_password(
    application: FastAPI, http: httpx.AsyncClient, phone: str, password: str
) -> dict[str, object]:
    """Log in by SMS (registering the phone) and set a password; returns the login."""
    tokens = await sms_login(application, http, phone)
    await http.post("/v1/sms/codes", json={"phone": phone, "purpose": "reset_password"})
    changed = await http.put(
        "/v1/me/password",
        json={"new_password": password, "sms_code": await last_sms_code(application, phone)},
        headers=bearer(tokens),
    )
    assert changed.status_code == 204, changed.text
    return tokens


class GatedSmsSender:
    """A vendor that takes as long as the test wants: nothing is sent until `gate` is set."""

    name = "gated"

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.sent: dict[str, str] = {}

    async def send_code(self, phone: str, code: str, *, purpose: str) -> SmsReceipt:
        await self.gate.wait()
        self.sent[phone] = code
        return SmsReceipt(self.name, "message", "request")


class TestSmsLogin:
    async def test_first_login_registers_with_a_province_uid_and_a_masked_phone(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        answer = await sms_login(app, http, "13812345678")  # a Jiangsu number
        assert answer["is_new_user"] is True
        user = answer["user"]
        assert user["uid"].startswith("JS")
        assert len(user["uid"]) == 8
        assert user["phone"] == "138****5678"
        assert answer["token_type"] == "Bearer"
        me = await http.get("/v1/me", headers=bearer(answer))
        assert me.status_code == 200
        assert me.json()["uid"] == user["uid"]

    async def test_second_login_is_the_same_user(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        phone = new_phone()
        first = await sms_login(app, http, phone)
        async with client_for(app) as other:
            second = await sms_login(app, other, "+86 " + phone)
        assert second["is_new_user"] is False
        assert second["user"]["id"] == first["user"]["id"]
        assert second["session_id"] != first["session_id"]

    async def test_wrong_code_is_refused_and_burns_the_code_after_five_tries(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        phone = new_phone()
        await http.post("/v1/sms/codes", json={"phone": phone, "purpose": "login"})
        code = await last_sms_code(app, phone)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _ in range(5):
            response = await http.post(
                "/v1/auth/sms-login", json={"phone": phone, "code": wrong, "platform": "H5"}
            )
            assert response.status_code == 400
            assert response.json()["code"] == "code_invalid"
        late = await http.post(
            "/v1/auth/sms-login", json={"phone": phone, "code": code, "platform": "H5"}
        )
        assert late.json()["code"] == "code_invalid"

    async def test_a_code_works_once(self, app: FastAPI, http: httpx.AsyncClient) -> None:
        phone = new_phone()
        await http.post("/v1/sms/codes", json={"phone": phone, "purpose": "login"})
        body = {"phone": phone, "code": await last_sms_code(app, phone), "platform": "H5"}
        results = await asyncio.gather(
            *(http.post("/v1/auth/sms-login", json=body) for _ in range(5))
        )
        assert sorted(r.status_code for r in results) == [200, 400, 400, 400, 400]

    async def test_implausible_phone_is_refused_with_the_field(
        self, http: httpx.AsyncClient
    ) -> None:
        response = await http.post("/v1/sms/codes", json={"phone": "12345", "purpose": "login"})
        assert response.status_code == 422
        body = response.json()
        assert body["code"] == "phone_invalid"
        assert body["errors"][0]["field"] == "phone"

    async def test_registration_closed_refuses_new_phones_but_not_known_ones(
        self, make_app: AppFactory
    ) -> None:
        open_app = await make_app()
        phone = new_phone()
        async with client_for(open_app) as http:
            await sms_login(open_app, http, phone)
        closed = await make_app(registration_open=False)
        async with client_for(closed) as http:
            await sms_login(closed, http, phone)  # known: fine
            stranger = new_phone()
            sent = await http.post("/v1/sms/codes", json={"phone": stranger, "purpose": "login"})
            assert sent.status_code == 202  # never says whether the phone is known


class TestSendLimits:
    async def test_resend_too_soon_is_429_with_retry_after(self, make_app: AppFactory) -> None:
        application = await make_app(sms_resend_interval_seconds=60)
        phone = new_phone()
        async with client_for(application) as http:
            first = await http.post("/v1/sms/codes", json={"phone": phone, "purpose": "login"})
            assert first.status_code == 202
            assert first.json() == {"expires_in": 300, "resend_after": 60}
            again = await http.post("/v1/sms/codes", json={"phone": phone, "purpose": "login"})
        assert again.status_code == 429
        assert again.json()["code"] == "sms_rate_limited"
        assert int(again.headers["retry-after"]) > 0

    async def test_daily_cap_per_phone(self, make_app: AppFactory) -> None:
        application = await make_app(sms_resend_interval_seconds=0, sms_daily_limit_per_phone=3)
        phone = new_phone()
        async with client_for(application) as http:
            codes = [
                (await http.post("/v1/sms/codes", json={"phone": phone, "purpose": "login"}))
                for _ in range(5)
            ]
        assert [r.status_code for r in codes] == [202, 202, 202, 429, 429]

    async def test_parallel_sends_do_not_pass_the_cap(self, make_app: AppFactory) -> None:
        application = await make_app(sms_resend_interval_seconds=0, sms_daily_limit_per_phone=3)
        phone = new_phone()
        async with client_for(application) as http:
            results = await asyncio.gather(
                *(
                    http.post("/v1/sms/codes", json={"phone": phone, "purpose": "login"})
                    for _ in range(12)
                )
            )
        assert sorted(r.status_code for r in results) == [202] * 3 + [429] * 9

    async def test_daily_cap_per_address(self, make_app: AppFactory) -> None:
        application = await make_app(sms_daily_limit_per_address=2)
        async with client_for(application) as http:
            statuses = [
                (
                    await http.post(
                        "/v1/sms/codes", json={"phone": new_phone(), "purpose": "login"}
                    )
                ).status_code
                for _ in range(3)
            ]
        assert statuses == [202, 202, 429]

    async def test_captcha_demanded_past_the_address_threshold(self, make_app: AppFactory) -> None:
        application = await make_app(sms_captcha_after_per_address=1)
        captcha = state_of(application).captcha
        captcha.new_answer = lambda: "KXPRT"  # type: ignore[method-assign]
        async with client_for(application) as http:
            first = await http.post(
                "/v1/sms/codes", json={"phone": new_phone(), "purpose": "login"}
            )
            assert first.status_code == 202
            body = {"phone": new_phone(), "purpose": "login"}
            second = await http.post("/v1/sms/codes", json=body)
            assert second.status_code == 403
            assert second.json()["code"] == "captcha_required"
            image = (await http.get("/v1/captcha")).json()
            assert image["image"].startswith("data:image/png;base64,")
            wrong = {**body, "captcha_id": image["captcha_id"], "captcha_answer": "AAAAA"}
            assert (await http.post("/v1/sms/codes", json=wrong)).json()["code"] == (
                "captcha_invalid"
            )
            image = (await http.get("/v1/captcha")).json()
            right = {**body, "captcha_id": image["captcha_id"], "captcha_answer": "kxprt"}
            assert (await http.post("/v1/sms/codes", json=right)).status_code == 202
            replay = await http.post("/v1/sms/codes", json={**right, "phone": new_phone()})
            assert replay.json()["code"] == "captcha_invalid"

    async def test_reset_code_answers_alike_for_known_and_unknown_phones(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        known = new_phone()
        await sms_login(app, http, known)
        answers = []
        for phone in (known, new_phone()):
            async with client_for(app) as client:
                response = await client.post(
                    "/v1/sms/codes", json={"phone": phone, "purpose": "reset_password"}
                )
            answers.append((response.status_code, response.json()))
        assert answers[0] == answers[1]

    async def test_thirty_parallel_sends_in_any_spelling_deliver_one(
        self, make_app: AppFactory
    ) -> None:
        application = await make_app(sms_resend_interval_seconds=60, sms_daily_limit_per_phone=10)
        forms = spellings(new_phone())
        async with client_for(application) as http:
            results = await asyncio.gather(
                *(
                    http.post("/v1/sms/codes", json={"phone": forms[n % 4], "purpose": "login"})
                    for n in range(30)
                )
            )
        assert sorted(r.status_code for r in results) == [202] + [429] * 29
        assert {r.json()["code"] for r in results if r.status_code == 429} == {"sms_rate_limited"}
        await state_of(application).courier.drain()
        assert delivered(application, "sms", "sent") == 1

    async def test_the_interval_holds_across_purposes_until_it_ends(
        self, make_app: AppFactory, moved_clock: MovableClock
    ) -> None:
        application = await make_app(sms_resend_interval_seconds=60)
        phone = new_phone()
        async with client_for(application) as http:
            first = await http.post("/v1/sms/codes", json={"phone": phone, "purpose": "login"})
            assert first.status_code == 202
            body = {"phone": f"+86 {phone}", "purpose": "reset_password"}
            refused = await http.post("/v1/sms/codes", json=body)
            assert (refused.status_code, refused.json()["code"]) == (429, "sms_rate_limited")
            assert 0 < int(refused.headers["retry-after"]) <= 60
            moved_clock.advance(55)
            still = await http.post("/v1/sms/codes", json=body)
            assert (still.status_code, still.json()["code"]) == (429, "sms_rate_limited")
            assert int(still.headers["retry-after"]) <= 5
            moved_clock.advance(6)
            assert (await http.post("/v1/sms/codes", json=body)).status_code == 202


class TestCodeDelivery:
    async def test_answers_do_not_wait_for_the_vendor_and_the_code_still_arrives(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        known = new_phone()
        await set_password(app, http, known, "correct horse 42")
        sender = GatedSmsSender()
        state_of(app).codes.sms = sender
        answers = []
        for phone in (known, new_phone()):
            async with client_for(app) as client:
                # A vendor that never answers must not hold the request.
                response = await asyncio.wait_for(
                    client.post(
                        "/v1/sms/codes", json={"phone": phone, "purpose": "reset_password"}
                    ),
                    timeout=10,
                )
            answers.append((response.status_code, response.json()))
        assert answers[0] == answers[1]
        assert answers[0][0] == 202
        assert sender.sent == {}  # both answered while the vendor was still busy
        sender.gate.set()
        await state_of(app).courier.drain()
        assert list(sender.sent) == [f"+86{known}"]  # the unknown phone gets nothing
        reset = await http.post(
            "/v1/auth/password-reset",
            json={"phone": known, "code": sender.sent[f"+86{known}"], "new_password": "new 7 pw x"},
        )
        assert reset.status_code == 204, reset.text

    async def test_register_codes_go_only_to_unknown_addresses_after_the_answer(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        taken = f"{new_username()}@example.com"
        await http.post("/v1/email/codes", json={"email": taken, "purpose": "register"})
        await register(
            http, new_username(), email=taken, email_code=await last_mail_code(app, taken)
        )
        fresh = f"{new_username()}@example.com"
        answers = []
        for address in (taken, fresh):
            response = await http.post(
                "/v1/email/codes", json={"email": address, "purpose": "register"}
            )
            answers.append((response.status_code, response.json()))
        assert answers[0] == answers[1]
        await state_of(app).courier.drain()
        assert delivered(app, "email", "sent") == 2  # the first registration's and `fresh`'s


class TestPasswordLogin:
    async def test_register_then_log_in_by_username_in_any_case(
        self, http: httpx.AsyncClient
    ) -> None:
        username = new_username()
        registered = await register(http, username)
        assert registered["is_new_user"] is True
        assert registered["user"]["username"] == username
        assert registered["user"]["has_password"] is True
        response = await http.post(
            "/v1/auth/password-login",
            json={"login": username.upper(), "password": "correct horse 42", "platform": "WEB"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["user"]["id"] == registered["user"]["id"]

    async def test_username_taken_case_insensitively(self, http: httpx.AsyncClient) -> None:
        username = new_username()
        await register(http, username)
        again = await http.post(
            "/v1/auth/register",
            json={"username": username.upper(), "password": "another pass 99", "platform": "WEB"},
        )
        assert again.status_code == 409
        assert again.json()["code"] == "identity_taken"
        assert again.json()["errors"][0]["field"] == "username"

    async def test_weak_and_bad_input_is_refused_with_the_field(
        self, http: httpx.AsyncClient
    ) -> None:
        cases = [
            ({"username": new_username(), "password": "short"}, "password_too_weak", "password"),
            (
                {"username": new_username(), "password": "password123"},
                "password_too_weak",
                "password",
            ),
            ({"username": "a b", "password": "correct horse 42"}, "username_invalid", "username"),
            ({"password": "correct horse 42"}, "username_invalid", "username"),
        ]
        for body, code, field in cases:
            response = await http.post("/v1/auth/register", json={**body, "platform": "WEB"})
            assert response.status_code == 422, (body, response.text)
            assert response.json()["code"] == code
            assert response.json()["errors"][0]["field"] == field

    async def test_unknown_account_and_wrong_password_answer_alike(
        self, http: httpx.AsyncClient
    ) -> None:
        username = new_username()
        await register(http, username)
        wrong = await http.post(
            "/v1/auth/password-login",
            json={"login": username, "password": "not it at all", "platform": "WEB"},
        )
        unknown = await http.post(
            "/v1/auth/password-login",
            json={"login": new_username(), "password": "not it at all", "platform": "WEB"},
        )
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json().keys() == unknown.json().keys()
        assert {k: v for k, v in wrong.json().items() if k != "request_id"} == {
            k: v for k, v in unknown.json().items() if k != "request_id"
        }

    async def test_register_by_email_with_a_code(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        address = f"Zhang.{new_username()}@Example.com"
        sent = await http.post("/v1/email/codes", json={"email": address, "purpose": "register"})
        assert sent.status_code == 202
        code = await last_mail_code(app, address)
        response = await http.post(
            "/v1/auth/register",
            json={
                "email": address,
                "email_code": code,
                "password": "correct horse 42",
                "platform": "WEB",
            },
        )
        assert response.status_code == 201, response.text
        assert response.json()["user"]["email"] == "z***@example.com"
        login = await http.post(
            "/v1/auth/password-login",
            json={"login": address.lower(), "password": "correct horse 42", "platform": "WEB"},
        )
        assert login.status_code == 200


class TestLockout:
    async def test_five_failures_lock_the_password_method(self, http: httpx.AsyncClient) -> None:
        username = new_username()
        await register(http, username)
        body = {"login": username, "password": "wrong password", "platform": "WEB"}
        statuses = [
            (await http.post("/v1/auth/password-login", json=body)).status_code for _ in range(5)
        ]
        assert statuses == [401, 401, 401, 401, 423]
        right = {**body, "password": "correct horse 42"}
        locked = await http.post("/v1/auth/password-login", json=right)
        assert locked.status_code == 423
        assert locked.json()["code"] == "account_locked"
        assert int(locked.headers["retry-after"]) > 800

    async def test_twenty_parallel_guesses_check_at_most_five_passwords(
        self, app: FastAPI, http: httpx.AsyncClient, db: Database
    ) -> None:
        username = new_username()
        user_id = int((await register(http, username))["user"]["id"])
        body = {"login": username, "password": "wrong password", "platform": "WEB"}
        results = await asyncio.gather(
            *(http.post("/v1/auth/password-login", json=body) for _ in range(20))
        )
        assert all(r.status_code in (401, 423) for r in results)
        async with db.read_session() as session:
            reasons = list(
                await session.scalars(
                    select(AuthEvent.reason).where(
                        AuthEvent.user_id == user_id, AuthEvent.kind == "login_failed"
                    )
                )
            )
        assert reasons.count("wrong_password") == 5
        assert reasons.count("locked") == 15

    async def test_lock_does_not_block_sms_login_to_the_bound_phone(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        phone = new_phone()
        tokens = await sms_login(app, http, phone)
        await http.post("/v1/sms/codes", json={"phone": phone, "purpose": "reset_password"})
        await http.put(
            "/v1/me/password",
            json={"new_password": "correct horse 42", "sms_code": await last_sms_code(app, phone)},
            headers=bearer(tokens),
        )
        body = {"login": phone, "password": "wrong password", "platform": "WEB"}
        for _ in range(6):
            await http.post("/v1/auth/password-login", json=body)
        locked = await http.post(
            "/v1/auth/password-login", json={**body, "password": "correct horse 42"}
        )
        assert locked.status_code == 423
        async with client_for(app) as other:
            again = await sms_login(app, other, phone)
        assert again["user"]["id"] == tokens["user"]["id"]

    async def test_captcha_demanded_after_many_failures_from_one_address(
        self, make_app: AppFactory
    ) -> None:
        application = await make_app(login_captcha_after_address_failures=3)
        async with client_for(application) as http:
            for _ in range(3):
                response = await http.post(
                    "/v1/auth/password-login",
                    json={"login": new_username(), "password": "whatever 123", "platform": "WEB"},
                )
                assert response.status_code == 401
            gated = await http.post(
                "/v1/auth/password-login",
                json={"login": new_username(), "password": "whatever 123", "platform": "WEB"},
            )
        assert gated.status_code == 403
        assert gated.json()["code"] == "captcha_required"

    async def test_a_registered_and_an_unregistered_phone_lock_alike_in_every_spelling(
        self, app: FastAPI
    ) -> None:
        registered, unregistered = new_phone(), new_phone()
        async with client_for(app) as http:
            await set_password(app, http, registered, "correct horse 42")
        answers = {}
        for phone in (registered, unregistered):
            async with client_for(app) as http:
                body = {"login": f"+86{phone}", "password": "wrong password", "platform": "WEB"}
                statuses = [
                    (await http.post("/v1/auth/password-login", json=body)).status_code
                    for _ in range(5)
                ]
                respelled = {**body, "login": f"{phone[:3]} {phone[3:7]} {phone[7:]}"}
                after = await http.post("/v1/auth/password-login", json=respelled)
            answers[phone] = (statuses, after.status_code, after.json()["code"])
        assert answers[registered] == answers[unregistered]
        assert answers[registered] == ([401, 401, 401, 401, 423], 423, "account_locked")

    async def test_an_email_locks_in_any_case(self, app: FastAPI, http: httpx.AsyncClient) -> None:
        address = f"{new_username()}@Example.com"
        body = {"login": address, "password": "wrong password", "platform": "WEB"}
        for _ in range(5):
            await http.post("/v1/auth/password-login", json=body)
        upper = await http.post("/v1/auth/password-login", json={**body, "login": address.upper()})
        assert (upper.status_code, upper.json()["code"]) == (423, "account_locked")

    async def test_a_password_reset_lifts_the_lock_in_every_spelling(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        phone = new_phone()
        await set_password(app, http, phone, "correct horse 42")
        body = {"login": phone, "password": "wrong password", "platform": "WEB"}
        for _ in range(5):
            await http.post("/v1/auth/password-login", json=body)
        await http.post("/v1/sms/codes", json={"phone": phone, "purpose": "reset_password"})
        reset = await http.post(
            "/v1/auth/password-reset",
            json={
                "phone": phone,
                "code": await last_sms_code(app, phone),
                "new_password": "brand new secret 7",
            },
        )
        assert reset.status_code == 204, reset.text
        login = {**body, "login": f"+86 {phone}", "password": "brand new secret 7"}
        assert (await http.post("/v1/auth/password-login", json=login)).status_code == 200

    async def test_a_flood_of_cache_entries_does_not_lift_a_lock(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        username = new_username()
        await register(http, username)
        body = {"login": username, "password": "wrong password", "platform": "WEB"}
        for _ in range(5):
            await http.post("/v1/auth/password-login", json=body)
        cache = state_of(app).cache
        if not isinstance(cache, MemoryCache):
            pytest.skip("Redis evicts by its own maxmemory policy (see the README)")
        for n in range(cache._max_entries + 10):
            await cache.set(f"flood:{n}", "x")  # what unauthenticated traffic leaves behind
        assert len(cache._data) <= cache._max_entries
        right = {**body, "password": "correct horse 42"}
        locked = await http.post("/v1/auth/password-login", json=right)
        assert (locked.status_code, locked.json()["code"]) == (423, "account_locked")

    async def test_the_unlock_time_reads_as_china_time(
        self, app: FastAPI, http: httpx.AsyncClient, moved_clock: MovableClock
    ) -> None:
        # 2026-11-27 16:29:30 UTC; the lock (15 minutes) ends at 00:44:30 China time.
        moved_clock.offset = datetime(2026, 11, 27, 16, 29, 30, tzinfo=UTC) - clock._system_now()
        username = new_username()
        body = {"login": username, "password": "wrong password", "platform": "WEB"}
        for _ in range(4):
            await http.post("/v1/auth/password-login", json=body)
        zh = await http.post("/v1/auth/password-login", json=body)
        assert zh.status_code == 423
        assert "请于北京时间 2026年11月28日 00:45后再试" in zh.json()["detail"]
        en = await http.post(
            "/v1/auth/password-login", json=body, headers={"Accept-Language": "en"}
        )
        assert "try again after 28 Nov 2026, 00:45 China time (UTC+8)" in en.json()["detail"]
        assert "T" not in en.json()["detail"].split("after", 1)[1].split(",")[0]


class TestPasswords:
    async def test_change_needs_the_old_password_and_ends_other_sessions(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        username = new_username()
        first = await register(http, username)
        second = (
            await http.post(
                "/v1/auth/password-login",
                json={"login": username, "password": "correct horse 42", "platform": "APP"},
            )
        ).json()
        missing = await http.put(
            "/v1/me/password", json={"new_password": "brand new secret 7"}, headers=bearer(first)
        )
        assert missing.status_code == 422
        assert missing.json()["code"] == "password_required"
        wrong = await http.put(
            "/v1/me/password",
            json={"new_password": "brand new secret 7", "old_password": "nope nope nope"},
            headers=bearer(first),
        )
        assert wrong.status_code == 401
        changed = await http.put(
            "/v1/me/password",
            json={"new_password": "brand new secret 7", "old_password": "correct horse 42"},
            headers=bearer(first),
        )
        assert changed.status_code == 204
        assert (await http.get("/v1/me", headers=bearer(first))).status_code == 200
        ended = await http.get("/v1/me", headers=bearer(second))
        assert ended.status_code == 401
        assert ended.json()["code"] == "session_revoked"
        refreshed = await http.post(
            "/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
        )
        assert refreshed.status_code == 401

    async def test_reset_by_sms_code_ends_every_session(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        phone = new_phone()
        tokens = await sms_login(app, http, phone)
        await http.post("/v1/sms/codes", json={"phone": phone, "purpose": "reset_password"})
        reset = await http.post(
            "/v1/auth/password-reset",
            json={
                "phone": phone,
                "code": await last_sms_code(app, phone),
                "new_password": "brand new secret 7",
            },
        )
        assert reset.status_code == 204, reset.text
        assert (await http.get("/v1/me", headers=bearer(tokens))).status_code == 401
        login = await http.post(
            "/v1/auth/password-login",
            json={"login": phone, "password": "brand new secret 7", "platform": "WEB"},
        )
        assert login.status_code == 200


class TestProfile:
    async def test_patch_changes_only_the_fields_sent(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        tokens = await sms_login(app, http, new_phone())
        assert (await http.get("/v1/me", headers=bearer(tokens))).json()["nickname"] is None
        changed = await http.patch(
            "/v1/me", json={"nickname": "小明", "gender": 1}, headers=bearer(tokens)
        )
        assert changed.status_code == 200
        again = await http.patch("/v1/me", json={"birthday": "1990-03-07"}, headers=bearer(tokens))
        body = again.json()
        assert (body["nickname"], body["gender"], body["birthday"]) == ("小明", 1, "1990-03-07")
        # GET /v1/me is served from a cached view: the change must show there at once too.
        shown = (await http.get("/v1/me", headers=bearer(tokens))).json()
        assert (shown["nickname"], shown["birthday"]) == ("小明", "1990-03-07")
        bad = await http.patch("/v1/me", json={"gender": 7}, headers=bearer(tokens))
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "gender"

    async def test_a_busy_process_shows_a_change_made_in_another(
        self, make_app: AppFactory, request: pytest.FixtureRequest, moved_clock: MovableClock
    ) -> None:
        if request.node.callspec.params["make_app"] != "redis":
            pytest.skip("processes share cached views through Redis")
        here, there = await make_app(), await make_app()
        async with client_for(here) as http_here, client_for(there) as http_there:
            tokens = await register(http_here, new_username())
            assert (await http_there.get("/v1/me", headers=bearer(tokens))).status_code == 200
            changed = await http_here.patch(
                "/v1/me", json={"nickname": "小红"}, headers=bearer(tokens)
            )
            assert changed.status_code == 200
            # The other process may show its memo of the view until that expires, no longer.
            moved_clock.advance(LOCAL_MEMO_SECONDS)
            shown = (await http_there.get("/v1/me", headers=bearer(tokens))).json()
            assert shown["nickname"] == "小红"

    async def test_login_history_is_paginated_newest_first(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        phone = new_phone()
        tokens = await sms_login(app, http, phone)
        for _ in range(3):
            async with client_for(app) as other:
                tokens = await sms_login(app, other, phone)
        page = await http.get("/v1/me/login-history?limit=3", headers=bearer(tokens))
        assert page.status_code == 200
        first = page.json()
        assert [item["kind"] for item in first["items"]] == ["login", "login", "login"]
        rest = await http.get(
            f"/v1/me/login-history?limit=3&cursor={first['next_cursor']}", headers=bearer(tokens)
        )
        kinds = [item["kind"] for item in rest.json()["items"]]
        assert kinds == ["login", "register"]
        assert rest.json()["next_cursor"] is None
        bad = await http.get("/v1/me/login-history?cursor=garbage", headers=bearer(tokens))
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "cursor"


class TestPasswordHashing:
    async def test_hash_is_upgraded_at_login_when_parameters_change(
        self, make_app: AppFactory, db: Database
    ) -> None:
        weak = await make_app(password_memory_kib=8192, password_time_cost=1)
        username = new_username()
        async with client_for(weak) as http:
            user_id = int((await register(http, username))["user"]["id"])
        stronger = await make_app(password_memory_kib=9216, password_time_cost=2)
        async with client_for(stronger) as http:
            login = await http.post(
                "/v1/auth/password-login",
                json={"login": username, "password": "correct horse 42", "platform": "WEB"},
            )
        assert login.status_code == 200
        async with db.read_session() as session:
            stored = await session.scalar(
                select(Credential.password_hash).where(Credential.user_id == user_id)
            )
        assert stored is not None
        assert stored.startswith("$argon2id$v=19$m=9216,t=2,p=1$")

    async def test_reset_by_email_code(self, app: FastAPI, http: httpx.AsyncClient) -> None:
        address = f"wang.{new_username()}@example.net"
        await http.post("/v1/email/codes", json={"email": address, "purpose": "register"})
        await http.post(
            "/v1/auth/register",
            json={
                "email": address,
                "email_code": await last_mail_code(app, address),
                "password": "correct horse 42",
            },
        )
        await http.post("/v1/email/codes", json={"email": address, "purpose": "reset_password"})
        reset = await http.post(
            "/v1/auth/password-reset",
            json={
                "email": address,
                "code": await last_mail_code(app, address),
                "new_password": "brand new secret 7",
            },
        )
        assert reset.status_code == 204, reset.text
        login = await http.post(
            "/v1/auth/password-login",
            json={"login": address, "password": "brand new secret 7", "platform": "WEB"},
        )
        assert login.status_code == 200
