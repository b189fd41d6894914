"""Payment tickets in front of the wallet, on each database: with a payment password set,
transfers, withdrawals and payout-account changes need a ticket for that very action and
amount, spent once, refused before anything moves; without one (and the setting off) nothing
changes for the user."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import MovableClock
from tests.profile.payment_helpers import Payer, log_in_payer, set_payment_password, ticket_for
from tests.wallet.test_api import (  # noqa: F401
    BANK_CARD,
    application,
    assert_problem,
    http,
    keyed,
    recharge,
    unique,
)

TRANSFERS = "/v1/me/wallet/transfers"


@pytest.fixture
async def payer(application: FastAPI) -> Payer:  # noqa: F811
    return await log_in_payer(application)


@pytest.fixture
async def payee(application: FastAPI) -> Payer:  # noqa: F811
    return await log_in_payer(application)


async def coins_of(http: httpx.AsyncClient, person: Payer) -> str:  # noqa: F811
    response = await http.get("/v1/me/wallet", headers=person.headers)
    assert response.status_code == 200, response.text
    for shown in response.json()["balances"]:
        if shown["asset"] == "COIN_RECHARGE":
            return str(shown["balance"])
    return "0"


async def cash_of(http: httpx.AsyncClient, person: Payer) -> dict[str, Any]:  # noqa: F811
    response = await http.get("/v1/me/wallet", headers=person.headers)
    for shown in response.json()["balances"]:
        if shown["asset"] == "CNY":
            return {k: shown[k] for k in ("balance", "frozen")}
    raise AssertionError("no CNY")


async def transfer(
    http: httpx.AsyncClient,  # noqa: F811
    payer: Payer,
    payee: Payer,
    amount: int,
    ticket: str | None = None,
    key: str | None = None,
) -> httpx.Response:
    headers = keyed(key or unique("gift"), payer.headers)
    if ticket is not None:
        headers["X-Payment-Ticket"] = ticket
    return await http.post(
        TRANSFERS, json={"to_user_id": payee.id, "amount": amount}, headers=headers
    )


class TestTransfers:
    async def test_without_a_ticket_nothing_moves(
        self,
        application: FastAPI,  # noqa: F811
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
        payee: Payer,
    ) -> None:
        await recharge(http, payer.id, 50, asset="COIN_RECHARGE")
        await set_payment_password(application, http, payer)

        response = await transfer(http, payer, payee, 20)

        assert_problem(response, 403, "payment_ticket_required", field="X-Payment-Ticket")
        assert await coins_of(http, payer) == "50"
        assert await coins_of(http, payee) == "0"

    async def test_a_ticket_works_once(
        self,
        application: FastAPI,  # noqa: F811
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
        payee: Payer,
    ) -> None:
        await recharge(http, payer.id, 50, asset="COIN_RECHARGE")
        await set_payment_password(application, http, payer)
        ticket = await ticket_for(http, payer, "wallet.transfer", 20)

        first = await transfer(http, payer, payee, 20, ticket)
        again = await transfer(http, payer, payee, 20, ticket)

        assert first.status_code == 200, first.text
        assert_problem(again, 403, "payment_ticket_invalid")
        assert await coins_of(http, payer) == "30"
        assert await coins_of(http, payee) == "20"

    async def test_a_retry_of_the_same_call_may_present_its_ticket_again(
        self,
        application: FastAPI,  # noqa: F811
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
        payee: Payer,
    ) -> None:
        await recharge(http, payer.id, 50, asset="COIN_RECHARGE")
        await set_payment_password(application, http, payer)
        ticket = await ticket_for(http, payer, "wallet.transfer", 20)

        first = await transfer(http, payer, payee, 20, ticket, key="gift-retry")
        retry = await transfer(http, payer, payee, 20, ticket, key="gift-retry")

        assert retry.status_code == 200, retry.text
        assert retry.json()["transfer_id"] == first.json()["transfer_id"]
        assert await coins_of(http, payer) == "30"

    @pytest.mark.parametrize(
        ("action", "amount"),
        [("wallet.transfer", 21), ("wallet.transfer", "19.99"), ("wallet.withdrawal", 20)],
    )
    async def test_a_ticket_for_another_action_or_amount_is_refused(
        self,
        application: FastAPI,  # noqa: F811
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
        payee: Payer,
        action: str,
        amount: str | int,
    ) -> None:
        await recharge(http, payer.id, 50, asset="COIN_RECHARGE")
        await set_payment_password(application, http, payer)
        ticket = await ticket_for(http, payer, action, amount)

        response = await transfer(http, payer, payee, 20, ticket)

        assert_problem(response, 403, "payment_ticket_invalid")
        assert await coins_of(http, payer) == "50"

    async def test_a_ticket_of_another_user_is_refused(
        self,
        application: FastAPI,  # noqa: F811
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
        payee: Payer,
    ) -> None:
        await recharge(http, payer.id, 50, asset="COIN_RECHARGE")
        await set_payment_password(application, http, payer)
        await set_payment_password(application, http, payee)
        theirs = await ticket_for(http, payee, "wallet.transfer", 20)

        response = await transfer(http, payer, payee, 20, theirs)

        assert_problem(response, 403, "payment_ticket_invalid")
        assert await coins_of(http, payer) == "50"

    async def test_an_expired_ticket_is_refused(
        self,
        application: FastAPI,  # noqa: F811
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
        payee: Payer,
        moved_clock: MovableClock,
    ) -> None:
        await recharge(http, payer.id, 50, asset="COIN_RECHARGE")
        await set_payment_password(application, http, payer)
        ticket = await ticket_for(http, payer, "wallet.transfer", 20)
        moved_clock.advance(301)

        response = await transfer(http, payer, payee, 20, ticket)

        assert_problem(response, 403, "payment_ticket_invalid")
        assert await coins_of(http, payer) == "50"

    async def test_of_two_parallel_spends_one_wins(
        self,
        application: FastAPI,  # noqa: F811
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
        payee: Payer,
    ) -> None:
        await recharge(http, payer.id, 50, asset="COIN_RECHARGE")
        await set_payment_password(application, http, payer)
        ticket = await ticket_for(http, payer, "wallet.transfer", 20)

        answers = await asyncio.gather(
            *(transfer(http, payer, payee, 20, ticket) for _ in range(2))
        )

        assert sorted(a.status_code for a in answers) == [200, 403]
        assert await coins_of(http, payer) == "30"
        assert await coins_of(http, payee) == "20"

    async def test_no_ticket_is_needed_without_a_payment_password(
        self,
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
        payee: Payer,
    ) -> None:
        await recharge(http, payer.id, 50, asset="COIN_RECHARGE")

        response = await transfer(http, payer, payee, 20)

        assert response.status_code == 200, response.text
        assert await coins_of(http, payee) == "20"

    async def test_the_setting_requires_a_ticket_of_everyone(
        self,
        application: FastAPI,  # noqa: F811
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
        payee: Payer,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        await recharge(http, payer.id, 50, asset="COIN_RECHARGE")
        tickets = application.state.services.payment_tickets
        monkeypatch.setattr(tickets, "required_for_everyone", True)

        response = await transfer(http, payer, payee, 20)

        assert_problem(response, 403, "payment_ticket_required")
        assert await coins_of(http, payer) == "50"


class TestWithdrawalsAndPayoutAccounts:
    async def test_each_needs_its_own_ticket(
        self,
        application: FastAPI,  # noqa: F811
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
    ) -> None:
        await recharge(http, payer.id, "50.00")
        await set_payment_password(application, http, payer)

        refused = await http.post(
            "/v1/me/wallet/payout-accounts", json=BANK_CARD, headers=payer.headers
        )
        assert_problem(refused, 403, "payment_ticket_required")
        ticket = await ticket_for(http, payer, "wallet.payout_account")
        added = await http.post(
            "/v1/me/wallet/payout-accounts",
            json=BANK_CARD,
            headers={**payer.headers, "X-Payment-Ticket": ticket},
        )
        assert added.status_code == 201, added.text
        payout_id = added.json()["id"]
        body = {"payout_account_id": int(payout_id), "amount": "20.00"}

        without = await http.post(
            "/v1/me/wallet/withdrawals", json=body, headers=keyed(unique("w"), payer.headers)
        )
        wrong_amount = await http.post(
            "/v1/me/wallet/withdrawals",
            json=body,
            headers={
                **keyed(unique("w"), payer.headers),
                "X-Payment-Ticket": await ticket_for(http, payer, "wallet.withdrawal", "20.01"),
            },
        )
        assert_problem(without, 403, "payment_ticket_required")
        assert_problem(wrong_amount, 403, "payment_ticket_invalid")
        assert await cash_of(http, payer) == {"balance": "50.00", "frozen": "0.00"}

        applied = await http.post(
            "/v1/me/wallet/withdrawals",
            json=body,
            headers={
                **keyed(unique("w"), payer.headers),
                "X-Payment-Ticket": await ticket_for(http, payer, "wallet.withdrawal", "20"),
            },
        )
        assert applied.status_code == 201, applied.text
        assert (await cash_of(http, payer))["frozen"] == "20.00"

        remove = f"/v1/me/wallet/payout-accounts/{payout_id}"
        refused_removal = await http.delete(remove, headers=payer.headers)
        assert_problem(refused_removal, 403, "payment_ticket_required")
        removed = await http.delete(
            remove,
            headers={
                **payer.headers,
                "X-Payment-Ticket": await ticket_for(http, payer, "wallet.payout_account"),
            },
        )
        assert removed.status_code == 204, removed.text

    async def test_no_ticket_is_needed_without_a_payment_password(
        self,
        http: httpx.AsyncClient,  # noqa: F811
        payer: Payer,
    ) -> None:
        await recharge(http, payer.id, "50.00")

        added = await http.post(
            "/v1/me/wallet/payout-accounts", json=BANK_CARD, headers=payer.headers
        )
        applied = await http.post(
            "/v1/me/wallet/withdrawals",
            json={"payout_account_id": int(added.json()["id"]), "amount": "20.00"},
            headers=keyed(unique("w"), payer.headers),
        )

        assert added.status_code == 201, added.text
        assert applied.status_code == 201, applied.text
