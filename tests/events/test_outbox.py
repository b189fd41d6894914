"""The outbox: an event commits with its change or not at all, carries its subject's next
sequence number, and a ledger batch writes the events of the postings that moved money only."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from fastapi import FastAPI

from tests.events.conftest import stored_events
from tests.factories.identity import make_user
from tests.factories.wallet import top_up
from tests.wallet.conftest import started
from usercenter.app import Services
from usercenter.identity.events import UserProfileChanged
from usercenter.wallet.errors import InsufficientBalance
from usercenter.wallet.models import SystemAccount
from usercenter.wallet.service import Business

TRANSFER_POSTED = "usercenter.wallet.transfer_posted"


def _profile_changed(user_id: int) -> UserProfileChanged:
    return UserProfileChanged(user_id=user_id, uid="GD000001", fields=["nickname"])


async def test_a_change_that_rolls_back_takes_its_event_and_sequence_number_with_it(
    services: Services,
) -> None:
    class Refused(Exception):
        pass

    async def refused_change() -> None:
        async with services.database.unit_of_work() as session:
            await services.outbox.add(session, _profile_changed(9001))
            raise Refused()

    with pytest.raises(Refused):
        await refused_change()
    assert await stored_events(services, subject="users/9001") == []

    async with services.database.unit_of_work() as session:
        await services.outbox.add(session, _profile_changed(9001))
    (stored,) = await stored_events(services, subject="users/9001")
    assert stored.subject_seq == 1  # the rolled-back number was never taken


async def test_each_subject_counts_its_own_events_one_by_one(services: Services) -> None:
    for _ in range(3):
        async with services.database.unit_of_work() as session:
            await services.outbox.add(session, _profile_changed(7))
    async with services.database.unit_of_work() as session:
        # Two events of one subject and one of another in one transaction.
        await services.outbox.add(
            session, _profile_changed(8), _profile_changed(7), _profile_changed(8)
        )
    assert [e.subject_seq for e in await stored_events(services, subject="users/7")] == [
        1,
        2,
        3,
        4,
    ]
    assert [e.subject_seq for e in await stored_events(services, subject="users/8")] == [1, 2]


async def test_concurrent_changes_of_one_subject_get_distinct_numbers_in_commit_order(
    services: Services,
) -> None:
    async def change() -> None:
        async with services.database.unit_of_work() as session:
            await services.outbox.add(session, _profile_changed(42))

    await asyncio.gather(*(change() for _ in range(20)))
    stored = await stored_events(services, subject="users/42")
    # Written in id order = commit order: the numbers follow it without gap or repeat.
    assert [e.subject_seq for e in stored] == list(range(1, 21))


async def test_a_recharge_writes_one_event_for_the_users_account_with_the_balance_after(
    services: Services,
) -> None:
    user_id = await make_user(services)
    await top_up(services.wallet, user_id, "CNY", 1000)
    result = await top_up(services.wallet, user_id, "CNY", 250)

    posted = await stored_events(services, type=TRANSFER_POSTED)
    # The payment channel's system account is the business's own book: no event of it.
    assert [e.data["user_id"] for e in posted] == [user_id, user_id]
    last = posted[-1]
    assert last.subject == f"accounts/{last.data['account_id']}"
    assert [e.subject_seq for e in posted] == [1, 2]
    assert last.data | {"transfer_id": 0} == {
        "account_id": last.data["account_id"],
        "user_id": user_id,
        "sponsor_id": None,
        "asset": "CNY",
        "transfer_id": 0,
        "kind": last.data["kind"],
        "amount": 250,
        "balance_after": 1250,
        "business_type": last.data["business_type"],
        "business_id": last.data["business_id"],
    }
    assert last.data["transfer_id"] == result.answer["transfer_id"]


async def test_a_resend_of_a_money_call_writes_no_second_event(services: Services) -> None:
    user_id = await make_user(services)
    for _ in range(2):
        await services.wallet.recharge(
            user_id=user_id,
            asset="CNY",
            amount=500,
            channel=SystemAccount.EXTERNAL_WECHATPAY,
            payment_id="wx-once",
        )
    assert len(await stored_events(services, type=TRANSFER_POSTED)) == 1


async def test_a_batch_writes_the_events_of_the_postings_that_moved_money_only(
    services: Services,
) -> None:
    rich, poor = await make_user(services), await make_user(services)
    await top_up(services.wallet, rich, "CNY", 100)
    before = len(await stored_events(services, type=TRANSFER_POSTED))

    def spend(user_id: int, amount: int, n: int) -> object:
        return services.wallet.debit(
            user_id=user_id,
            asset="CNY",
            amount=amount,
            business=Business(business_type="order", business_id=f"o-{user_id}-{n}"),
        )

    # Posted together, so the ledger groups them into one batch; the middle one fails alone.
    results = await asyncio.gather(
        spend(rich, 50, 1), spend(poor, 50, 2), spend(rich, 30, 3), return_exceptions=True
    )
    assert isinstance(results[1], InsufficientBalance)
    posted = (await stored_events(services, type=TRANSFER_POSTED))[before:]
    assert sorted(e.data["amount"] for e in posted) == [-50, -30]
    assert {e.data["user_id"] for e in posted} == {rich}
    assert sorted(e.data["balance_after"] for e in posted) == [20, 50]


async def test_a_hold_writes_its_own_events_beside_the_money_moved(services: Services) -> None:
    user_id = await make_user(services)
    await top_up(services.wallet, user_id, "CNY", 1000)
    hold = await services.wallet.holds.hold_for(
        user_id=user_id,
        sponsor_id=None,
        asset="CNY",
        amount="3.00",  # as a client writes it: 300 fen
        business=Business(business_type="order", business_id="o-hold"),
        expires_in=timedelta(minutes=10),
    )
    hold_id = hold.answer["hold_id"]
    await services.wallet.holds.capture(
        hold_id=hold_id, amount=200, business=Business(business_type="order", business_id="o-c")
    )
    stored = [e for e in await stored_events(services) if e.type.startswith("usercenter.wallet.")]
    assert [e.type for e in stored] == [
        TRANSFER_POSTED,
        "usercenter.wallet.hold_placed",
        TRANSFER_POSTED,
        "usercenter.wallet.hold_captured",
    ]
    placed, captured = stored[1], stored[3]
    assert placed.data["hold_id"] == captured.data["hold_id"] == hold_id
    assert placed.data["amount"] == 300
    assert captured.data["captured"] == 200
    assert stored[2].data["amount"] == -200
    assert stored[2].data["balance_after"] == 800
    # One account, one subject: its events are numbered in the order they happened.
    assert [e.subject_seq for e in stored] == [1, 2, 3, 4]


async def test_with_events_turned_off_nothing_is_written(database_url: str, db: object) -> None:
    app: FastAPI
    async for app in started(database_url, events_enabled=False):
        services: Services = app.state.services
        user_id = await make_user(services)
        await top_up(services.wallet, user_id, "CNY", 100)
        assert await stored_events(services) == []
