"""The payment password as a user meets it, on each database: set with an SMS code, trivial
ones refused, changed and reset, five wrong tries in a row lock it for a day — counted in the
database, also under 20 parallel tries — and its value nowhere but in an argon2id hash."""

from __future__ import annotations

import asyncio
import json
from datetime import date

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.conftest import MovableClock, log_lines
from tests.identity.conftest import last_sms_code
from tests.profile.payment_helpers import (
    OTHER_PASSWORD,
    PAYMENT_PASSWORD,
    WRONG_PASSWORD,
    Payer,
    log_in_payer,
    payment_code,
    set_payment_password,
    ticket_for,
)
from tests.wallet.test_api import application, assert_problem, http  # noqa: F401
from usercenter.audit.models import ProfileChange
from usercenter.events.models import OutboxEvent as EventRow
from usercenter.kit.client import ClientInfo
from usercenter.profile.errors import PaymentPasswordAlreadySet, PaymentPasswordLocked
from usercenter.profile.models import PaymentPassword
from usercenter.profile.service.verification_views import VerifiedIdentity
from usercenter.security.masking import masked_copy

VERIFY = "/v1/me/payment-password/verify"


@pytest.fixture
async def payer(application: FastAPI) -> Payer:  # noqa: F811
    return await log_in_payer(application)


class FakeVerification:
    """An approved ID-card verification of every user (what real-name verification will
    answer through `verified_identity`)."""

    def __init__(self, birth_date: date, last_six: str) -> None:
        self.identity = VerifiedIdentity(birth_date=birth_date, number_last_six=last_six)

    async def verified_identity(self, session: object, user_id: int) -> VerifiedIdentity:
        return self.identity


async def status_of(http: httpx.AsyncClient, payer: Payer) -> dict[str, object]:  # noqa: F811
    response = await http.get("/v1/me/payment-password", headers=payer.headers)
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


async def try_password(
    http: httpx.AsyncClient,  # noqa: F811
    payer: Payer,
    password: str,
) -> httpx.Response:
    return await http.post(
        VERIFY,
        json={"password": password, "action": "wallet.payout_account"},
        headers=payer.headers,
    )


class TestSetPaymentPassword:
    async def test_is_set_with_a_valid_sms_code(
        self,
        application: FastAPI,  # noqa: F811
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
    ) -> None:
        assert await status_of(http, payer) == {"set": False, "locked_until": None}

        await set_payment_password(application, http, payer)

        assert await status_of(http, payer) == {"set": True, "locked_until": None}
        assert await ticket_for(http, payer, "wallet.payout_account")

    async def test_a_wrong_or_missing_sms_code_is_refused(
        self,
        application: FastAPI,  # noqa: F811
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
    ) -> None:
        code = await payment_code(application, http, payer)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"

        refused = await http.put(
            "/v1/me/payment-password",
            json={"password": PAYMENT_PASSWORD, "sms_code": wrong},
            headers=payer.headers,
        )
        missing = await http.put(
            "/v1/me/payment-password", json={"password": PAYMENT_PASSWORD}, headers=payer.headers
        )

        assert_problem(refused, 400, "code_invalid", field="sms_code")
        assert_problem(missing, 400, "code_invalid", field="sms_code")
        assert (await status_of(http, payer))["set"] is False

    async def test_a_code_of_another_purpose_is_refused(
        self,
        application: FastAPI,  # noqa: F811
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
    ) -> None:
        await http.post("/v1/sms/codes", json={"phone": payer.phone, "purpose": "bind"})
        code = await last_sms_code(application, payer.phone)

        response = await http.put(
            "/v1/me/payment-password",
            json={"password": PAYMENT_PASSWORD, "sms_code": code},
            headers=payer.headers,
        )

        assert_problem(response, 400, "code_invalid", field="sms_code")

    @pytest.mark.parametrize(
        "password", ["111111", "000000", "123456", "654321", "012345", "987654", "890123"]
    )
    async def test_trivial_passwords_are_refused(
        self,
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
        password: str,
    ) -> None:
        response = await http.put(
            "/v1/me/payment-password",
            json={"password": password, "sms_code": "000000"},
            headers=payer.headers,
        )

        assert_problem(response, 422, "payment_password_too_simple", field="password")
        assert (await status_of(http, payer))["set"] is False

    @pytest.mark.parametrize("password", ["12345", "1234567", "12a456", "１２９４０１", " 72940"])
    async def test_anything_but_six_digits_is_refused(
        self,
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
        password: str,
    ) -> None:
        response = await http.put(
            "/v1/me/payment-password",
            json={"password": password, "sms_code": "000000"},
            headers=payer.headers,
        )

        assert_problem(response, 422, "payment_password_invalid", field="password")

    @pytest.mark.parametrize("password", ["900307", "030790", "070390"])
    async def test_the_birthday_of_the_profile_is_refused(
        self,
        application: FastAPI,  # noqa: F811
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
        password: str,
    ) -> None:
        changed = await http.patch("/v1/me", json={"birthday": "1990-03-07"}, headers=payer.headers)
        assert changed.status_code == 200, changed.text
        code = await payment_code(application, http, payer)

        response = await http.put(
            "/v1/me/payment-password",
            json={"password": password, "sms_code": code},
            headers=payer.headers,
        )

        assert_problem(response, 422, "payment_password_too_simple", field="password")

    @pytest.mark.parametrize("password", ["851122", "112285", "221185"])
    async def test_the_birth_date_of_a_verified_id_card_is_refused(
        self,
        application: FastAPI,  # noqa: F811
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
        password: str,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        services = application.state.services
        verification = FakeVerification(date(1985, 11, 22), "221234")
        monkeypatch.setattr(services.payment_passwords, "identities", verification)

        response = await http.put(
            "/v1/me/payment-password",
            json={"password": password, "sms_code": "000000"},
            headers=payer.headers,
        )

        assert_problem(response, 422, "payment_password_too_simple", field="password")

    async def test_a_second_set_is_refused(
        self,
        application: FastAPI,  # noqa: F811
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
    ) -> None:
        await set_payment_password(application, http, payer)
        code = await payment_code(application, http, payer)

        response = await http.put(
            "/v1/me/payment-password",
            json={"password": OTHER_PASSWORD, "sms_code": code},
            headers=payer.headers,
        )

        assert_problem(response, 409, "payment_password_already_set")
        assert await ticket_for(http, payer, "wallet.payout_account")

    async def test_of_two_parallel_first_sets_one_wins(
        self,
        application: FastAPI,  # noqa: F811
        payer: Payer,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        services = application.state.services
        passwords = services.payment_passwords

        async def code_checked(*args: object) -> None:
            return None

        monkeypatch.setattr(passwords, "_check_sms_code", code_checked)

        async def set_one(password: str) -> str:
            try:
                async with services.database.unit_of_work() as session:
                    await passwords.set_payment_password(
                        session,
                        user_id=payer.id,
                        password=password,
                        sms_code="000000",
                        client=ClientInfo(),
                    )
            except PaymentPasswordAlreadySet as refused:
                return refused.code
            return "set"

        outcomes = await asyncio.gather(set_one(PAYMENT_PASSWORD), set_one(OTHER_PASSWORD))

        assert sorted(outcomes) == ["payment_password_already_set", "set"]
        async with services.database.read_session() as session:
            changes = (
                await session.scalars(
                    select(ProfileChange).where(ProfileChange.attribute == "payment_password")
                )
            ).all()
        assert len(changes) == 1


class TestChangeAndReset:
    async def test_a_change_needs_the_old_password(
        self,
        application: FastAPI,  # noqa: F811
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
    ) -> None:
        await set_payment_password(application, http, payer)

        wrong = await http.put(
            "/v1/me/payment-password",
            json={"old_password": WRONG_PASSWORD, "password": OTHER_PASSWORD},
            headers=payer.headers,
        )
        right = await http.put(
            "/v1/me/payment-password",
            json={"old_password": PAYMENT_PASSWORD, "password": OTHER_PASSWORD},
            headers=payer.headers,
        )

        assert_problem(wrong, 403, "payment_password_wrong", field="old_password")
        assert right.status_code == 204, right.text
        old = await try_password(http, payer, PAYMENT_PASSWORD)
        assert_problem(old, 403, "payment_password_wrong")
        assert await ticket_for(http, payer, "wallet.payout_account", password=OTHER_PASSWORD)

    async def test_a_reset_with_an_sms_code_lifts_the_lock(
        self,
        application: FastAPI,  # noqa: F811
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
    ) -> None:
        await set_payment_password(application, http, payer)
        for _ in range(5):
            await try_password(http, payer, WRONG_PASSWORD)
        assert (await status_of(http, payer))["locked_until"] is not None
        code = await payment_code(application, http, payer)

        response = await http.post(
            "/v1/me/payment-password/reset",
            json={"password": OTHER_PASSWORD, "sms_code": code},
            headers=payer.headers,
        )

        assert response.status_code == 204, response.text
        assert await status_of(http, payer) == {"set": True, "locked_until": None}
        assert await ticket_for(http, payer, "wallet.payout_account", password=OTHER_PASSWORD)

    async def test_a_verified_user_resets_with_the_id_numbers_last_six(
        self,
        application: FastAPI,  # noqa: F811
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        await set_payment_password(application, http, payer)
        services = application.state.services
        monkeypatch.setattr(
            services.payment_passwords, "identities", FakeVerification(date(1985, 11, 22), "22123X")
        )
        code = await payment_code(application, http, payer)

        without = await http.post(
            "/v1/me/payment-password/reset",
            json={"password": OTHER_PASSWORD, "sms_code": code},
            headers=payer.headers,
        )
        wrong = await http.post(
            "/v1/me/payment-password/reset",
            json={"password": OTHER_PASSWORD, "sms_code": code, "id_number_last_six": "221234"},
            headers=payer.headers,
        )
        right = await http.post(
            "/v1/me/payment-password/reset",
            json={"password": OTHER_PASSWORD, "sms_code": code, "id_number_last_six": "22123x"},
            headers=payer.headers,
        )

        assert_problem(without, 403, "id_number_mismatch", field="id_number_last_six")
        assert_problem(wrong, 403, "id_number_mismatch", field="id_number_last_six")
        assert right.status_code == 204, right.text
        assert await ticket_for(http, payer, "wallet.payout_account", password=OTHER_PASSWORD)


class TestLockout:
    async def test_20_parallel_wrong_tries_lock_after_exactly_5(
        self,
        application: FastAPI,  # noqa: F811
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
    ) -> None:
        await set_payment_password(application, http, payer)

        answers = await asyncio.gather(
            *(try_password(http, payer, WRONG_PASSWORD) for _ in range(20))
        )

        codes = sorted(answer.json()["code"] for answer in answers)
        # Four tries answered "wrong", the fifth locked it, the other fifteen found it locked.
        assert codes == ["payment_password_locked"] * 16 + ["payment_password_wrong"] * 4
        assert {a.status_code for a in answers} == {403, 423}
        async with application.state.services.database.read_session() as session:
            row = await session.get(PaymentPassword, payer.id)
        assert row is not None
        assert row.failed_count == 5
        assert row.locked_until is not None
        right = await try_password(http, payer, PAYMENT_PASSWORD)
        assert_problem(right, 423, "payment_password_locked")
        assert "Retry-After" in right.headers

    async def test_a_right_password_starts_the_count_again(
        self,
        application: FastAPI,  # noqa: F811
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
    ) -> None:
        await set_payment_password(application, http, payer)
        for _ in range(4):
            await try_password(http, payer, WRONG_PASSWORD)
        assert (await try_password(http, payer, PAYMENT_PASSWORD)).status_code == 200

        answers = [await try_password(http, payer, WRONG_PASSWORD) for _ in range(4)]

        assert [a.json()["code"] for a in answers] == ["payment_password_wrong"] * 4
        assert (await status_of(http, payer))["locked_until"] is None

    async def test_it_unlocks_after_24_hours(
        self,
        application: FastAPI,  # noqa: F811
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
        moved_clock: MovableClock,
    ) -> None:
        await set_payment_password(application, http, payer)
        for _ in range(5):
            await try_password(http, payer, WRONG_PASSWORD)
        services = application.state.services
        tickets = services.payment_tickets

        async def issue() -> object:
            async with services.database.unit_of_work() as session:
                return await tickets.issue_ticket(
                    session,
                    user_id=payer.id,
                    password=PAYMENT_PASSWORD,
                    action="wallet.payout_account",
                )

        moved_clock.advance(24 * 3600 - 60)
        with pytest.raises(PaymentPasswordLocked):
            await issue()
        moved_clock.advance(61)

        assert await issue() is not None
        async with services.database.read_session() as session:
            row = await session.get(PaymentPassword, payer.id)
        assert row is not None
        assert row.failed_count == 0
        assert row.locked_until is None


class TestSecrecy:
    async def test_the_value_is_in_no_answer_log_event_or_change_log(
        self,
        application: FastAPI,  # noqa: F811
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
        captured: object,
    ) -> None:
        answers = []
        code = await payment_code(application, http, payer)
        answers.append(
            await http.put(
                "/v1/me/payment-password",
                json={"password": PAYMENT_PASSWORD, "sms_code": code},
                headers=payer.headers,
            )
        )
        answers.append(await try_password(http, payer, WRONG_PASSWORD))
        answers.append(
            await http.put(
                "/v1/me/payment-password",
                json={"old_password": PAYMENT_PASSWORD, "password": OTHER_PASSWORD},
                headers=payer.headers,
            )
        )
        answers.append(await try_password(http, payer, OTHER_PASSWORD))
        code = await payment_code(application, http, payer)
        answers.append(
            await http.post(
                "/v1/me/payment-password/reset",
                json={"password": PAYMENT_PASSWORD, "sms_code": code},
                headers=payer.headers,
            )
        )

        secrets = (PAYMENT_PASSWORD, OTHER_PASSWORD, WRONG_PASSWORD)
        for answer in answers:
            assert not any(s in answer.text for s in secrets), answer.text
        logged = captured.getvalue()  # type: ignore[attr-defined]
        assert log_lines(captured)  # type: ignore[arg-type]
        assert not any(s in logged for s in secrets)
        async with application.state.services.database.read_session() as session:
            events = (
                await session.scalars(
                    select(EventRow).where(EventRow.type == "usercenter.payment_password.changed")
                )
            ).all()
            changes = (
                await session.scalars(
                    select(ProfileChange).where(
                        ProfileChange.user_id == payer.id,
                        ProfileChange.attribute == "payment_password",
                    )
                )
            ).all()
            stored = await session.get(PaymentPassword, payer.id)
        assert [e.data["how"] for e in events] == ["set", "changed", "reset"]
        assert all(e.data["user_id"] == payer.id for e in events)
        assert not any(s in json.dumps([e.data for e in events]) for s in secrets)
        assert [c.new_value for c in changes] == ["changed"] * 3
        assert not any(s in str((c.old_value, c.new_value)) for c in changes for s in secrets)
        assert stored is not None
        assert stored.password_hash.startswith("$argon2id$")


class TestMaskedCopy:
    def test_the_admin_log_keeps_no_payment_password_code_or_ticket(self) -> None:
        request = {
            "password": PAYMENT_PASSWORD,
            "old_password": OTHER_PASSWORD,
            "sms_code": "123456",
            "payment_ticket": "abc",
            "action": "wallet.transfer",
        }

        masked = masked_copy(request)

        assert masked == {
            "password": "***",
            "old_password": "***",
            "sms_code": "***",
            "payment_ticket": "***",
            "action": "wallet.transfer",
        }
