"""The staff's wallet lists (the console's pages): a user's and a sponsor's entries, sponsors,
the withdrawal queue, page by page; adjustments naming who filed and who decided."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.access.conftest import client_for, make_role, make_staff, staff_login
from tests.wallet.conftest import make_user, started, state_of, top_up
from usercenter.wallet.models import SystemAccount

CARD = "6222020000031234"
ID_CARD = "440101199001031234"


@pytest.fixture
async def application(database_url: str, db: object) -> AsyncIterator[FastAPI]:
    """Staff log in with a password alone: what is tested here is the lists, not the login."""
    async for started_app in started(database_url, staff_totp_required=False):
        yield started_app
        report = await state_of(started_app).wallet.reconcile()
        assert report.is_clean, report.differences


async def staff_headers(application: FastAPI, role: str) -> dict[str, str]:
    _, username = await make_staff(application, role)
    async with client_for(application) as http:
        response = await staff_login(http, username)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def all_pages(
    http: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    """Every item of a keyset list, two at a time."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await http.get(path, params=query, headers=headers)
        assert response.status_code == 200, response.text
        items.extend(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items


async def withdraw(application: FastAPI, user_id: int, amount: int) -> int:
    """A withdrawal of `amount` fen to the user's bank card (saved at the first one)."""
    wallet = state_of(application).wallet
    saved = await wallet.payout_accounts(user_id)
    payout = saved[0] if saved else None
    if payout is None:
        payout = await wallet.add_bank_card(
            user_id=user_id,
            real_name="张三",
            bank_name="工商银行",
            card_number=CARD,
            id_card=ID_CARD,
        )
    _, withdrawal = await wallet.apply_withdrawal(
        user_id=user_id, payout_account_id=payout.id, amount=amount, key=f"w-{user_id}-{amount}"
    )
    return withdrawal.id


class TestUserEntries:
    async def test_pages_newest_first_and_filters_by_asset(self, application: FastAPI) -> None:
        wallet = state_of(application).wallet
        user = await make_user(application)
        for amount in (100, 200, 300):
            await top_up(wallet, user, "CNY", amount)
        await top_up(wallet, user, "POINTS", 7)
        headers = await staff_headers(application, "finance")
        async with client_for(application) as http:
            path = f"/v1/admin/wallet/users/{user}/entries"
            entries = await all_pages(http, path, headers)
            cash = await all_pages(http, path, headers, asset="CNY")
            missing = await http.get("/v1/admin/wallet/users/999999/entries", headers=headers)
        assert [e["amount"] for e in entries] == ["7", "3.00", "2.00", "1.00"]
        assert [e["amount"] for e in cash] == ["3.00", "2.00", "1.00"]
        assert missing.status_code == 404
        assert missing.json()["code"] == "user_not_found"


class TestSponsors:
    async def test_sponsors_with_balances_and_their_entries(self, application: FastAPI) -> None:
        wallet = state_of(application).wallet
        made = []
        for name in ("Acme", "Globex", "Initech"):
            sponsor = await wallet.create_sponsor(
                name=name, sponsor_type="ENTERPRISE", contact=None, operator_id="staff-1"
            )
            made.append(sponsor.id)
        await wallet.fund_sponsor(
            sponsor_id=made[0],
            amount=5000,
            channel=SystemAccount.EXTERNAL_ALIPAY,
            payment_id="ali-acme",
        )
        await wallet.set_sponsor_status(sponsor_id=made[2], status="SUSPENDED")
        headers = await staff_headers(application, "operator")
        async with client_for(application) as http:
            listed = await all_pages(http, "/v1/admin/wallet/sponsors", headers)
            suspended = await all_pages(
                http, "/v1/admin/wallet/sponsors", headers, status="SUSPENDED"
            )
            entries = await all_pages(http, f"/v1/admin/wallet/sponsors/{made[0]}/entries", headers)
            unknown = await http.get("/v1/admin/wallet/sponsors/42/entries", headers=headers)
            bad = await http.get("/v1/admin/wallet/sponsors?status=GONE", headers=headers)
        assert [s["name"] for s in listed] == ["Initech", "Globex", "Acme"]
        assert listed[2]["balance"]["balance"] == "50.00"
        assert listed[1]["balance"]["balance"] == "0.00"
        assert [s["id"] for s in suspended] == [str(made[2])]
        assert [(e["kind"], e["amount"]) for e in entries] == [("SPONSOR_FUND", "50.00")]
        assert unknown.status_code == 404
        assert unknown.json()["code"] == "sponsor_not_found"
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "status"


class TestWithdrawalQueue:
    async def test_filters_by_status_and_user(self, application: FastAPI) -> None:
        wallet = state_of(application).wallet
        alice, bob = await make_user(application), await make_user(application)
        await top_up(wallet, alice, "CNY", 10_000)
        await top_up(wallet, bob, "CNY", 10_000)
        first = await withdraw(application, alice, 1000)
        second = await withdraw(application, bob, 2000)
        third = await withdraw(application, alice, 3000)
        await wallet.settle_withdrawal(withdrawal_id=first, paid=True, handler_id="77", remark=None)
        headers = await staff_headers(application, "finance")
        async with client_for(application) as http:
            path = "/v1/admin/wallet/withdrawals"
            everything = await all_pages(http, path, headers)
            pending = await all_pages(http, path, headers, status="PENDING")
            of_alice = await all_pages(http, path, headers, user_id=alice)
            paid = await all_pages(http, path, headers, status="PAID", user_id=alice)
        assert [w["id"] for w in everything] == [str(third), str(second), str(first)]
        assert [w["id"] for w in pending] == [str(third), str(second)]
        assert {w["user_id"] for w in of_alice} == {str(alice)}
        assert [(w["id"], w["handler_id"]) for w in paid] == [(str(first), "77")]
        assert CARD not in str(everything)

    async def test_needs_wallet_view(self, application: FastAPI) -> None:
        headers = await staff_headers(application, "customer_service")
        nobody = await staff_headers(application, await make_role(application, "audit:view"))
        async with client_for(application) as http:
            allowed = await http.get("/v1/admin/wallet/withdrawals", headers=headers)
            refused = await http.get("/v1/admin/wallet/withdrawals", headers=nobody)
        assert allowed.status_code == 200
        assert refused.status_code == 403


class TestAdjustmentList:
    async def test_items_name_who_filed_and_who_decided(self, application: FastAPI) -> None:
        user = await make_user(application)
        applicant, approver = (
            await staff_headers(application, "finance"),
            await staff_headers(application, "finance"),
        )
        async with client_for(application) as http:
            filed = await http.post(
                "/v1/admin/wallet/adjustments",
                json={
                    "user_id": user,
                    "asset": "CNY",
                    "amount": 500,
                    "adjustment_type": "COMPENSATION",
                    "reason": "lost order",
                },
                headers=applicant,
            )
            assert filed.status_code == 201, filed.text
            pending = (await http.get("/v1/admin/wallet/adjustments", headers=approver)).json()
            approved = await http.post(
                f"/v1/admin/wallet/adjustments/{filed.json()['id']}/approve",
                json={},
                headers=approver,
            )
            decided = (await http.get("/v1/admin/wallet/adjustments", headers=applicant)).json()
        assert pending[0]["applied_by"] == filed.json()["applicant_id"]
        assert pending[0]["decided_by"] is None
        assert approved.status_code == 200, approved.text
        assert decided[0]["decided_by"] == approved.json()["approver_id"]
        assert decided[0]["decided_by"] != decided[0]["applied_by"]
