"""The wallet as its clients see it over HTTP: the user's own routes with an access token, the
business's routes with a service's Basic credentials, the staff's routes with a staff token
holding the route's permission (and written to the admin log), on each database."""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.access.conftest import make_staff, staff_token
from tests.factories.platform import basic_auth
from tests.identity.conftest import DEFAULTS as LOGIN_DEFAULTS
from tests.identity.conftest import bearer, client_for, new_phone, sms_login
from tests.wallet.conftest import make_user, started, state_of
from usercenter.wallet import repository

SERVICE = basic_auth("orders:s3cret")
# A card with a valid Luhn digit, one with a wrong one, and an ID card with its check digit.
CARD = "6222020000031234"
CARD_BAD_LUHN = "6222020000031235"
ID_CARD = "440101199001031234"
ID_CARD_BAD_CHECK = "440101199001041234"

_numbers = itertools.count(1)


def unique(prefix: str) -> str:
    """An identifier (payment id, order number, idempotency key) no other call in the run
    uses."""
    return f"{prefix}-{next(_numbers)}"


def keyed(key: str, headers: dict[str, str] | None = None) -> dict[str, str]:
    return {**(headers or SERVICE), "Idempotency-Key": key}


@dataclass(frozen=True)
class Person:
    id: int
    headers: dict[str, str]


@dataclass(frozen=True)
class Staff:
    """A staff account holding some seeded roles, logged in over HTTP."""

    id: int
    username: str
    headers: dict[str, str]


@pytest.fixture
async def application(database_url: str, db: object) -> AsyncIterator[FastAPI]:
    """A started app on a fresh test database that lets people log in by SMS as often as the
    tests need; its ledger must reconcile when the test ends."""
    async for started_app in started(
        database_url, service_clients="orders:s3cret", **LOGIN_DEFAULTS
    ):
        yield started_app
        report = await state_of(started_app).wallet.reconcile()
        assert report.is_clean, report.differences


@pytest.fixture
async def http(application: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(application) as client:
        yield client


async def log_in(application: FastAPI) -> Person:
    """A new user, logged in by SMS over HTTP."""
    async with client_for(application) as client:
        tokens = await sms_login(application, client, new_phone())
    return Person(int(tokens["user"]["id"]), bearer(tokens))


@pytest.fixture
async def alice(application: FastAPI) -> Person:
    return await log_in(application)


@pytest.fixture
async def bob(application: FastAPI) -> Person:
    return await log_in(application)


async def staff_member(application: FastAPI, *roles: str) -> Staff:
    """A new staff account holding `roles`, logged in with its password over HTTP."""
    staff_id, username = await make_staff(application, *roles)
    async with client_for(application) as client:
        headers = await staff_token(client, username)
    return Staff(staff_id, username, headers)


@pytest.fixture
async def finance(application: FastAPI) -> Staff:
    return await staff_member(application, "finance")


@pytest.fixture
async def second_finance(application: FastAPI) -> Staff:
    """Another member of finance: the second person of the two-person rule."""
    return await staff_member(application, "finance")


@pytest.fixture
async def operator(application: FastAPI) -> Staff:
    return await staff_member(application, "operator")


@pytest.fixture
async def customer_service(application: FastAPI) -> Staff:
    """Holds wallet:view only of the wallet's permissions."""
    return await staff_member(application, "customer_service")


async def recharge(
    http: httpx.AsyncClient, user_id: int, amount: str | int, asset: str = "CNY"
) -> dict[str, Any]:
    body = {
        "user_id": user_id,
        "asset": asset,
        "amount": amount,
        "channel": "wechatpay",
        "payment_id": unique("wx"),
    }
    response = await http.post("/v1/wallet/recharges", json=body, headers=SERVICE)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def grant(
    http: httpx.AsyncClient, user_id: int, asset: str, kind: str, amount: str | int
) -> dict[str, Any]:
    body = {"user_id": user_id, "asset": asset, "kind": kind, "amount": amount}
    response = await http.post("/v1/wallet/grants", json=body, headers=keyed(unique("grant")))
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def debit(
    http: httpx.AsyncClient, user_id: int, amount: str | int, asset: str = "CNY"
) -> dict[str, Any]:
    body = {
        "user_id": user_id,
        "asset": asset,
        "amount": amount,
        "business_type": "ORDER",
        "business_id": unique("order"),
    }
    response = await http.post("/v1/wallet/debits", json=body, headers=SERVICE)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def wallet_of(http: httpx.AsyncClient, person: Person) -> dict[str, Any]:
    response = await http.get("/v1/me/wallet", headers=person.headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def balance(http: httpx.AsyncClient, person: Person, asset: str) -> dict[str, str]:
    """{balance, frozen, available} of the person's `asset`, as the API shows them."""
    for shown in (await wallet_of(http, person))["balances"]:
        if shown["asset"] == asset:
            return {k: shown[k] for k in ("balance", "frozen", "available")}
    raise AssertionError(f"no {asset} in the wallet")


def assert_problem(
    response: httpx.Response, status: int, code: str, field: str | None = None
) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status and code (and names `field`)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["code"] == code, problem
    assert problem["status"] == status
    if field is not None:
        assert field in [error["field"] for error in problem.get("errors", [])], problem
    return problem


# --- the user's own -----------------------------------------------------------------------


class TestMyWallet:
    async def test_shows_money_with_two_places_and_coins_as_whole_numbers(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "12.3")
        await recharge(http, alice.id, 1500, asset="COIN_RECHARGE")

        shown = {b["asset"]: b for b in (await wallet_of(http, alice))["balances"]}

        assert set(shown) == {"CNY", "COIN_RECHARGE", "COIN_GIVE", "COIN_REWARD", "POINTS"}
        assert shown["CNY"]["balance"] == "12.30"
        assert shown["COIN_RECHARGE"]["balance"] == "1500"
        assert shown["COIN_GIVE"] == {
            "asset": "COIN_GIVE",
            "balance": "0",
            "frozen": "0",
            "available": "0",
        }

    async def test_a_hold_is_frozen_and_not_available(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "12.30")
        held = await http.post(
            "/v1/wallet/holds",
            json={"user_id": alice.id, "asset": "CNY", "amount": "5.00"},
            headers=keyed(unique("hold")),
        )
        assert held.status_code == 200, held.text

        assert await balance(http, alice, "CNY") == {
            "balance": "12.30",
            "frozen": "5.00",
            "available": "7.30",
        }

    async def test_needs_an_access_token(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/v1/me/wallet")

        assert_problem(response, 401, "token_missing")

    async def test_a_service_credential_is_not_an_access_token(
        self, http: httpx.AsyncClient
    ) -> None:
        response = await http.get("/v1/me/wallet", headers=SERVICE)

        assert_problem(response, 401, "token_missing")


class TestMyEntries:
    async def test_newest_first_with_signed_amounts_and_running_balances(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        credited = await recharge(http, alice.id, "10.00")
        debited = await debit(http, alice.id, "3.50")

        response = await http.get("/v1/me/wallet/entries", headers=alice.headers)

        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert [(e["transfer_id"], e["kind"], e["amount"]) for e in items] == [
            (debited["transfer_id"], "CONSUME", "-3.50"),
            (credited["transfer_id"], "RECHARGE", "10.00"),
        ]
        assert (items[0]["balance_before"], items[0]["balance_after"]) == ("10.00", "6.50")
        assert (items[1]["balance_before"], items[1]["balance_after"]) == ("0.00", "10.00")

    async def test_pages_through_every_entry_once_with_the_cursor(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        made = [(await recharge(http, alice.id, f"{n}.00"))["transfer_id"] for n in range(1, 6)]

        seen: list[str] = []
        pages = 0
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            response = await http.get("/v1/me/wallet/entries", params=params, headers=alice.headers)
            assert response.status_code == 200, response.text
            page = response.json()
            assert len(page["items"]) <= 2
            seen += [e["transfer_id"] for e in page["items"]]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break

        assert pages == 3
        assert seen == list(reversed(made))

    async def test_filters_by_asset(self, http: httpx.AsyncClient, alice: Person) -> None:
        await recharge(http, alice.id, "10.00")
        coins = await recharge(http, alice.id, 300, asset="COIN_RECHARGE")

        response = await http.get(
            "/v1/me/wallet/entries", params={"asset": "COIN_RECHARGE"}, headers=alice.headers
        )

        assert response.status_code == 200, response.text
        assert [(e["transfer_id"], e["asset"], e["amount"]) for e in response.json()["items"]] == [
            (coins["transfer_id"], "COIN_RECHARGE", "300")
        ]

    async def test_filters_by_kind(self, http: httpx.AsyncClient, alice: Person) -> None:
        await recharge(http, alice.id, "10.00")
        first = await debit(http, alice.id, "1.00")
        second = await debit(http, alice.id, "2.00")

        response = await http.get(
            "/v1/me/wallet/entries", params={"kind": "CONSUME"}, headers=alice.headers
        )

        assert response.status_code == 200, response.text
        assert [e["transfer_id"] for e in response.json()["items"]] == [
            second["transfer_id"],
            first["transfer_id"],
        ]

    async def test_shows_only_the_callers_own_entries(
        self, http: httpx.AsyncClient, alice: Person, bob: Person
    ) -> None:
        await recharge(http, alice.id, "10.00")

        response = await http.get("/v1/me/wallet/entries", headers=bob.headers)

        assert response.status_code == 200, response.text
        assert response.json() == {"items": [], "next_cursor": None}

    async def test_a_cursor_not_issued_by_us_is_refused(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        response = await http.get(
            "/v1/me/wallet/entries", params={"cursor": "not-a-cursor"}, headers=alice.headers
        )

        assert_problem(response, 422, "validation_failed", field="cursor")

    async def test_an_unknown_asset_is_refused(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        response = await http.get(
            "/v1/me/wallet/entries", params={"asset": "BTC"}, headers=alice.headers
        )

        assert_problem(response, 422, "asset_invalid", field="asset")


class TestTransferCoins:
    async def test_moves_recharge_coins_to_another_user(
        self, http: httpx.AsyncClient, alice: Person, bob: Person
    ) -> None:
        await recharge(http, alice.id, 50, asset="COIN_RECHARGE")

        response = await http.post(
            "/v1/me/wallet/transfers",
            json={"to_user_id": bob.id, "amount": 20},
            headers=keyed("gift-1", alice.headers),
        )

        assert response.status_code == 200, response.text
        assert response.json()["repeated"] is False
        assert response.json()["balance_after"] == "30"
        assert (await balance(http, alice, "COIN_RECHARGE"))["balance"] == "30"
        assert (await balance(http, bob, "COIN_RECHARGE"))["balance"] == "20"

    async def test_a_resend_answers_the_same_transfer_and_moves_nothing(
        self, http: httpx.AsyncClient, alice: Person, bob: Person
    ) -> None:
        await recharge(http, alice.id, 50, asset="COIN_RECHARGE")
        body = {"to_user_id": bob.id, "amount": 20}
        first = await http.post(
            "/v1/me/wallet/transfers", json=body, headers=keyed("gift-1", alice.headers)
        )

        again = await http.post(
            "/v1/me/wallet/transfers", json=body, headers=keyed("gift-1", alice.headers)
        )

        assert again.status_code == 200, again.text
        assert again.json()["repeated"] is True
        assert again.json()["transfer_id"] == first.json()["transfer_id"]
        assert (await balance(http, bob, "COIN_RECHARGE"))["balance"] == "20"

    async def test_the_same_key_from_another_user_is_another_transfer(
        self, http: httpx.AsyncClient, alice: Person, bob: Person, application: FastAPI
    ) -> None:
        carol = await make_user(state_of(application).wallet)
        await recharge(http, alice.id, 50, asset="COIN_RECHARGE")
        await recharge(http, bob.id, 50, asset="COIN_RECHARGE")
        body = {"to_user_id": carol, "amount": 5}

        first = await http.post(
            "/v1/me/wallet/transfers", json=body, headers=keyed("same", alice.headers)
        )
        second = await http.post(
            "/v1/me/wallet/transfers", json=body, headers=keyed("same", bob.headers)
        )

        assert first.status_code == second.status_code == 200
        assert second.json()["repeated"] is False
        assert second.json()["transfer_id"] != first.json()["transfer_id"]

    async def test_the_same_key_for_another_amount_is_a_conflict(
        self, http: httpx.AsyncClient, alice: Person, bob: Person
    ) -> None:
        await recharge(http, alice.id, 50, asset="COIN_RECHARGE")
        await http.post(
            "/v1/me/wallet/transfers",
            json={"to_user_id": bob.id, "amount": 20},
            headers=keyed("gift-1", alice.headers),
        )

        response = await http.post(
            "/v1/me/wallet/transfers",
            json={"to_user_id": bob.id, "amount": 21},
            headers=keyed("gift-1", alice.headers),
        )

        assert_problem(response, 409, "idempotency_conflict")
        assert (await balance(http, bob, "COIN_RECHARGE"))["balance"] == "20"

    async def test_needs_an_idempotency_key(
        self, http: httpx.AsyncClient, alice: Person, bob: Person
    ) -> None:
        await recharge(http, alice.id, 50, asset="COIN_RECHARGE")

        response = await http.post(
            "/v1/me/wallet/transfers",
            json={"to_user_id": bob.id, "amount": 20},
            headers=alice.headers,
        )

        assert_problem(response, 422, "idempotency_key_missing")
        assert (await balance(http, alice, "COIN_RECHARGE"))["balance"] == "50"

    async def test_give_coins_cannot_be_transferred(
        self, http: httpx.AsyncClient, alice: Person, bob: Person
    ) -> None:
        await grant(http, alice.id, "COIN_GIVE", "GIFT", 50)

        response = await http.post(
            "/v1/me/wallet/transfers",
            json={"to_user_id": bob.id, "amount": 20, "asset": "COIN_GIVE"},
            headers=keyed("gift-1", alice.headers),
        )

        assert_problem(response, 422, "asset_not_transferable", field="asset")
        assert (await balance(http, bob, "COIN_GIVE"))["balance"] == "0"

    async def test_more_than_the_balance_is_refused_and_moves_nothing(
        self, http: httpx.AsyncClient, alice: Person, bob: Person
    ) -> None:
        await recharge(http, alice.id, 50, asset="COIN_RECHARGE")

        response = await http.post(
            "/v1/me/wallet/transfers",
            json={"to_user_id": bob.id, "amount": 51},
            headers=keyed("gift-1", alice.headers),
        )

        assert_problem(response, 409, "insufficient_balance")
        assert (await balance(http, alice, "COIN_RECHARGE"))["balance"] == "50"
        assert (await balance(http, bob, "COIN_RECHARGE"))["balance"] == "0"

    async def test_to_oneself_is_refused(self, http: httpx.AsyncClient, alice: Person) -> None:
        await recharge(http, alice.id, 50, asset="COIN_RECHARGE")

        response = await http.post(
            "/v1/me/wallet/transfers",
            json={"to_user_id": alice.id, "amount": 5},
            headers=keyed("gift-1", alice.headers),
        )

        assert_problem(response, 422, "transfer_to_self", field="to_user_id")

    async def test_to_an_unknown_user_is_refused(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, 50, asset="COIN_RECHARGE")

        response = await http.post(
            "/v1/me/wallet/transfers",
            json={"to_user_id": 987_654_321, "amount": 5},
            headers=keyed("gift-1", alice.headers),
        )

        assert_problem(response, 404, "recipient_not_found", field="to_user_id")
        assert (await balance(http, alice, "COIN_RECHARGE"))["balance"] == "50"


BANK_CARD = {
    "kind": "BANK_CARD",
    "real_name": "张三",
    "bank_name": "工商银行",
    "card_number": CARD,
    "id_card": ID_CARD,
}


async def add_bank_card(http: httpx.AsyncClient, person: Person) -> dict[str, Any]:
    response = await http.post(
        "/v1/me/wallet/payout-accounts", json=BANK_CARD, headers=person.headers
    )
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


class TestPayoutAccounts:
    async def test_a_bank_card_is_shown_only_masked(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        added = await http.post(
            "/v1/me/wallet/payout-accounts", json=BANK_CARD, headers=alice.headers
        )
        listed = await http.get("/v1/me/wallet/payout-accounts", headers=alice.headers)

        assert added.status_code == 201, added.text
        assert added.json()["kind"] == "BANK_CARD"
        assert added.json()["masked"]["bank_card"] == "6222****1234"
        assert added.json()["masked"]["idcard"] == "440***1234"
        assert added.json()["masked"]["real_name"] == "张*"
        assert [p["masked"] for p in listed.json()] == [added.json()["masked"]]
        for response in (added, listed):
            assert CARD not in response.text
            assert ID_CARD not in response.text

    async def test_card_number_with_a_wrong_check_digit_is_refused(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        response = await http.post(
            "/v1/me/wallet/payout-accounts",
            json={**BANK_CARD, "card_number": CARD_BAD_LUHN},
            headers=alice.headers,
        )

        assert_problem(response, 422, "card_number_invalid", field="card_number")
        assert CARD_BAD_LUHN not in response.text

    async def test_id_card_with_a_wrong_check_digit_is_refused(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        response = await http.post(
            "/v1/me/wallet/payout-accounts",
            json={**BANK_CARD, "id_card": ID_CARD_BAD_CHECK},
            headers=alice.headers,
        )

        assert_problem(response, 422, "id_card_invalid", field="id_card")

    async def test_the_same_card_twice_is_a_conflict(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await add_bank_card(http, alice)

        response = await http.post(
            "/v1/me/wallet/payout-accounts",
            json={**BANK_CARD, "card_number": "6222 0200 0003 1234"},
            headers=alice.headers,
        )

        assert_problem(response, 409, "payout_account_exists")
        assert CARD not in response.text

    async def test_an_alipay_account_shows_the_phone_masked(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        response = await http.post(
            "/v1/me/wallet/payout-accounts",
            json={"kind": "ALIPAY", "real_name": "李四", "account": "13812348888"},
            headers=alice.headers,
        )

        assert response.status_code == 201, response.text
        assert response.json()["masked"]["alipay_code"] == "138****8888"
        assert "13812348888" not in response.text

    async def test_a_removed_account_is_no_longer_listed(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        added = await add_bank_card(http, alice)

        removed = await http.delete(
            f"/v1/me/wallet/payout-accounts/{added['id']}", headers=alice.headers
        )
        listed = await http.get("/v1/me/wallet/payout-accounts", headers=alice.headers)

        assert removed.status_code == 204
        assert listed.json() == []

    async def test_a_removed_card_can_be_saved_again(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        added = await add_bank_card(http, alice)
        await http.delete(f"/v1/me/wallet/payout-accounts/{added['id']}", headers=alice.headers)

        again = await http.post(
            "/v1/me/wallet/payout-accounts", json=BANK_CARD, headers=alice.headers
        )

        assert again.status_code == 201, again.text
        assert again.json()["masked"]["bank_card"] == "6222****1234"

    async def test_another_users_account_cannot_be_removed(
        self, http: httpx.AsyncClient, alice: Person, bob: Person
    ) -> None:
        added = await add_bank_card(http, alice)

        response = await http.delete(
            f"/v1/me/wallet/payout-accounts/{added['id']}", headers=bob.headers
        )

        assert_problem(response, 404, "payout_account_not_found")
        listed = await http.get("/v1/me/wallet/payout-accounts", headers=alice.headers)
        assert [p["id"] for p in listed.json()] == [added["id"]]


async def withdraw(
    http: httpx.AsyncClient, person: Person, payout_account_id: str, amount: str
) -> httpx.Response:
    return await http.post(
        "/v1/me/wallet/withdrawals",
        json={"payout_account_id": int(payout_account_id), "amount": amount},
        headers=keyed(unique("withdraw"), person.headers),
    )


class TestWithdrawals:
    async def test_applying_freezes_the_amount(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "50.00")
        payout = await add_bank_card(http, alice)

        response = await withdraw(http, alice, payout["id"], "20.00")

        assert response.status_code == 201, response.text
        assert response.json()["status"] == "PENDING"
        assert response.json()["amount"] == "20.00"
        assert response.json()["payout_account"]["bank_card"] == "6222****1234"
        assert CARD not in response.text
        assert await balance(http, alice, "CNY") == {
            "balance": "50.00",
            "frozen": "20.00",
            "available": "30.00",
        }

    async def test_a_resend_answers_the_same_withdrawal(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "50.00")
        payout = await add_bank_card(http, alice)
        body = {"payout_account_id": int(payout["id"]), "amount": "20.00"}

        first = await http.post(
            "/v1/me/wallet/withdrawals", json=body, headers=keyed("w-1", alice.headers)
        )
        again = await http.post(
            "/v1/me/wallet/withdrawals", json=body, headers=keyed("w-1", alice.headers)
        )

        assert again.status_code == 201, again.text
        assert again.json()["id"] == first.json()["id"]
        assert (await balance(http, alice, "CNY"))["frozen"] == "20.00"

    async def test_below_the_minimum_is_refused(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "50.00")
        payout = await add_bank_card(http, alice)

        response = await withdraw(http, alice, payout["id"], "0.99")

        assert_problem(response, 422, "withdrawal_below_minimum", field="amount")
        assert (await balance(http, alice, "CNY"))["frozen"] == "0.00"

    async def test_more_than_available_is_refused(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "50.00")
        payout = await add_bank_card(http, alice)

        response = await withdraw(http, alice, payout["id"], "50.01")

        assert_problem(response, 409, "insufficient_balance")
        assert (await balance(http, alice, "CNY"))["frozen"] == "0.00"

    async def test_to_another_users_payout_account_is_refused(
        self, http: httpx.AsyncClient, alice: Person, bob: Person
    ) -> None:
        await recharge(http, bob.id, "50.00")
        payout = await add_bank_card(http, alice)

        response = await withdraw(http, bob, payout["id"], "10.00")

        assert_problem(response, 404, "payout_account_not_found")

    async def test_needs_an_idempotency_key(self, http: httpx.AsyncClient, alice: Person) -> None:
        await recharge(http, alice.id, "50.00")
        payout = await add_bank_card(http, alice)

        response = await http.post(
            "/v1/me/wallet/withdrawals",
            json={"payout_account_id": int(payout["id"]), "amount": "10.00"},
            headers=alice.headers,
        )

        assert_problem(response, 422, "idempotency_key_missing")

    async def test_paid_takes_the_money_out(
        self,
        http: httpx.AsyncClient,
        application: FastAPI,
        alice: Person,
        finance: Staff,
    ) -> None:
        await recharge(http, alice.id, "50.00")
        payout = await add_bank_card(http, alice)
        applied = (await withdraw(http, alice, payout["id"], "20.00")).json()

        response = await http.post(
            f"/v1/admin/wallet/withdrawals/{applied['id']}/paid",
            json={"remark": "bank ref 42"},
            headers=finance.headers,
        )

        assert response.status_code == 200, response.text
        assert response.json()["status"] == "PAID"
        assert response.json()["handle_remark"] == "bank ref 42"
        assert await balance(http, alice, "CNY") == {
            "balance": "30.00",
            "frozen": "0.00",
            "available": "30.00",
        }
        settled = await state_of(application).wallet.withdrawal(int(applied["id"]))
        assert settled.handler_id == str(finance.id)

    async def test_failed_gives_the_money_back(
        self, http: httpx.AsyncClient, alice: Person, finance: Staff
    ) -> None:
        await recharge(http, alice.id, "50.00")
        payout = await add_bank_card(http, alice)
        applied = (await withdraw(http, alice, payout["id"], "20.00")).json()

        response = await http.post(
            f"/v1/admin/wallet/withdrawals/{applied['id']}/failed",
            json={},
            headers=finance.headers,
        )

        assert response.status_code == 200, response.text
        assert response.json()["status"] == "FAILED"
        assert await balance(http, alice, "CNY") == {
            "balance": "50.00",
            "frozen": "0.00",
            "available": "50.00",
        }

    @pytest.mark.parametrize(("first", "second"), [("paid", "failed"), ("failed", "paid")])
    async def test_a_second_settlement_is_refused(
        self,
        http: httpx.AsyncClient,
        alice: Person,
        finance: Staff,
        second_finance: Staff,
        first: str,
        second: str,
    ) -> None:
        await recharge(http, alice.id, "50.00")
        payout = await add_bank_card(http, alice)
        applied = (await withdraw(http, alice, payout["id"], "20.00")).json()
        settled = await http.post(
            f"/v1/admin/wallet/withdrawals/{applied['id']}/{first}",
            json={},
            headers=finance.headers,
        )
        shown = await balance(http, alice, "CNY")

        response = await http.post(
            f"/v1/admin/wallet/withdrawals/{applied['id']}/{second}",
            json={},
            headers=second_finance.headers,
        )

        assert settled.status_code == 200, settled.text
        assert_problem(response, 409, "withdrawal_already_handled")
        assert await balance(http, alice, "CNY") == shown

    @pytest.mark.parametrize("outcome", ["paid", "failed"])
    async def test_settling_needs_the_settle_permission(
        self,
        http: httpx.AsyncClient,
        alice: Person,
        customer_service: Staff,
        operator: Staff,
        outcome: str,
    ) -> None:
        await recharge(http, alice.id, "50.00")
        payout = await add_bank_card(http, alice)
        applied = (await withdraw(http, alice, payout["id"], "20.00")).json()

        refused = [
            await http.post(
                f"/v1/admin/wallet/withdrawals/{applied['id']}/{outcome}",
                json={},
                headers=member.headers,
            )
            for member in (customer_service, operator)
        ]

        for response in refused:
            assert_problem(response, 403, "permission_denied")
        assert (await balance(http, alice, "CNY"))["frozen"] == "20.00"
        listed = await http.get("/v1/me/wallet/withdrawals", headers=alice.headers)
        assert [w["status"] for w in listed.json()] == ["PENDING"]

    @pytest.mark.parametrize(
        "headers",
        [{}, SERVICE, {**SERVICE, "X-Staff-Id": "finance-1"}],
        ids=["anonymous", "service", "service-with-staff-header"],
    )
    async def test_settling_needs_a_staff_token(
        self, http: httpx.AsyncClient, alice: Person, headers: dict[str, str]
    ) -> None:
        await recharge(http, alice.id, "50.00")
        payout = await add_bank_card(http, alice)
        applied = (await withdraw(http, alice, payout["id"], "20.00")).json()

        response = await http.post(
            f"/v1/admin/wallet/withdrawals/{applied['id']}/paid", json={}, headers=headers
        )

        assert_problem(response, 401, "token_missing")
        assert (await balance(http, alice, "CNY"))["frozen"] == "20.00"

    async def test_are_listed_newest_first(self, http: httpx.AsyncClient, alice: Person) -> None:
        await recharge(http, alice.id, "50.00")
        payout = await add_bank_card(http, alice)
        first = (await withdraw(http, alice, payout["id"], "5.00")).json()
        second = (await withdraw(http, alice, payout["id"], "6.00")).json()

        response = await http.get("/v1/me/wallet/withdrawals", headers=alice.headers)

        assert response.status_code == 200, response.text
        assert [(w["id"], w["amount"]) for w in response.json()] == [
            (second["id"], "6.00"),
            (first["id"], "5.00"),
        ]
        assert CARD not in response.text


# --- the business's services --------------------------------------------------------------


class TestServiceCredentials:
    @pytest.mark.parametrize(
        "headers",
        [
            {},
            basic_auth("orders:wrong"),
            basic_auth("payments:s3cret"),
            {"Authorization": "Basic !!not-base64!!"},
            {"Authorization": "Bearer orders:s3cret"},
        ],
        ids=["none", "wrong-secret", "unknown-client", "malformed", "not-basic"],
    )
    async def test_service_routes_refuse_other_callers(
        self, http: httpx.AsyncClient, alice: Person, headers: dict[str, str]
    ) -> None:
        response = await http.post(
            "/v1/wallet/recharges",
            json={
                "user_id": alice.id,
                "amount": "10.00",
                "channel": "wechatpay",
                "payment_id": "wx-1",
            },
            headers=headers,
        )

        assert_problem(response, 401, "service_unauthorized")
        assert response.headers["www-authenticate"].startswith("Basic")
        assert (await balance(http, alice, "CNY"))["balance"] == "0.00"

    async def test_a_users_access_token_does_not_open_them(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        response = await http.get(f"/v1/wallet/users/{alice.id}", headers=alice.headers)

        assert_problem(response, 401, "service_unauthorized")

    async def test_a_staff_token_does_not_open_them(
        self, http: httpx.AsyncClient, alice: Person, finance: Staff
    ) -> None:
        response = await http.post(
            "/v1/wallet/recharges",
            json={
                "user_id": alice.id,
                "amount": "10.00",
                "channel": "wechatpay",
                "payment_id": unique("wx"),
            },
            headers=finance.headers,
        )

        assert_problem(response, 401, "service_unauthorized")
        assert (await balance(http, alice, "CNY"))["balance"] == "0.00"

    async def test_a_service_reads_a_users_balances(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "8.80")

        response = await http.get(f"/v1/wallet/users/{alice.id}", headers=SERVICE)

        assert response.status_code == 200, response.text
        shown = {b["asset"]: b["balance"] for b in response.json()["balances"]}
        assert shown["CNY"] == "8.80"


class TestRecharge:
    async def test_credits_a_decimal_amount(self, http: httpx.AsyncClient, alice: Person) -> None:
        answer = await recharge(http, alice.id, "12.30")

        assert answer["kind"] == "RECHARGE"
        assert answer["amount"] == "12.30"
        assert answer["balance_after"] == "12.30"
        assert answer["repeated"] is False
        assert (await balance(http, alice, "CNY"))["balance"] == "12.30"

    async def test_a_whole_number_is_yuan(self, http: httpx.AsyncClient, alice: Person) -> None:
        answer = await recharge(http, alice.id, 12)

        assert answer["amount"] == "12.00"

    async def test_the_same_payment_twice_is_credited_once(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        body = {
            "user_id": alice.id,
            "amount": "12.30",
            "channel": "alipay",
            "payment_id": "ali-7",
        }
        first = await http.post("/v1/wallet/recharges", json=body, headers=SERVICE)

        again = await http.post("/v1/wallet/recharges", json=body, headers=SERVICE)

        assert again.status_code == 200, again.text
        assert again.json()["repeated"] is True
        assert again.json()["transfer_id"] == first.json()["transfer_id"]
        assert (await balance(http, alice, "CNY"))["balance"] == "12.30"

    async def test_the_same_payment_for_another_amount_is_a_conflict(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        body = {"user_id": alice.id, "amount": "12.30", "channel": "alipay", "payment_id": "ali-7"}
        await http.post("/v1/wallet/recharges", json=body, headers=SERVICE)

        response = await http.post(
            "/v1/wallet/recharges", json={**body, "amount": "99.00"}, headers=SERVICE
        )

        assert_problem(response, 409, "idempotency_conflict")
        assert (await balance(http, alice, "CNY"))["balance"] == "12.30"

    async def test_comes_with_give_coins(self, http: httpx.AsyncClient, alice: Person) -> None:
        response = await http.post(
            "/v1/wallet/recharges",
            json={
                "user_id": alice.id,
                "amount": "30.00",
                "channel": "wechatpay",
                "payment_id": unique("wx"),
                "bonus_give_coins": 300,
            },
            headers=SERVICE,
        )

        assert response.status_code == 200, response.text
        assert (await balance(http, alice, "CNY"))["balance"] == "30.00"
        assert (await balance(http, alice, "COIN_GIVE"))["balance"] == "300"

    @pytest.mark.parametrize(
        "amount",
        ["12.345", "-1", "abc", 0, "0", "0.00", "", " ", "1e3", "12.", ".5", "+5", "0x10", -5],
    )
    async def test_an_amount_that_is_not_a_positive_two_place_decimal_is_refused(
        self, http: httpx.AsyncClient, alice: Person, amount: object
    ) -> None:
        response = await http.post(
            "/v1/wallet/recharges",
            json={
                "user_id": alice.id,
                "amount": amount,
                "channel": "wechatpay",
                "payment_id": unique("wx"),
            },
            headers=SERVICE,
        )

        assert_problem(response, 422, "amount_invalid", field="amount")
        assert (await balance(http, alice, "CNY"))["balance"] == "0.00"

    @pytest.mark.parametrize("amount", [12.3, True, None, [1], {"yuan": 1}])
    async def test_an_amount_that_is_not_a_string_or_whole_number_is_refused(
        self, http: httpx.AsyncClient, alice: Person, amount: object
    ) -> None:
        response = await http.post(
            "/v1/wallet/recharges",
            json={
                "user_id": alice.id,
                "amount": amount,
                "channel": "wechatpay",
                "payment_id": unique("wx"),
            },
            headers=SERVICE,
        )

        problem = assert_problem(response, 422, "validation_failed")
        assert problem["errors"] == [
            {
                "field": "amount",
                "code": "amount_invalid",
                "message": problem["errors"][0]["message"],
            }
        ]
        assert (await balance(http, alice, "CNY"))["balance"] == "0.00"

    async def test_gift_coins_cannot_be_recharged(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        response = await http.post(
            "/v1/wallet/recharges",
            json={
                "user_id": alice.id,
                "asset": "COIN_GIVE",
                "amount": 10,
                "channel": "wechatpay",
                "payment_id": unique("wx"),
            },
            headers=SERVICE,
        )

        assert_problem(response, 422, "validation_failed", field="asset")


class TestDebit:
    async def test_takes_from_the_balance(self, http: httpx.AsyncClient, alice: Person) -> None:
        await recharge(http, alice.id, "10.00")

        answer = await debit(http, alice.id, "3.50")

        assert answer["kind"] == "CONSUME"
        assert answer["amount"] == "3.50"
        assert answer["balance_after"] == "6.50"
        assert (await balance(http, alice, "CNY"))["balance"] == "6.50"

    async def test_a_resend_for_the_same_order_moves_nothing(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "10.00")
        body = {
            "user_id": alice.id,
            "asset": "CNY",
            "amount": "3.50",
            "business_type": "ORDER",
            "business_id": "o-1",
        }
        first = await http.post("/v1/wallet/debits", json=body, headers=SERVICE)

        again = await http.post("/v1/wallet/debits", json=body, headers=SERVICE)

        assert again.status_code == 200, again.text
        assert again.json()["repeated"] is True
        assert again.json()["transfer_id"] == first.json()["transfer_id"]
        assert (await balance(http, alice, "CNY"))["balance"] == "6.50"

    async def test_an_idempotency_key_reused_for_another_amount_is_a_conflict(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "10.00")
        body = {"user_id": alice.id, "asset": "CNY", "amount": "3.50"}
        await http.post("/v1/wallet/debits", json=body, headers=keyed("k-1"))

        response = await http.post(
            "/v1/wallet/debits", json={**body, "amount": "4.00"}, headers=keyed("k-1")
        )

        assert_problem(response, 409, "idempotency_conflict")
        assert (await balance(http, alice, "CNY"))["balance"] == "6.50"

    async def test_needs_an_idempotency_key_or_a_business_id(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "10.00")

        response = await http.post(
            "/v1/wallet/debits",
            json={"user_id": alice.id, "asset": "CNY", "amount": "3.50"},
            headers=SERVICE,
        )

        assert_problem(response, 422, "idempotency_key_missing")
        assert (await balance(http, alice, "CNY"))["balance"] == "10.00"

    async def test_more_than_the_balance_is_refused(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "10.00")

        response = await http.post(
            "/v1/wallet/debits",
            json={"user_id": alice.id, "asset": "CNY", "amount": "10.01"},
            headers=keyed(unique("debit")),
        )

        assert_problem(response, 409, "insufficient_balance")
        assert (await balance(http, alice, "CNY"))["balance"] == "10.00"

    async def test_an_invalid_amount_is_refused_naming_the_field(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "10.00")

        response = await http.post(
            "/v1/wallet/debits",
            json={"user_id": alice.id, "asset": "CNY", "amount": "1.001"},
            headers=keyed(unique("debit")),
        )

        assert_problem(response, 422, "amount_invalid", field="amount")

    async def test_spends_points(self, http: httpx.AsyncClient, alice: Person) -> None:
        await grant(http, alice.id, "POINTS", "POINTS_EARN", 100)

        answer = await debit(http, alice.id, 40, asset="POINTS")

        assert answer["kind"] == "POINTS_SPEND"
        assert (await balance(http, alice, "POINTS"))["balance"] == "60"


class TestSpendCoins:
    async def test_takes_reward_then_give_then_recharge_coins(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await grant(http, alice.id, "COIN_REWARD", "REWARD", 5)
        await grant(http, alice.id, "COIN_GIVE", "GIFT", 10)
        await recharge(http, alice.id, 100, asset="COIN_RECHARGE")

        response = await http.post(
            "/v1/wallet/coin-spends",
            json={"user_id": alice.id, "amount": 30},
            headers=keyed(unique("spend")),
        )

        assert response.status_code == 200, response.text
        assert response.json()["deduct_details"] == {
            "COIN_REWARD": "5",
            "COIN_GIVE": "10",
            "COIN_RECHARGE": "15",
        }
        assert (await balance(http, alice, "COIN_RECHARGE"))["balance"] == "85"
        assert (await balance(http, alice, "COIN_GIVE"))["balance"] == "0"

    async def test_buckets_that_fall_short_together_move_nothing(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await grant(http, alice.id, "COIN_REWARD", "REWARD", 5)
        await recharge(http, alice.id, 5, asset="COIN_RECHARGE")

        response = await http.post(
            "/v1/wallet/coin-spends",
            json={"user_id": alice.id, "amount": 11},
            headers=keyed(unique("spend")),
        )

        assert_problem(response, 409, "insufficient_balance")
        assert (await balance(http, alice, "COIN_REWARD"))["balance"] == "5"
        assert (await balance(http, alice, "COIN_RECHARGE"))["balance"] == "5"

    async def test_true_is_not_one_coin(self, http: httpx.AsyncClient, alice: Person) -> None:
        await recharge(http, alice.id, 5, asset="COIN_RECHARGE")

        response = await http.post(
            "/v1/wallet/coin-spends",
            json={"user_id": alice.id, "amount": True},
            headers=keyed(unique("spend")),
        )

        assert_problem(response, 422, "validation_failed", field="amount")
        assert (await balance(http, alice, "COIN_RECHARGE"))["balance"] == "5"


class TestGrant:
    @pytest.mark.parametrize(
        ("asset", "kind", "amount", "shown"),
        [
            ("COIN_GIVE", "GIFT", 200, "200"),
            ("COIN_REWARD", "REWARD", 30, "30"),
            ("POINTS", "POINTS_EARN", 15, "15"),
            ("CNY", "COMMISSION", "1.25", "1.25"),
        ],
    )
    async def test_credits_the_user(
        self,
        http: httpx.AsyncClient,
        alice: Person,
        asset: str,
        kind: str,
        amount: str | int,
        shown: str,
    ) -> None:
        answer = await grant(http, alice.id, asset, kind, amount)

        assert answer["kind"] == kind
        assert (await balance(http, alice, asset))["balance"] == shown

    async def test_an_asset_the_kind_does_not_give_is_refused(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        response = await http.post(
            "/v1/wallet/grants",
            json={"user_id": alice.id, "asset": "CNY", "kind": "GIFT", "amount": "5.00"},
            headers=keyed(unique("grant")),
        )

        assert_problem(response, 422, "asset_invalid", field="asset")
        assert (await balance(http, alice, "CNY"))["balance"] == "0.00"


async def refund(
    http: httpx.AsyncClient, transfer_id: str, amount: str, key: str | None = None
) -> httpx.Response:
    return await http.post(
        "/v1/wallet/refunds",
        json={"transfer_id": int(transfer_id), "amount": amount},
        headers=keyed(key or unique("refund")),
    )


class TestRefund:
    async def test_gives_back_part_of_a_debit(self, http: httpx.AsyncClient, alice: Person) -> None:
        await recharge(http, alice.id, "10.00")
        paid = await debit(http, alice.id, "6.00")

        response = await refund(http, paid["transfer_id"], "2.50")

        assert response.status_code == 200, response.text
        assert response.json()["kind"] == "REFUND"
        assert (await balance(http, alice, "CNY"))["balance"] == "6.50"

    async def test_never_more_than_the_debit_in_all(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "10.00")
        paid = await debit(http, alice.id, "6.00")
        await refund(http, paid["transfer_id"], "4.00")

        response = await refund(http, paid["transfer_id"], "2.01")

        problem = assert_problem(response, 409, "refund_exceeds_debit", field="amount")
        assert "2.00" in problem["detail"]
        assert (await balance(http, alice, "CNY"))["balance"] == "8.00"

    async def test_a_resend_refunds_once(self, http: httpx.AsyncClient, alice: Person) -> None:
        await recharge(http, alice.id, "10.00")
        paid = await debit(http, alice.id, "6.00")
        await refund(http, paid["transfer_id"], "1.00", key="r-1")

        again = await refund(http, paid["transfer_id"], "1.00", key="r-1")

        assert again.status_code == 200, again.text
        assert again.json()["repeated"] is True
        assert (await balance(http, alice, "CNY"))["balance"] == "5.00"

    async def test_a_recharge_is_not_refundable(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        credited = await recharge(http, alice.id, "10.00")

        response = await refund(http, credited["transfer_id"], "1.00")

        assert_problem(response, 409, "transfer_not_refundable", field="transfer_id")

    async def test_an_unknown_transfer_is_not_found(self, http: httpx.AsyncClient) -> None:
        response = await refund(http, "987654321", "1.00")

        assert_problem(response, 404, "transfer_not_found", field="transfer_id")

    async def test_a_coin_spend_is_refunded_in_coins(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, 100, asset="COIN_RECHARGE")
        spent = await http.post(
            "/v1/wallet/coin-spends",
            json={"user_id": alice.id, "amount": 30},
            headers=keyed(unique("spend")),
        )

        response = await refund(http, spent.json()["transfer_id"], "30")

        assert response.status_code == 200, response.text
        assert (await balance(http, alice, "COIN_RECHARGE"))["balance"] == "100"


async def hold(http: httpx.AsyncClient, user_id: int, amount: str, **extra: Any) -> dict[str, Any]:
    response = await http.post(
        "/v1/wallet/holds",
        json={"user_id": user_id, "asset": "CNY", "amount": amount, **extra},
        headers=keyed(unique("hold")),
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


class TestHolds:
    async def test_capturing_part_releases_the_rest(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "10.00")
        held = await hold(http, alice.id, "5.00")

        response = await http.post(
            f"/v1/wallet/holds/{held['hold_id']}/capture", json={"amount": "3.00"}, headers=SERVICE
        )

        assert response.status_code == 200, response.text
        assert response.json()["amount"] == "3.00"
        assert response.json()["released"] == "2.00"
        assert response.json()["hold_status"] == "captured"
        assert await balance(http, alice, "CNY") == {
            "balance": "7.00",
            "frozen": "0.00",
            "available": "7.00",
        }

    async def test_capturing_without_an_amount_takes_all_of_it(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "10.00")
        held = await hold(http, alice.id, "5.00")

        response = await http.post(
            f"/v1/wallet/holds/{held['hold_id']}/capture", json={}, headers=SERVICE
        )

        assert response.status_code == 200, response.text
        assert (await balance(http, alice, "CNY"))["balance"] == "5.00"

    async def test_releasing_gives_all_of_it_back(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "10.00")
        held = await hold(http, alice.id, "5.00")

        response = await http.post(f"/v1/wallet/holds/{held['hold_id']}/release", headers=SERVICE)

        assert response.status_code == 200, response.text
        assert response.json()["hold_status"] == "released"
        assert response.json()["released"] == "5.00"
        assert await balance(http, alice, "CNY") == {
            "balance": "10.00",
            "frozen": "0.00",
            "available": "10.00",
        }

    async def test_capture_after_release_is_refused(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "10.00")
        held = await hold(http, alice.id, "5.00")
        await http.post(f"/v1/wallet/holds/{held['hold_id']}/release", headers=SERVICE)

        response = await http.post(
            f"/v1/wallet/holds/{held['hold_id']}/capture", json={"amount": "1.00"}, headers=SERVICE
        )

        assert_problem(response, 409, "hold_already_resolved")
        assert (await balance(http, alice, "CNY"))["balance"] == "10.00"

    async def test_capturing_more_than_the_hold_is_refused(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "10.00")
        held = await hold(http, alice.id, "5.00")

        response = await http.post(
            f"/v1/wallet/holds/{held['hold_id']}/capture", json={"amount": "5.01"}, headers=SERVICE
        )

        assert_problem(response, 422, "capture_exceeds_hold", field="amount")
        assert (await balance(http, alice, "CNY"))["frozen"] == "5.00"

    async def test_more_than_available_cannot_be_held(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "10.00")
        await hold(http, alice.id, "6.00")

        response = await http.post(
            "/v1/wallet/holds",
            json={"user_id": alice.id, "asset": "CNY", "amount": "4.01"},
            headers=keyed(unique("hold")),
        )

        assert_problem(response, 409, "insufficient_balance")
        assert (await balance(http, alice, "CNY"))["frozen"] == "6.00"

    async def test_an_unknown_hold_is_not_found(self, http: httpx.AsyncClient) -> None:
        response = await http.post("/v1/wallet/holds/987654321/release", headers=SERVICE)

        assert_problem(response, 404, "hold_not_found")

    @pytest.mark.parametrize("owners", [{}, {"user_id": 1, "sponsor_id": 1}], ids=["none", "both"])
    async def test_needs_exactly_one_owner(
        self, http: httpx.AsyncClient, owners: dict[str, int]
    ) -> None:
        response = await http.post(
            "/v1/wallet/holds",
            json={"asset": "CNY", "amount": "1.00", **owners},
            headers=keyed(unique("hold")),
        )

        problem = assert_problem(response, 422, "validation_failed", field="user_id")
        assert problem["errors"][0]["code"] == "owner_invalid"

    async def test_a_sponsors_balance_can_be_held_and_captured(
        self, http: httpx.AsyncClient, operator: Staff
    ) -> None:
        sponsor = await open_sponsor(http, operator)
        await fund(http, sponsor["id"], "20.00")
        held = await http.post(
            "/v1/wallet/holds",
            json={"sponsor_id": int(sponsor["id"]), "asset": "CNY", "amount": "8.00"},
            headers=keyed(unique("hold")),
        )
        frozen = (await http.get(f"/v1/wallet/sponsors/{sponsor['id']}", headers=SERVICE)).json()

        captured = await http.post(
            f"/v1/wallet/holds/{held.json()['hold_id']}/capture", json={}, headers=SERVICE
        )

        assert held.status_code == 200, held.text
        assert frozen["balance"]["frozen"] == "8.00"
        assert frozen["balance"]["available"] == "12.00"
        assert captured.status_code == 200, captured.text
        shown = await http.get(f"/v1/wallet/sponsors/{sponsor['id']}", headers=SERVICE)
        assert shown.json()["balance"]["balance"] == "12.00"
        assert shown.json()["balance"]["frozen"] == "0.00"


class TestVipPurchase:
    async def test_debits_cash_grants_give_coins_and_shows_the_end(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "50.00")
        assert (await wallet_of(http, alice))["vip_until"] is None

        response = await http.post(
            "/v1/wallet/vip-purchases",
            json={"user_id": alice.id, "price": "30.00", "days": 30},
            headers=keyed(unique("vip")),
        )

        assert response.status_code == 200, response.text
        assert response.json()["kind"] == "VIP"
        wallet = await wallet_of(http, alice)
        assert wallet["vip_until"] is not None
        assert wallet["vip_until"][:19] == response.json()["vip_ends_at"][:19]
        assert (await balance(http, alice, "CNY"))["balance"] == "20.00"
        assert (await balance(http, alice, "COIN_GIVE"))["balance"] == "2000"

    async def test_without_the_cash_nothing_is_granted(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "29.99")

        response = await http.post(
            "/v1/wallet/vip-purchases",
            json={"user_id": alice.id, "price": "30.00", "days": 30},
            headers=keyed(unique("vip")),
        )

        assert_problem(response, 409, "insufficient_balance")
        assert (await wallet_of(http, alice))["vip_until"] is None
        assert (await balance(http, alice, "COIN_GIVE"))["balance"] == "0"

    async def test_an_invalid_price_is_refused_naming_the_field(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        response = await http.post(
            "/v1/wallet/vip-purchases",
            json={"user_id": alice.id, "price": "30.001", "days": 30},
            headers=keyed(unique("vip")),
        )

        assert_problem(response, 422, "amount_invalid", field="price")


async def open_sponsor(http: httpx.AsyncClient, staff: Staff, **extra: Any) -> dict[str, Any]:
    response = await http.post(
        "/v1/admin/wallet/sponsors",
        json={"name": "Acme", "sponsor_type": "ENTERPRISE", **extra},
        headers=staff.headers,
    )
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def fund(http: httpx.AsyncClient, sponsor_id: str, amount: str) -> httpx.Response:
    return await http.post(
        f"/v1/wallet/sponsors/{sponsor_id}/fundings",
        json={"amount": amount, "channel": "alipay", "payment_id": unique("ali")},
        headers=SERVICE,
    )


async def charge(
    http: httpx.AsyncClient, sponsor_id: str, amount: str, user_id: int | None = None
) -> httpx.Response:
    return await http.post(
        f"/v1/wallet/sponsors/{sponsor_id}/charges",
        json={"amount": amount, "user_id": user_id},
        headers=keyed(unique("charge")),
    )


class TestSponsors:
    async def test_opens_with_the_contact_phone_masked(
        self, http: httpx.AsyncClient, application: FastAPI, operator: Staff
    ) -> None:
        response = await http.post(
            "/v1/admin/wallet/sponsors",
            json={
                "name": "Acme",
                "sponsor_type": "ENTERPRISE",
                "contact": {"person": "王五", "phone": "13812348888"},
            },
            headers=operator.headers,
        )

        assert response.status_code == 201, response.text
        assert response.json()["status"] == "ACTIVE"
        assert response.json()["contact"]["phone"] == "138****8888"
        assert response.json()["balance"]["balance"] == "0.00"
        assert "13812348888" not in response.text
        shown = await http.get(f"/v1/wallet/sponsors/{response.json()['id']}", headers=SERVICE)
        assert "13812348888" not in shown.text
        sponsor, _ = await state_of(application).wallet.sponsor(int(response.json()["id"]))
        assert sponsor.created_by == str(operator.id)

    async def test_staff_see_it_through_their_own_route(
        self, http: httpx.AsyncClient, operator: Staff, customer_service: Staff
    ) -> None:
        sponsor = await open_sponsor(
            http, operator, contact={"person": "王五", "phone": "13812348888"}
        )
        await fund(http, sponsor["id"], "12.00")

        response = await http.get(
            f"/v1/admin/wallet/sponsors/{sponsor['id']}", headers=customer_service.headers
        )

        assert response.status_code == 200, response.text
        assert response.json()["balance"]["balance"] == "12.00"
        assert response.json()["contact"]["phone"] == "138****8888"
        assert "13812348888" not in response.text

    async def test_funding_then_charging_moves_its_balance(
        self, http: httpx.AsyncClient, alice: Person, operator: Staff
    ) -> None:
        sponsor = await open_sponsor(http, operator)

        funded = await fund(http, sponsor["id"], "100.00")
        charged = await charge(http, sponsor["id"], "30.00", user_id=alice.id)

        assert funded.status_code == 200, funded.text
        assert funded.json()["balance_after"] == "100.00"
        assert charged.status_code == 200, charged.text
        assert charged.json()["balance_after"] == "70.00"
        shown = await http.get(f"/v1/wallet/sponsors/{sponsor['id']}", headers=SERVICE)
        assert shown.json()["balance"]["balance"] == "70.00"

    async def test_charging_more_than_its_balance_is_refused(
        self, http: httpx.AsyncClient, operator: Staff
    ) -> None:
        sponsor = await open_sponsor(http, operator)
        await fund(http, sponsor["id"], "10.00")

        response = await charge(http, sponsor["id"], "10.01")

        assert_problem(response, 409, "insufficient_balance")

    async def test_a_suspended_sponsor_cannot_be_charged(
        self, http: httpx.AsyncClient, operator: Staff
    ) -> None:
        sponsor = await open_sponsor(http, operator)
        await fund(http, sponsor["id"], "100.00")

        suspended = await http.post(
            f"/v1/admin/wallet/sponsors/{sponsor['id']}/status",
            json={"status": "SUSPENDED"},
            headers=operator.headers,
        )
        response = await charge(http, sponsor["id"], "1.00")

        assert suspended.status_code == 200, suspended.text
        assert suspended.json()["status"] == "SUSPENDED"
        assert_problem(response, 409, "sponsor_inactive")
        shown = await http.get(f"/v1/wallet/sponsors/{sponsor['id']}", headers=SERVICE)
        assert shown.json()["balance"]["balance"] == "100.00"

    async def test_a_reopened_sponsor_can_be_charged_again(
        self, http: httpx.AsyncClient, operator: Staff
    ) -> None:
        sponsor = await open_sponsor(http, operator)
        await fund(http, sponsor["id"], "100.00")
        for status in ("SUSPENDED", "ACTIVE"):
            changed = await http.post(
                f"/v1/admin/wallet/sponsors/{sponsor['id']}/status",
                json={"status": status},
                headers=operator.headers,
            )
            assert changed.status_code == 200, changed.text

        response = await charge(http, sponsor["id"], "1.00")

        assert response.status_code == 200, response.text

    async def test_an_unknown_sponsor_is_not_found(
        self, http: httpx.AsyncClient, customer_service: Staff
    ) -> None:
        by_service = await http.get("/v1/wallet/sponsors/987654321", headers=SERVICE)
        by_staff = await http.get(
            "/v1/admin/wallet/sponsors/987654321", headers=customer_service.headers
        )

        assert_problem(by_service, 404, "sponsor_not_found")
        assert_problem(by_staff, 404, "sponsor_not_found")

    async def test_managing_needs_the_sponsor_permission(
        self, http: httpx.AsyncClient, operator: Staff, customer_service: Staff, finance: Staff
    ) -> None:
        sponsor = await open_sponsor(http, operator)

        for member in (customer_service, finance):
            opened = await http.post(
                "/v1/admin/wallet/sponsors",
                json={"name": "Acme", "sponsor_type": "ENTERPRISE"},
                headers=member.headers,
            )
            suspended = await http.post(
                f"/v1/admin/wallet/sponsors/{sponsor['id']}/status",
                json={"status": "SUSPENDED"},
                headers=member.headers,
            )

            assert_problem(opened, 403, "permission_denied")
            assert_problem(suspended, 403, "permission_denied")
        shown = await http.get(f"/v1/wallet/sponsors/{sponsor['id']}", headers=SERVICE)
        assert shown.json()["status"] == "ACTIVE"

    async def test_opening_needs_a_staff_token(self, http: httpx.AsyncClient) -> None:
        anonymous = await http.post(
            "/v1/admin/wallet/sponsors", json={"name": "Acme", "sponsor_type": "ENTERPRISE"}
        )
        by_service = await http.post(
            "/v1/admin/wallet/sponsors",
            json={"name": "Acme", "sponsor_type": "ENTERPRISE"},
            headers={**SERVICE, "X-Staff-Id": "ops-1"},
        )

        assert_problem(anonymous, 401, "token_missing")
        assert_problem(by_service, 401, "token_missing")


async def file_adjustment(
    http: httpx.AsyncClient, applicant: Staff, user_id: int, amount: int, reason: str = ""
) -> dict[str, Any]:
    response = await http.post(
        "/v1/admin/wallet/adjustments",
        json={
            "user_id": user_id,
            "asset": "CNY",
            "amount": amount,
            "adjustment_type": "COMPENSATION",
            "reason": reason or "outage on 1 May",
        },
        headers=applicant.headers,
    )
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


class TestAdjustments:
    async def test_filing_moves_nothing(
        self, http: httpx.AsyncClient, alice: Person, finance: Staff
    ) -> None:
        filed = await file_adjustment(http, finance, alice.id, 500)

        assert filed["status"] == "PENDING"
        assert filed["amount"] == "5.00"
        assert filed["applicant_id"] == str(finance.id)
        assert (await balance(http, alice, "CNY"))["balance"] == "0.00"

    @pytest.mark.parametrize("decision", ["approve", "reject"])
    async def test_the_applicant_cannot_decide_it(
        self, http: httpx.AsyncClient, alice: Person, finance: Staff, decision: str
    ) -> None:
        filed = await file_adjustment(http, finance, alice.id, 500)

        response = await http.post(
            f"/v1/admin/wallet/adjustments/{filed['id']}/{decision}",
            json={},
            headers=finance.headers,
        )

        assert_problem(response, 403, "self_approval_refused")
        assert (await balance(http, alice, "CNY"))["balance"] == "0.00"
        listed = await http.get(
            "/v1/admin/wallet/adjustments", params={"status": "PENDING"}, headers=finance.headers
        )
        assert [a["id"] for a in listed.json()] == [filed["id"]]

    async def test_approval_by_another_moves_the_money(
        self, http: httpx.AsyncClient, alice: Person, finance: Staff, second_finance: Staff
    ) -> None:
        filed = await file_adjustment(http, finance, alice.id, 500)

        response = await http.post(
            f"/v1/admin/wallet/adjustments/{filed['id']}/approve",
            json={"remark": "checked"},
            headers=second_finance.headers,
        )

        assert response.status_code == 200, response.text
        assert response.json()["status"] == "APPROVED"
        assert response.json()["applicant_id"] == str(finance.id)
        assert response.json()["approver_id"] == str(second_finance.id)
        assert response.json()["transfer_id"] is not None
        assert (await balance(http, alice, "CNY"))["balance"] == "5.00"

    async def test_a_negative_adjustment_takes_money_away(
        self, http: httpx.AsyncClient, alice: Person, finance: Staff, second_finance: Staff
    ) -> None:
        await recharge(http, alice.id, "10.00")
        filed = await file_adjustment(http, finance, alice.id, -300)

        response = await http.post(
            f"/v1/admin/wallet/adjustments/{filed['id']}/approve",
            json={},
            headers=second_finance.headers,
        )

        assert response.status_code == 200, response.text
        assert (await balance(http, alice, "CNY"))["balance"] == "7.00"

    async def test_rejection_moves_nothing(
        self, http: httpx.AsyncClient, alice: Person, finance: Staff, second_finance: Staff
    ) -> None:
        filed = await file_adjustment(http, finance, alice.id, 500)

        response = await http.post(
            f"/v1/admin/wallet/adjustments/{filed['id']}/reject",
            json={"remark": "no outage"},
            headers=second_finance.headers,
        )

        assert response.status_code == 200, response.text
        assert response.json()["status"] == "REJECTED"
        assert response.json()["approver_id"] == str(second_finance.id)
        assert response.json()["transfer_id"] is None
        assert (await balance(http, alice, "CNY"))["balance"] == "0.00"

    @pytest.mark.parametrize(
        ("first", "second"),
        [("approve", "approve"), ("approve", "reject"), ("reject", "approve")],
    )
    async def test_a_second_decision_is_refused(
        self,
        http: httpx.AsyncClient,
        application: FastAPI,
        alice: Person,
        finance: Staff,
        second_finance: Staff,
        first: str,
        second: str,
    ) -> None:
        third = await staff_member(application, "super_admin")
        filed = await file_adjustment(http, finance, alice.id, 500)
        decided = await http.post(
            f"/v1/admin/wallet/adjustments/{filed['id']}/{first}",
            json={},
            headers=second_finance.headers,
        )
        shown = await balance(http, alice, "CNY")

        response = await http.post(
            f"/v1/admin/wallet/adjustments/{filed['id']}/{second}",
            json={},
            headers=third.headers,
        )

        assert decided.status_code == 200, decided.text
        assert_problem(response, 409, "adjustment_already_decided")
        assert await balance(http, alice, "CNY") == shown

    async def test_are_listed_by_status(
        self,
        http: httpx.AsyncClient,
        alice: Person,
        finance: Staff,
        second_finance: Staff,
        customer_service: Staff,
    ) -> None:
        pending = await file_adjustment(http, finance, alice.id, 100)
        rejected = await file_adjustment(http, finance, alice.id, 200)
        await http.post(
            f"/v1/admin/wallet/adjustments/{rejected['id']}/reject",
            json={},
            headers=second_finance.headers,
        )

        response = await http.get(
            "/v1/admin/wallet/adjustments",
            params={"status": "PENDING"},
            headers=customer_service.headers,
        )

        assert response.status_code == 200, response.text
        assert [a["id"] for a in response.json()] == [pending["id"]]

    async def test_an_unknown_adjustment_is_not_found(
        self, http: httpx.AsyncClient, second_finance: Staff
    ) -> None:
        response = await http.post(
            "/v1/admin/wallet/adjustments/987654321/approve",
            json={},
            headers=second_finance.headers,
        )

        assert_problem(response, 404, "adjustment_not_found")

    async def test_filing_needs_the_apply_permission(
        self, http: httpx.AsyncClient, alice: Person, customer_service: Staff, operator: Staff
    ) -> None:
        for member in (customer_service, operator):
            response = await http.post(
                "/v1/admin/wallet/adjustments",
                json={
                    "user_id": alice.id,
                    "asset": "CNY",
                    "amount": 500,
                    "adjustment_type": "COMPENSATION",
                    "reason": "outage on 1 May",
                },
                headers=member.headers,
            )

            assert_problem(response, 403, "permission_denied")
        listed = await http.get("/v1/admin/wallet/adjustments", headers=operator.headers)
        assert listed.json() == []

    @pytest.mark.parametrize("decision", ["approve", "reject"])
    async def test_deciding_needs_the_approve_permission(
        self,
        http: httpx.AsyncClient,
        alice: Person,
        finance: Staff,
        customer_service: Staff,
        operator: Staff,
        decision: str,
    ) -> None:
        filed = await file_adjustment(http, finance, alice.id, 500)

        for member in (customer_service, operator):
            response = await http.post(
                f"/v1/admin/wallet/adjustments/{filed['id']}/{decision}",
                json={},
                headers=member.headers,
            )

            assert_problem(response, 403, "permission_denied")
        assert (await balance(http, alice, "CNY"))["balance"] == "0.00"
        listed = await http.get(
            "/v1/admin/wallet/adjustments", params={"status": "PENDING"}, headers=finance.headers
        )
        assert [a["id"] for a in listed.json()] == [filed["id"]]


class TestIdempotencyKey:
    @pytest.mark.parametrize(
        ("path", "body"),
        [
            ("/v1/wallet/debits", {"asset": "CNY", "amount": "1.00"}),
            ("/v1/wallet/coin-spends", {"amount": 1}),
            ("/v1/wallet/grants", {"asset": "COIN_GIVE", "kind": "GIFT", "amount": 1}),
            ("/v1/wallet/holds", {"asset": "CNY", "amount": "1.00"}),
            ("/v1/wallet/vip-purchases", {"price": "1.00", "days": 1}),
        ],
    )
    async def test_a_money_call_without_key_or_business_id_is_refused(
        self, http: httpx.AsyncClient, alice: Person, path: str, body: dict[str, Any]
    ) -> None:
        await recharge(http, alice.id, "10.00")
        await recharge(http, alice.id, 10, asset="COIN_RECHARGE")
        before = await wallet_of(http, alice)

        response = await http.post(path, json={"user_id": alice.id, **body}, headers=SERVICE)

        assert_problem(response, 422, "idempotency_key_missing")
        assert await wallet_of(http, alice) == before

    async def test_a_key_with_spaces_is_refused(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "10.00")

        response = await http.post(
            "/v1/wallet/debits",
            json={"user_id": alice.id, "asset": "CNY", "amount": "1.00"},
            headers=keyed("two words"),
        )

        assert_problem(response, 422, "validation_failed", field="Idempotency-Key")
        assert (await balance(http, alice, "CNY"))["balance"] == "10.00"


class TestReconciliation:
    async def test_a_ledger_after_traffic_is_clean(
        self, http: httpx.AsyncClient, alice: Person, bob: Person, finance: Staff
    ) -> None:
        await recharge(http, alice.id, "50.00")
        await recharge(http, alice.id, 100, asset="COIN_RECHARGE")
        paid = await debit(http, alice.id, "12.30")
        await refund(http, paid["transfer_id"], "2.30")
        await http.post(
            "/v1/me/wallet/transfers",
            json={"to_user_id": bob.id, "amount": 40},
            headers=keyed("gift-1", alice.headers),
        )
        await hold(http, alice.id, "5.00")

        response = await http.get("/v1/admin/wallet/reconciliation", headers=finance.headers)

        assert response.status_code == 200, response.text
        report = response.json()
        assert report["clean"] is True
        assert report["differences"] == []
        assert report["transfers"] >= 6
        assert report["entries"] >= 10

    async def test_needs_the_reconcile_permission(
        self, http: httpx.AsyncClient, operator: Staff, customer_service: Staff
    ) -> None:
        for member in (operator, customer_service):
            response = await http.get("/v1/admin/wallet/reconciliation", headers=member.headers)

            assert_problem(response, 403, "permission_denied")


# --- staff (the admin console) ---------------------------------------------------------------

# Every staff route of the wallet, with ids that need not exist: the guard answers first.
STAFF_ROUTES = [
    ("POST", "/v1/admin/wallet/sponsors"),
    ("GET", "/v1/admin/wallet/sponsors/1"),
    ("POST", "/v1/admin/wallet/sponsors/1/status"),
    ("POST", "/v1/admin/wallet/adjustments"),
    ("GET", "/v1/admin/wallet/adjustments"),
    ("POST", "/v1/admin/wallet/adjustments/1/approve"),
    ("POST", "/v1/admin/wallet/adjustments/1/reject"),
    ("POST", "/v1/admin/wallet/withdrawals/1/paid"),
    ("POST", "/v1/admin/wallet/withdrawals/1/failed"),
    ("GET", "/v1/admin/wallet/reconciliation"),
    ("GET", "/v1/admin/wallet/users/1"),
]
STAFF_ROUTE_IDS = [f"{method} {path}" for method, path in STAFF_ROUTES]

# Where the staff routes were before they moved under /v1/admin.
OLD_STAFF_ROUTES = [
    ("POST", "/v1/wallet/sponsors"),
    ("POST", "/v1/wallet/sponsors/1/status"),
    ("POST", "/v1/wallet/adjustments"),
    ("GET", "/v1/wallet/adjustments"),
    ("POST", "/v1/wallet/adjustments/1/approve"),
    ("POST", "/v1/wallet/adjustments/1/reject"),
    ("POST", "/v1/wallet/withdrawals/1/paid"),
    ("POST", "/v1/wallet/withdrawals/1/failed"),
    ("GET", "/v1/wallet/reconciliation"),
]


async def call(
    http: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]
) -> httpx.Response:
    body: dict[str, Any] | None = {} if method == "POST" else None
    return await http.request(method, path, json=body, headers=headers)


class TestStaffRoutes:
    @pytest.mark.parametrize(("method", "path"), STAFF_ROUTES, ids=STAFF_ROUTE_IDS)
    async def test_anonymous_callers_are_refused(
        self, http: httpx.AsyncClient, method: str, path: str
    ) -> None:
        response = await call(http, method, path, {})

        assert_problem(response, 401, "token_missing")

    @pytest.mark.parametrize(("method", "path"), STAFF_ROUTES, ids=STAFF_ROUTE_IDS)
    async def test_a_service_credential_with_a_staff_header_is_refused(
        self, http: httpx.AsyncClient, method: str, path: str
    ) -> None:
        response = await call(http, method, path, {**SERVICE, "X-Staff-Id": "staff-1"})

        assert_problem(response, 401, "token_missing")

    @pytest.mark.parametrize(("method", "path"), STAFF_ROUTES, ids=STAFF_ROUTE_IDS)
    async def test_a_users_access_token_is_refused(
        self, http: httpx.AsyncClient, alice: Person, method: str, path: str
    ) -> None:
        response = await call(http, method, path, alice.headers)

        assert_problem(response, 401, "token_invalid")

    @pytest.mark.parametrize(("method", "path"), STAFF_ROUTES, ids=STAFF_ROUTE_IDS)
    async def test_a_staff_member_without_roles_is_denied(
        self, http: httpx.AsyncClient, application: FastAPI, method: str, path: str
    ) -> None:
        nobody = await staff_member(application)

        response = await call(http, method, path, nobody.headers)

        assert_problem(response, 403, "permission_denied")

    @pytest.mark.parametrize(("method", "path"), OLD_STAFF_ROUTES, ids=lambda v: str(v))
    async def test_the_old_paths_are_gone(
        self, http: httpx.AsyncClient, method: str, path: str
    ) -> None:
        response = await call(http, method, path, {**SERVICE, "X-Staff-Id": "staff-1"})

        assert response.status_code in {404, 405}, response.text

    async def test_viewing_a_users_wallet_needs_only_wallet_view(
        self, http: httpx.AsyncClient, application: FastAPI, alice: Person, customer_service: Staff
    ) -> None:
        await recharge(http, alice.id, "8.80")
        nobody = await staff_member(application)

        shown = await http.get(
            f"/v1/admin/wallet/users/{alice.id}", headers=customer_service.headers
        )
        denied = await http.get(f"/v1/admin/wallet/users/{alice.id}", headers=nobody.headers)

        assert shown.status_code == 200, shown.text
        assert {b["asset"]: b["balance"] for b in shown.json()["balances"]}["CNY"] == "8.80"
        assert_problem(denied, 403, "permission_denied")


PHONE = "13812348888"


class TestAdminLog:
    async def test_each_staff_action_is_logged_without_the_card_number_or_phone(
        self,
        http: httpx.AsyncClient,
        application: FastAPI,
        alice: Person,
        finance: Staff,
        second_finance: Staff,
        operator: Staff,
        customer_service: Staff,
    ) -> None:
        auditor = await staff_member(application, "super_admin")
        await recharge(http, alice.id, "50.00")
        payout = await add_bank_card(http, alice)
        to_pay = (await withdraw(http, alice, payout["id"], "20.00")).json()
        to_fail = (await withdraw(http, alice, payout["id"], "5.00")).json()
        expected: list[tuple[str, str, str, str | None, str | None, str]] = []

        async def act(
            member: Staff, method: str, path: str, body: Any = None, status: int = 200
        ) -> Any:
            response = await http.request(method, path, json=body, headers=member.headers)
            assert response.status_code == status, response.text
            return response.json()

        def logs(
            member: Staff, action: str, target: tuple[str, str] | None = None, result: str = "ok"
        ) -> None:
            target_type, target_id = target or (None, None)
            expected.append(
                (
                    str(member.id),
                    member.username,
                    f"wallet.{action}",
                    target_type,
                    target_id,
                    result,
                )
            )

        opened = {"name": "Acme", "sponsor_type": "ENTERPRISE", "contact": {"phone": PHONE}}
        sponsor = await act(operator, "POST", "/v1/admin/wallet/sponsors", opened, 201)
        logs(operator, "create_sponsor", ("sponsor", sponsor["id"]))
        await act(
            operator,
            "POST",
            f"/v1/admin/wallet/sponsors/{sponsor['id']}/status",
            {"status": "SUSPENDED"},
        )
        logs(operator, "set_sponsor_status", ("sponsor", sponsor["id"]))
        await act(customer_service, "GET", f"/v1/admin/wallet/sponsors/{sponsor['id']}")
        logs(customer_service, "staff_get_sponsor", ("sponsor", sponsor["id"]))

        filed = await file_adjustment(
            http, finance, alice.id, 500, reason=f"called {PHONE} about card {CARD}"
        )
        logs(finance, "file_adjustment", ("adjustment", filed["id"]))
        approve = f"/v1/admin/wallet/adjustments/{filed['id']}/approve"
        await act(finance, "POST", approve, {"remark": f"mine, {CARD}"}, 403)
        logs(finance, "approve_adjustment", ("adjustment", filed["id"]), "self_approval_refused")
        await act(customer_service, "POST", approve, {"remark": f"call {PHONE}"}, 403)
        logs(customer_service, "approve_adjustment", ("adjustment", filed["id"]), "denied")
        await act(second_finance, "POST", approve, {"remark": f"checked with {PHONE}"})
        logs(second_finance, "approve_adjustment", ("adjustment", filed["id"]))
        other = await file_adjustment(http, finance, alice.id, 100)
        logs(finance, "file_adjustment", ("adjustment", other["id"]))
        await act(
            second_finance,
            "POST",
            f"/v1/admin/wallet/adjustments/{other['id']}/reject",
            {"remark": f"card {CARD} is not hers"},
        )
        logs(second_finance, "reject_adjustment", ("adjustment", other["id"]))
        await act(finance, "GET", "/v1/admin/wallet/adjustments")
        logs(finance, "list_adjustments")

        await act(
            finance,
            "POST",
            f"/v1/admin/wallet/withdrawals/{to_pay['id']}/paid",
            {"remark": f"paid to {CARD}"},
        )
        logs(finance, "withdrawal_paid", ("withdrawal", to_pay["id"]))
        await act(
            finance,
            "POST",
            f"/v1/admin/wallet/withdrawals/{to_fail['id']}/failed",
            {"remark": f"bank refused {CARD}, told {PHONE}"},
        )
        logs(finance, "withdrawal_failed", ("withdrawal", to_fail["id"]))
        await act(finance, "GET", f"/v1/admin/wallet/users/{alice.id}")
        logs(finance, "staff_user_wallet", ("user", str(alice.id)))
        await act(finance, "GET", "/v1/admin/wallet/reconciliation")
        logs(finance, "reconciliation")

        response = await http.get(
            "/v1/admin/audit-log", params={"limit": 100}, headers=auditor.headers
        )

        assert response.status_code == 200, response.text
        logged = [
            (
                e["staff_id"],
                e["username"],
                e["action"],
                e["target_type"],
                e["target_id"],
                e["result"],
            )
            for e in reversed(response.json()["items"])
            if e["module"] == "wallet"
        ]
        assert logged == expected
        assert CARD not in response.text
        assert PHONE not in response.text
        assert "6222****1234" in response.text
        assert "138****8888" in response.text


# --- issue 11: who may be paid, ids past a BIGINT, answers and messages ------------------------

NO_SUCH_USER = 987_654_321
BEYOND_BIGINT = [2**63, 2**64]


async def accounts_of(application: FastAPI, user_id: int) -> list[object]:
    """The wallet account rows made for the user."""
    async with state_of(application).database.read_session() as session:
        return list(await repository.accounts_of(session, f"user:{user_id}"))


async def disable(application: FastAPI, user_id: int) -> None:
    identity = state_of(application).identity
    async with state_of(application).database.unit_of_work() as session:
        await identity.disable_user(session, user_id)


def money_calls(user_id: int) -> list[tuple[str, dict[str, Any]]]:
    """Every service call that names a user, as (path, body)."""
    return [
        (
            "/v1/wallet/recharges",
            {
                "user_id": user_id,
                "amount": "10.00",
                "channel": "wechatpay",
                "payment_id": unique("wx"),
            },
        ),
        (
            "/v1/wallet/grants",
            {"user_id": user_id, "asset": "COIN_GIVE", "kind": "GIFT", "amount": 5},
        ),
        ("/v1/wallet/debits", {"user_id": user_id, "asset": "CNY", "amount": "1.00"}),
        ("/v1/wallet/coin-spends", {"user_id": user_id, "amount": 1}),
        ("/v1/wallet/holds", {"user_id": user_id, "asset": "CNY", "amount": "1.00"}),
        ("/v1/wallet/vip-purchases", {"user_id": user_id, "price": "1.00", "days": 30}),
    ]


class TestOnlyExistingActiveUsers:
    @pytest.mark.parametrize("call", range(6), ids=lambda i: str(i))
    async def test_money_for_a_user_that_does_not_exist_is_refused_and_writes_nothing(
        self, http: httpx.AsyncClient, application: FastAPI, call: int
    ) -> None:
        path, body = money_calls(NO_SUCH_USER)[call]

        response = await http.post(path, json=body, headers=keyed(unique("nobody")))

        assert_problem(response, 404, "user_not_found", field="user_id")
        assert await accounts_of(application, NO_SUCH_USER) == []

    @pytest.mark.parametrize("call", range(6), ids=lambda i: str(i))
    async def test_money_for_a_disabled_user_is_refused(
        self, http: httpx.AsyncClient, application: FastAPI, call: int
    ) -> None:
        user = await make_user(state_of(application).wallet)
        await disable(application, user)
        path, body = money_calls(user)[call]

        response = await http.post(path, json=body, headers=keyed(unique("disabled")))

        assert_problem(response, 404, "user_not_found", field="user_id")
        assert await accounts_of(application, user) == []

    async def test_a_sponsor_charge_for_a_user_that_does_not_exist_is_refused(
        self, http: httpx.AsyncClient, operator: Staff
    ) -> None:
        sponsor = await open_sponsor(http, operator)
        await fund(http, sponsor["id"], "10.00")

        response = await charge(http, sponsor["id"], "1.00", user_id=NO_SUCH_USER)

        assert_problem(response, 404, "user_not_found", field="user_id")

    async def test_balances_of_a_user_that_does_not_exist_are_not_found(
        self, http: httpx.AsyncClient, customer_service: Staff
    ) -> None:
        by_service = await http.get(f"/v1/wallet/users/{NO_SUCH_USER}", headers=SERVICE)
        by_staff = await http.get(
            f"/v1/admin/wallet/users/{NO_SUCH_USER}", headers=customer_service.headers
        )

        assert_problem(by_service, 404, "user_not_found", field="user_id")
        assert_problem(by_staff, 404, "user_not_found", field="user_id")

    async def test_a_disabled_users_balances_still_show_to_staff(
        self, http: httpx.AsyncClient, application: FastAPI, alice: Person, finance: Staff
    ) -> None:
        await recharge(http, alice.id, "3.00")
        await disable(application, alice.id)

        response = await http.get(f"/v1/admin/wallet/users/{alice.id}", headers=finance.headers)

        assert response.status_code == 200, response.text
        assert {b["asset"]: b["balance"] for b in response.json()["balances"]}["CNY"] == "3.00"

    async def test_an_adjustment_for_a_user_that_does_not_exist_is_refused(
        self, http: httpx.AsyncClient, finance: Staff
    ) -> None:
        response = await http.post(
            "/v1/admin/wallet/adjustments",
            json={
                "user_id": NO_SUCH_USER,
                "asset": "CNY",
                "amount": 100,
                "adjustment_type": "COMPENSATION",
                "reason": "test",
            },
            headers=finance.headers,
        )

        assert_problem(response, 404, "user_not_found", field="user_id")

    async def test_a_hold_on_a_sponsor_that_does_not_exist_is_refused(
        self, http: httpx.AsyncClient, application: FastAPI
    ) -> None:
        response = await http.post(
            "/v1/wallet/holds",
            json={"sponsor_id": NO_SUCH_USER, "asset": "CNY", "amount": "1.00"},
            headers=keyed(unique("hold")),
        )

        assert_problem(response, 404, "sponsor_not_found", field="sponsor_id")
        wallet = state_of(application).wallet
        assert (await wallet.balances(f"sponsor:{NO_SUCH_USER}"))[0].balance == 0

    async def test_a_closed_sponsor_takes_no_funding(
        self, http: httpx.AsyncClient, operator: Staff
    ) -> None:
        sponsor = await open_sponsor(http, operator)
        closed = await http.post(
            f"/v1/admin/wallet/sponsors/{sponsor['id']}/status",
            json={"status": "CLOSED"},
            headers=operator.headers,
        )
        assert closed.status_code == 200, closed.text

        response = await fund(http, sponsor["id"], "10.00")

        assert_problem(response, 409, "sponsor_inactive", field="sponsor_id")


def beyond_bigint_bodies(big: int) -> list[tuple[str, dict[str, Any], str]]:
    """(path, body, the field at fault) of every body field that holds an id or a count."""
    return [
        *[(path, {**body, "user_id": big}, "user_id") for path, body in money_calls(1)],
        ("/v1/wallet/refunds", {"transfer_id": big, "amount": "1.00"}, "transfer_id"),
        ("/v1/wallet/holds", {"sponsor_id": big, "asset": "CNY", "amount": "1"}, "sponsor_id"),
        ("/v1/wallet/coin-spends", {"user_id": 1, "amount": big}, "amount"),
        (
            "/v1/wallet/recharges",
            {
                "user_id": 1,
                "amount": "1.00",
                "channel": "wechatpay",
                "payment_id": "wx-1",
                "bonus_give_coins": big,
            },
            "bonus_give_coins",
        ),
    ]


def beyond_bigint_paths(big: int) -> list[tuple[str, str, str]]:
    """(method, path, the field at fault) of every service route with an id in its path."""
    return [
        ("POST", f"/v1/wallet/holds/{big}/capture", "hold_id"),
        ("POST", f"/v1/wallet/holds/{big}/release", "hold_id"),
        ("GET", f"/v1/wallet/users/{big}", "user_id"),
        ("GET", f"/v1/wallet/sponsors/{big}", "sponsor_id"),
        ("POST", f"/v1/wallet/sponsors/{big}/fundings", "sponsor_id"),
        ("POST", f"/v1/wallet/sponsors/{big}/charges", "sponsor_id"),
    ]


class TestIdsBeyondBigint:
    @pytest.mark.parametrize("big", BEYOND_BIGINT, ids=["2^63", "2^64"])
    async def test_a_body_id_past_a_bigint_is_refused_naming_it(
        self, http: httpx.AsyncClient, big: int
    ) -> None:
        for path, body, field in beyond_bigint_bodies(big):
            response = await http.post(path, json=body, headers=keyed(unique("big")))

            assert_problem(response, 422, "validation_failed", field=field)

    @pytest.mark.parametrize("big", BEYOND_BIGINT, ids=["2^63", "2^64"])
    async def test_a_path_id_past_a_bigint_is_refused_naming_it(
        self, http: httpx.AsyncClient, big: int
    ) -> None:
        body = {"amount": "1.00", "channel": "alipay", "payment_id": "ali-1"}
        for method, path, field in beyond_bigint_paths(big):
            response = await http.request(
                method,
                path,
                json=body if method == "POST" else None,
                headers=keyed(unique("big")),
            )

            assert_problem(response, 422, "validation_failed", field=field)

    async def test_the_users_own_ids_past_a_bigint_are_refused(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        headers = {**alice.headers, "Idempotency-Key": unique("big")}
        transfer = await http.post(
            "/v1/me/wallet/transfers", json={"to_user_id": 2**63, "amount": 1}, headers=headers
        )
        withdrawal = await http.post(
            "/v1/me/wallet/withdrawals",
            json={"payout_account_id": 2**64, "amount": "1.00"},
            headers=headers,
        )
        removal = await http.delete(f"/v1/me/wallet/payout-accounts/{2**63}", headers=alice.headers)

        assert_problem(transfer, 422, "validation_failed", field="to_user_id")
        assert_problem(withdrawal, 422, "validation_failed", field="payout_account_id")
        assert_problem(removal, 422, "validation_failed", field="payout_account_id")

    async def test_staff_ids_past_a_bigint_are_refused(
        self, http: httpx.AsyncClient, finance: Staff, operator: Staff
    ) -> None:
        big = 2**63
        calls = [
            (finance, "GET", f"/v1/admin/wallet/users/{big}", None, "user_id"),
            (operator, "GET", f"/v1/admin/wallet/sponsors/{big}", None, "sponsor_id"),
            (
                operator,
                "POST",
                f"/v1/admin/wallet/sponsors/{big}/status",
                {"status": "CLOSED"},
                "sponsor_id",
            ),
            (finance, "POST", f"/v1/admin/wallet/adjustments/{big}/approve", {}, "adjustment_id"),
            (finance, "POST", f"/v1/admin/wallet/adjustments/{big}/reject", {}, "adjustment_id"),
            (finance, "POST", f"/v1/admin/wallet/withdrawals/{big}/paid", {}, "withdrawal_id"),
            (finance, "POST", f"/v1/admin/wallet/withdrawals/{big}/failed", {}, "withdrawal_id"),
            (
                finance,
                "POST",
                "/v1/admin/wallet/adjustments",
                {
                    "user_id": big,
                    "asset": "CNY",
                    "amount": 1,
                    "adjustment_type": "COMPENSATION",
                    "reason": "x",
                },
                "user_id",
            ),
            (
                finance,
                "POST",
                "/v1/admin/wallet/adjustments",
                {
                    "user_id": 1,
                    "asset": "CNY",
                    "amount": -(2**64),
                    "adjustment_type": "COMPENSATION",
                    "reason": "x",
                },
                "amount",
            ),
        ]
        for staff, method, path, body, field in calls:
            response = await http.request(method, path, json=body, headers=staff.headers)

            assert_problem(response, 422, "validation_failed", field=field)

    @pytest.mark.parametrize("value", [2**63, 2**64, 0, -1])
    async def test_a_cursor_naming_an_id_no_bigint_holds_is_refused(
        self, http: httpx.AsyncClient, alice: Person, value: int
    ) -> None:
        cursor = base64.urlsafe_b64encode(f"v1:{value}".encode()).decode().rstrip("=")

        response = await http.get(
            "/v1/me/wallet/entries", params={"cursor": cursor}, headers=alice.headers
        )

        assert_problem(response, 422, "validation_failed", field="cursor")


class TestBalanceLimit:
    async def test_a_recharge_past_the_limit_is_refused_and_moves_nothing(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "9999999999999.00")  # 10^15 fen less 100

        response = await http.post(
            "/v1/wallet/recharges",
            json={
                "user_id": alice.id,
                "amount": "1.01",
                "channel": "wechatpay",
                "payment_id": unique("wx"),
            },
            headers=SERVICE,
        )

        problem = assert_problem(response, 409, "balance_limit_exceeded", field="amount")
        assert "10000000000000.00" in problem["detail"]
        assert (await balance(http, alice, "CNY"))["balance"] == "9999999999999.00"
        assert (await recharge(http, alice.id, "1.00"))["balance_after"] == "10000000000000.00"

    async def test_bonus_coins_past_the_limit_are_refused(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        response = await http.post(
            "/v1/wallet/recharges",
            json={
                "user_id": alice.id,
                "amount": "1.00",
                "channel": "wechatpay",
                "payment_id": unique("wx"),
                "bonus_give_coins": 2**63 - 1,
            },
            headers=SERVICE,
        )

        assert_problem(response, 409, "balance_limit_exceeded")
        assert (await balance(http, alice, "CNY"))["balance"] == "0.00"


class TestAnswersSayWhatHappened:
    async def test_a_refund_shows_its_amount_as_money(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "20.00")
        paid = await debit(http, alice.id, "15.00")

        response = await refund(http, paid["transfer_id"], "10.00")

        assert response.status_code == 200, response.text
        assert response.json()["amount"] == "10.00"
        assert [leg["amount"] for leg in response.json()["legs"]] == ["10.00"]

    async def test_a_coin_refund_shows_whole_coins(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, 100, asset="COIN_RECHARGE")
        spent = await http.post(
            "/v1/wallet/coin-spends",
            json={"user_id": alice.id, "amount": 30},
            headers=keyed(unique("spend")),
        )

        response = await refund(http, spent.json()["transfer_id"], "12")

        assert response.status_code == 200, response.text
        assert response.json()["amount"] == "12"

    async def test_a_second_capture_without_a_key_is_already_resolved(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "10.00")
        held = await hold(http, alice.id, "5.00")
        capture = f"/v1/wallet/holds/{held['hold_id']}/capture"
        first = await http.post(capture, json={"amount": "2.00"}, headers=SERVICE)
        assert first.status_code == 200, first.text

        again = await http.post(capture, json={"amount": "3.00"}, headers=SERVICE)

        problem = assert_problem(again, 409, "hold_already_resolved", field="hold_id")
        assert problem["detail"] == "该冻结已扣款，不能再处理"
        assert (await balance(http, alice, "CNY"))["balance"] == "8.00"

    async def test_a_cash_transfer_is_refused_as_cash(
        self, http: httpx.AsyncClient, alice: Person, bob: Person
    ) -> None:
        await recharge(http, alice.id, "10.00")

        response = await http.post(
            "/v1/me/wallet/transfers",
            json={"to_user_id": bob.id, "amount": 100, "asset": "CNY"},
            headers={**alice.headers, "Idempotency-Key": unique("t"), "Accept-Language": "en"},
        )

        problem = assert_problem(response, 422, "cash_not_transferable", field="asset")
        assert "Cash" in problem["detail"]
        assert "give" not in problem["title"].lower()


def alipay(account: str) -> dict[str, str]:
    return {"kind": "ALIPAY", "real_name": "张三", "account": account}


class TestPayoutAccountRules:
    async def test_no_more_than_the_limit_per_user(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        for n in range(10):
            added = await http.post(
                "/v1/me/wallet/payout-accounts",
                json=alipay(f"payee{n}@example.com"),
                headers=alice.headers,
            )
            assert added.status_code == 201, added.text

        response = await http.post(
            "/v1/me/wallet/payout-accounts",
            json=alipay("payee10@example.com"),
            headers=alice.headers,
        )

        problem = assert_problem(response, 409, "payout_account_limit_reached")
        assert "10" in problem["detail"]
        listed = await http.get("/v1/me/wallet/payout-accounts", headers=alice.headers)
        assert len(listed.json()) == 10

    async def test_a_removed_account_makes_room(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        ids = []
        for n in range(10):
            added = await http.post(
                "/v1/me/wallet/payout-accounts",
                json=alipay(f"payee{n}@example.com"),
                headers=alice.headers,
            )
            ids.append(added.json()["id"])
        await http.delete(f"/v1/me/wallet/payout-accounts/{ids[0]}", headers=alice.headers)

        response = await http.post(
            "/v1/me/wallet/payout-accounts",
            json=alipay("payee10@example.com"),
            headers=alice.headers,
        )

        assert response.status_code == 201, response.text

    @pytest.mark.parametrize(
        "account",
        ["not an account", "12345", "+1 415 555 0100", "02012345678", "a@b", "@example.com"],
    )
    async def test_an_alipay_account_is_a_mainland_mobile_or_an_email(
        self, http: httpx.AsyncClient, alice: Person, account: str
    ) -> None:
        response = await http.post(
            "/v1/me/wallet/payout-accounts", json=alipay(account), headers=alice.headers
        )

        assert_problem(response, 422, "alipay_account_invalid", field="account")

    @pytest.mark.parametrize(
        ("account", "shown"),
        [("13800138000", "138****8000"), ("+86 138 0013 8001", "138****8001")],
    )
    async def test_a_mainland_mobile_is_an_alipay_account(
        self, http: httpx.AsyncClient, alice: Person, account: str, shown: str
    ) -> None:
        response = await http.post(
            "/v1/me/wallet/payout-accounts", json=alipay(account), headers=alice.headers
        )

        assert response.status_code == 201, response.text
        assert response.json()["masked"]["alipay_code"] == shown


class TestMessagesInOneLanguage:
    async def test_an_invalid_amount_reads_wholly_in_chinese(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        response = await http.post(
            "/v1/wallet/debits",
            json={"user_id": alice.id, "asset": "CNY", "amount": "1.001"},
            headers={**keyed(unique("debit")), "Accept-Language": "zh-CN"},
        )

        problem = assert_problem(response, 422, "amount_invalid", field="amount")
        assert not re.search("[A-Za-z]", problem["detail"]), problem
        assert not re.search("[A-Za-z]", problem["errors"][0]["message"]), problem

    async def test_an_amount_that_is_not_a_string_or_number_reads_in_chinese(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        response = await http.post(
            "/v1/wallet/debits",
            json={"user_id": alice.id, "asset": "CNY", "amount": True},
            headers={**keyed(unique("debit")), "Accept-Language": "zh-CN"},
        )

        problem = assert_problem(response, 422, "validation_failed", field="amount")
        assert not re.search("[A-Za-z]", problem["errors"][0]["message"]), problem

    async def test_a_resolved_hold_reads_wholly_in_each_language(
        self, http: httpx.AsyncClient, alice: Person
    ) -> None:
        await recharge(http, alice.id, "10.00")
        held = await hold(http, alice.id, "5.00")
        release = f"/v1/wallet/holds/{held['hold_id']}/release"
        await http.post(release, headers=keyed(unique("r")))

        shown = {}
        for language in ("en", "zh-CN"):
            response = await http.post(
                f"/v1/wallet/holds/{held['hold_id']}/capture",
                json={},
                headers={**keyed(unique("c")), "Accept-Language": language},
            )
            shown[language] = assert_problem(response, 409, "hold_already_resolved")["detail"]

        assert shown == {"en": "This hold is already released", "zh-CN": "该冻结已释放，不能再处理"}
