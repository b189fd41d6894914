"""The money rules under concurrency, on each database: two apps with pools and ledgers of
their own (as two processes would be) race each other, then the ledger must reconcile."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest
from fastapi import FastAPI

from tests.wallet.conftest import balance_of, make_user, started, state_of, top_up
from usercenter.wallet.errors import (
    BalanceLimitExceeded,
    HoldAlreadyResolved,
    InsufficientBalance,
    RefundExceedsDebit,
)
from usercenter.wallet.ledger import Answer, Book, Posting
from usercenter.wallet.models import Asset, SystemAccount
from usercenter.wallet.service import Business, Result, WalletService


@pytest.fixture
async def pair(database_url: str, db: object) -> AsyncIterator[tuple[WalletService, WalletService]]:
    """Two started apps on the same fresh database; the ledger must reconcile after the test."""
    first = started(database_url, wallet_batch_workers=4)
    second = started(database_url, wallet_batch_workers=4)
    one: FastAPI = await anext(first)
    two: FastAPI = await anext(second)
    try:
        yield state_of(one).wallet, state_of(two).wallet
        report = await state_of(one).wallet.reconcile()
        assert report.is_clean, report.differences
    finally:
        for generator in (second, first):
            await generator.aclose()


class TestLastFen:
    async def test_exactly_one_of_two_debits_wins(
        self, pair: tuple[WalletService, WalletService]
    ) -> None:
        a, b = pair
        for round_ in range(10):
            user = await make_user(a)
            await top_up(a, user, "CNY", 1)
            outcomes = await asyncio.gather(
                a.debit(user_id=user, asset="CNY", amount=1, business=Business(key=f"a{round_}")),
                b.debit(user_id=user, asset="CNY", amount=1, business=Business(key=f"b{round_}")),
                return_exceptions=True,
            )
            wins = [o for o in outcomes if isinstance(o, Result)]
            assert len(wins) == 1, outcomes
            assert all(isinstance(o, InsufficientBalance) for o in outcomes if o not in wins)
            assert await balance_of(a, user, "CNY") == (0, 0)

    async def test_in_one_batch_only_the_covered_debits_pass(
        self, pair: tuple[WalletService, WalletService]
    ) -> None:
        a, _ = pair
        user = await make_user(a)
        await top_up(a, user, "CNY", 5)
        outcomes = await asyncio.gather(
            *(
                a.debit(user_id=user, asset="CNY", amount=1, business=Business(key=f"k{i}"))
                for i in range(12)
            ),
            return_exceptions=True,
        )
        assert sum(isinstance(o, Result) for o in outcomes) == 5
        assert sum(isinstance(o, InsufficientBalance) for o in outcomes) == 7
        assert await balance_of(a, user, "CNY") == (0, 0)


class TestOppositeTransfers:
    async def test_do_not_deadlock_or_lose_money(
        self, pair: tuple[WalletService, WalletService]
    ) -> None:
        a, b = pair
        alice, bob = await make_user(a), await make_user(a)
        await top_up(a, alice, "COIN_RECHARGE", 1000)
        await top_up(a, bob, "COIN_RECHARGE", 1000)

        async def send(wallet: WalletService, src: int, dst: int, tag: str) -> None:
            for i in range(40):
                await wallet.transfer_coins(
                    from_user_id=src,
                    to_user_id=dst,
                    amount=3,
                    asset="COIN_RECHARGE",
                    business=Business(key=f"{tag}-{i}"),
                )

        await asyncio.gather(send(a, alice, bob, "ab"), send(b, bob, alice, "ba"))
        assert await balance_of(a, alice, "COIN_RECHARGE") == (1000, 0)
        assert await balance_of(a, bob, "COIN_RECHARGE") == (1000, 0)


class TestHoldRace:
    async def test_capture_and_release_resolve_a_hold_once(
        self, pair: tuple[WalletService, WalletService]
    ) -> None:
        a, b = pair
        user = await make_user(a)
        await top_up(a, user, "CNY", 10_000)
        captured = 0
        for i in range(15):
            held = await a.freeze(
                owner=f"user:{user}",
                asset="CNY",
                amount=100,
                business=Business(key=f"hold-{i}"),
                expires_in=timedelta(minutes=5),
            )
            hold_id = int(held.answer["hold_id"])
            outcomes = await asyncio.gather(
                a.capture(hold_id=hold_id, amount=60, business=Business()),
                b.release(hold_id=hold_id, business=Business()),
                return_exceptions=True,
            )
            winners = [o for o in outcomes if isinstance(o, Result)]
            assert len(winners) == 1, outcomes
            assert all(isinstance(o, HoldAlreadyResolved) for o in outcomes if o not in winners)
            if winners[0].answer["hold_status"] == "captured":
                captured += 60
        assert await balance_of(a, user, "CNY") == (10_000 - captured, 0)


class TestRefundRace:
    async def test_concurrent_refunds_never_exceed_the_debit(
        self, pair: tuple[WalletService, WalletService]
    ) -> None:
        a, b = pair
        user = await make_user(a)
        await top_up(a, user, "CNY", 1000)
        debit = await a.debit(
            user_id=user, asset="CNY", amount=700, business=Business(key="order-1")
        )
        outcomes = await asyncio.gather(
            *(
                (a if i % 2 else b).refund(
                    transfer_id=debit.transfer_id, amount=100, business=Business(key=f"r{i}")
                )
                for i in range(12)
            ),
            return_exceptions=True,
        )
        assert sum(isinstance(o, Result) for o in outcomes) == 7
        assert all(isinstance(o, Result | RefundExceedsDebit) for o in outcomes)
        assert await balance_of(a, user, "CNY") == (1000, 0)


Call = Callable[[WalletService], Awaitable[Result]]


class TestRandomLoad:
    async def test_32_workers_with_resends_and_racing_holds_reconcile(
        self, pair: tuple[WalletService, WalletService]
    ) -> None:
        """32 workers on two apps: debits, coin spends, transfers, holds, refunds; 10 % of
        calls resent with the same key from the other app (must answer the same transfer and
        move nothing), 5 % capture and release of one hold racing."""
        a, b = pair
        users = [await make_user(a) for _ in range(12)]
        for user in users:
            await top_up(a, user, "CNY", 5_000)
            await top_up(a, user, "COIN_RECHARGE", 500)
            await top_up(a, user, "COIN_GIVE", 100)
        debits: list[int] = []
        done: list[int] = []
        rng = random.Random(2026)

        def pick(key: str) -> Call:
            """A random call under `key`, as a function of the app that sends it."""
            choice, user, business = rng.random(), rng.choice(users), Business(key=key)
            amount = rng.randint(1, 200)
            if choice < 0.3:
                return lambda w: w.debit(
                    user_id=user, asset="CNY", amount=amount, business=business
                )
            if choice < 0.5:
                return lambda w: w.spend_coins(
                    user_id=user, amount=amount // 5 + 1, business=business
                )
            if choice < 0.7:
                other = rng.choice([u for u in users if u != user])
                return lambda w: w.transfer_coins(
                    from_user_id=user,
                    to_user_id=other,
                    amount=amount // 7 + 1,
                    asset="COIN_RECHARGE",
                    business=business,
                )
            if choice < 0.8 and debits:
                original = rng.choice(debits)
                return lambda w: w.refund(
                    transfer_id=original, amount=amount // 4 + 1, business=business
                )
            return lambda w: w.freeze(
                owner=f"user:{user}",
                asset="CNY",
                amount=amount,
                business=business,
                expires_in=timedelta(minutes=5),
            )

        async def worker(index: int) -> None:
            mine, other = (a, b) if index % 2 else (b, a)
            for step in range(25):
                send = pick(f"w{index}-{step}")
                try:
                    result = await send(mine)
                except (InsufficientBalance, RefundExceedsDebit):
                    continue
                done.append(result.transfer_id)
                if result.answer["kind"] == "CONSUME" and "deduct_details" not in result.answer:
                    debits.append(result.transfer_id)
                if rng.random() < 0.10:
                    again = await send(other)
                    assert (again.transfer_id, again.repeated) == (result.transfer_id, True)
                    assert again.answer == result.answer
                if "hold_id" in result.answer and rng.random() < 0.25:  # ~5 % of calls
                    hold_id = int(result.answer["hold_id"])
                    raced = await asyncio.gather(
                        mine.capture(hold_id=hold_id, amount=None, business=Business()),
                        other.release(hold_id=hold_id, business=Business()),
                        return_exceptions=True,
                    )
                    assert sum(isinstance(o, Result) for o in raced) == 1, raced
                    assert all(isinstance(o, Result | HoldAlreadyResolved) for o in raced)

        await asyncio.gather(*(worker(i) for i in range(32)))
        assert len(done) > 300
        assert len(set(done)) == len(done)


class TestOneBadPostingFailsAlone:
    """A posting that cannot be written fails alone; the others of its batch go through."""

    async def test_100_recharges_and_one_past_the_balance_limit(
        self, pair: tuple[WalletService, WalletService]
    ) -> None:
        a, _ = pair
        limit = a.settings.wallet_balance_limit
        full, *others = [await make_user(a) for _ in range(11)]
        await top_up(a, full, "CNY", limit - 50)
        for user in others:  # profiles and accounts known: the calls below queue together
            await top_up(a, user, "CNY", 1)

        def recharge(user: int, amount: int, n: int) -> Awaitable[Result]:
            return a.recharge(
                user_id=user,
                asset="CNY",
                amount=amount,
                channel=SystemAccount.EXTERNAL_WECHATPAY,
                payment_id=f"limit-{n}",
            )

        calls = [recharge(others[n % len(others)], 100, n) for n in range(99)]
        calls.insert(42, recharge(full, 100, 99))
        outcomes = await asyncio.gather(*calls, return_exceptions=True)

        assert isinstance(outcomes[42], BalanceLimitExceeded), outcomes[42]
        assert sum(isinstance(o, Result) for o in outcomes) == 99, [
            o for o in outcomes if not isinstance(o, Result)
        ]
        assert await balance_of(a, full, "CNY") == (limit - 50, 0)
        assert sum([(await balance_of(a, user, "CNY"))[0] for user in others]) == 10 + 9_900

    async def test_a_posting_the_database_cannot_take_does_not_sink_its_batch(
        self, pair: tuple[WalletService, WalletService]
    ) -> None:
        a, _ = pair
        users = [await make_user(a) for _ in range(10)]
        for user in users:
            await top_up(a, user, "CNY", 1)
        source = await a.account_id("system:external:wechatpay", Asset.CNY)
        target = await a.account_id(f"user:{users[0]}", Asset.CNY)

        def unwritable(book: Book) -> Answer:
            book.move(source, target, 1)
            return {"asset": "CNY", "amount": 1, "legs": [], "what": object()}  # not JSON

        bad = Posting(
            transfer_id=await a.ids.segment("WALLET_TRANSFER").next_id(),
            key="test|unwritable",
            request_hash="-",
            kind="RECHARGE",
            plan=unwritable,
            accounts=(source, target),
        )
        calls: list[Awaitable[object]] = [
            a.recharge(
                user_id=users[n % 10],
                asset="CNY",
                amount=100,
                channel=SystemAccount.EXTERNAL_WECHATPAY,
                payment_id=f"bad-batch-{n}",
            )
            for n in range(99)
        ]
        calls.insert(7, a.ledger.post(bad))
        outcomes = await asyncio.gather(*calls, return_exceptions=True)

        assert isinstance(outcomes[7], Exception), outcomes[7]
        assert sum(isinstance(o, Result) for o in outcomes) == 99, outcomes
        assert sum([(await balance_of(a, user, "CNY"))[0] for user in users]) == 10 + 9_900
