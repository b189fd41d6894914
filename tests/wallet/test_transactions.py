"""The transaction rule for money (db.py): a staff action that moves money commits its move and
its admin-log entry in one transaction — the ledger posting, which carries the entry as a side
row — so neither stands without the other; a refused move leaves its refusal logged."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from tests.access.conftest import make_staff, staff_login
from tests.identity.conftest import client_for
from tests.wallet.conftest import balance_of, make_user, started, state_of, top_up
from usercenter.audit import service as audit_service
from usercenter.audit.models import AdminLog
from usercenter.audit.service import ADMIN_LOG_TABLE, AuditDraft, admin_log_row
from usercenter.kit.client import ClientInfo
from usercenter.kit.side_rows import SideRow
from usercenter.wallet.errors import InsufficientBalance
from usercenter.wallet.service import Business, WalletService

_numbers = itertools.count(1)


def log_row(target_id: object, **override: Any) -> SideRow:
    """An admin-log entry of an approval, as the staff guard drafts it (`override` changes its
    columns: `action=None` is a row the database refuses, the column being NOT NULL)."""
    draft = AuditDraft(
        action="wallet.approve_adjustment",
        module="wallet",
        method="POST",
        path="/v1/admin/wallet/adjustments/{adjustment_id}/approve",
    )
    draft.target("adjustment", target_id)
    row = admin_log_row(draft, staff_id=2, username="staff-2", client=ClientInfo(), result="ok")
    return SideRow(ADMIN_LOG_TABLE, {**row, **override})


async def admin_log_of(
    wallet: WalletService, target_type: str, target_id: object
) -> list[AdminLog]:
    async with wallet.database.read_session() as session:
        page = await audit_service.admin_log(
            session,
            cursor=None,
            limit=100,
            staff_id=None,
            action=None,
            target_type=target_type,
            target_id=str(target_id),
            since=None,
            until=None,
        )
    return page.items


async def file(wallet: WalletService, user: int, amount: int) -> int:
    filed = await wallet.file_adjustment(
        user_id=user,
        asset="CNY",
        amount=amount,
        adjustment_type="COMPENSATION",
        reason="outage",
        applicant_id="staff-1",
    )
    return filed.id


class TestSideRowsOfAPosting:
    async def test_a_log_entry_the_database_refuses_moves_no_money(
        self, wallet: WalletService
    ) -> None:
        user = await make_user(wallet)
        await top_up(wallet, user, "CNY", 1_000)
        adjustment_id = await file(wallet, user, 500)
        before = await wallet.reconcile()

        with pytest.raises(DBAPIError):
            await wallet.adjustments.approve_adjustment(
                adjustment_id=adjustment_id,
                approver_id="staff-2",
                remark=None,
                side_rows=[log_row(adjustment_id, action=None)],
            )

        assert await balance_of(wallet, user, "CNY") == (1_000, 0)
        after = await wallet.reconcile()
        assert (after.transfers, after.entries) == (before.transfers, before.entries)
        assert (await wallet.adjustment(adjustment_id)).status == "PENDING"
        assert await admin_log_of(wallet, "adjustment", adjustment_id) == []

    async def test_the_log_entry_commits_with_the_move(self, wallet: WalletService) -> None:
        user = await make_user(wallet)
        adjustment_id = await file(wallet, user, 500)

        approved = await wallet.adjustments.approve_adjustment(
            adjustment_id=adjustment_id,
            approver_id="staff-2",
            remark=None,
            side_rows=[log_row(adjustment_id)],
        )

        assert approved.status == "APPROVED"
        assert await balance_of(wallet, user, "CNY") == (500, 0)
        [entry] = await admin_log_of(wallet, "adjustment", adjustment_id)
        assert (entry.action, entry.result) == ("wallet.approve_adjustment", "ok")

    async def test_a_refused_move_writes_no_log_entry_of_its_own(
        self, wallet: WalletService
    ) -> None:
        user = await make_user(wallet)
        adjustment_id = await file(wallet, user, -500)

        with pytest.raises(InsufficientBalance):
            await wallet.adjustments.approve_adjustment(
                adjustment_id=adjustment_id,
                approver_id="staff-2",
                remark=None,
                side_rows=[log_row(adjustment_id)],
            )

        assert await admin_log_of(wallet, "adjustment", adjustment_id) == []
        assert (await wallet.adjustment(adjustment_id)).status == "PENDING"

    async def test_a_bad_side_row_fails_only_its_own_posting_in_a_batch(
        self, wallet: WalletService
    ) -> None:
        users = [await make_user(wallet) for _ in range(5)]
        for user in users:
            await top_up(wallet, user, "CNY", 100)

        async def hold(index: int, user: int) -> Any:
            row = log_row(f"hold-{index}", **({"action": None} if index == 2 else {}))
            return await wallet.freeze(
                owner=f"user:{user}",
                asset="CNY",
                amount=60,
                business=Business(business_type="order", business_id=f"tx-{next(_numbers)}"),
                expires_in=timedelta(minutes=5),
                side_rows=[row],
            )

        outcomes = await asyncio.gather(
            *(hold(i, user) for i, user in enumerate(users)), return_exceptions=True
        )

        assert [isinstance(o, DBAPIError) for o in outcomes] == [False, False, True, False, False]
        assert [await balance_of(wallet, user, "CNY") for user in users] == [
            (100, 60),
            (100, 60),
            (100, 0),
            (100, 60),
            (100, 60),
        ]
        for index in (0, 1, 3, 4):
            assert len(await admin_log_of(wallet, "adjustment", f"hold-{index}")) == 1
        assert await admin_log_of(wallet, "adjustment", "hold-2") == []


# --- through the staff routes ---------------------------------------------------------------


@pytest.fixture
async def application(database_url: str, db: object) -> AsyncIterator[FastAPI]:
    """A started app whose staff log in with a password alone (no second factor to set up:
    what is tested here is the transaction, not the login)."""
    async for started_app in started(database_url, staff_totp_required=False):
        yield started_app
        report = await state_of(started_app).wallet.reconcile()
        assert report.is_clean, report.differences


async def finance_member(application: FastAPI) -> dict[str, str]:
    _, username = await make_staff(application, "finance")
    async with client_for(application) as client:
        response = await staff_login(client, username)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def file_and_approve(
    application: FastAPI,
    user: int,
    amount: int,
    reason: str,
    *,
    applicant: dict[str, str],
    approver: dict[str, str],
) -> tuple[int, httpx.Response]:
    """File a CNY adjustment as `applicant` and approve it as `approver`: its id and the
    approval's answer."""
    async with client_for(application) as http:
        filed = await http.post(
            "/v1/admin/wallet/adjustments",
            json={
                "user_id": user,
                "asset": "CNY",
                "amount": amount,
                "adjustment_type": "COMPENSATION",
                "reason": reason,
            },
            headers=applicant,
        )
        assert filed.status_code == 201, filed.text
        adjustment_id = int(filed.json()["id"])
        response = await http.post(
            f"/v1/admin/wallet/adjustments/{adjustment_id}/approve", json={}, headers=approver
        )
    return adjustment_id, response


class TestStaffApproval:
    async def test_an_approval_is_logged_once_with_its_move(self, application: FastAPI) -> None:
        wallet = state_of(application).wallet
        applicant, approver = await finance_member(application), await finance_member(application)
        user = await make_user(wallet)
        adjustment_id, response = await file_and_approve(
            application, user, 500, "outage", applicant=applicant, approver=approver
        )

        assert response.status_code == 200, response.text
        assert await balance_of(wallet, user, "CNY") == (500, 0)
        entries = await admin_log_of(wallet, "adjustment", adjustment_id)
        assert sorted((e.action, e.result) for e in entries) == [
            ("wallet.approve_adjustment", "ok"),
            ("wallet.file_adjustment", "ok"),
        ]

    async def test_a_refused_move_leaves_its_refusal_logged(self, application: FastAPI) -> None:
        wallet = state_of(application).wallet
        applicant, approver = await finance_member(application), await finance_member(application)
        user = await make_user(wallet)
        await top_up(wallet, user, "CNY", 100)
        adjustment_id, response = await file_and_approve(
            application, user, -500, "paid twice", applicant=applicant, approver=approver
        )

        assert response.status_code == 409, response.text
        assert response.json()["code"] == "insufficient_balance"
        assert await balance_of(wallet, user, "CNY") == (100, 0)
        assert (await wallet.adjustment(adjustment_id)).status == "PENDING"
        approvals = [
            (e.action, e.result)
            for e in await admin_log_of(wallet, "adjustment", adjustment_id)
            if e.action == "wallet.approve_adjustment"
        ]
        assert approvals == [("wallet.approve_adjustment", "insufficient_balance")]
