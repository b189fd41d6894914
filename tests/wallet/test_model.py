"""The wallet against a model of itself: hypothesis drives the real `WalletService` on each
database with random recharges, grants, debits, coin spending, refunds, user transfers, holds,
resends and key conflicts, and checks after every step that each balance and frozen part is
what a small in-memory model says, and that every refusal is the one the model predicted.

Each example gets a fresh database (the seeded rows only) and a started app on an event loop
of its own; the ledger's reconciliation runs every few steps and when the example ends.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from tests.conftest import Snapshot, make_settings, reset_database
from tests.wallet.conftest import make_user, state_of
from usercenter.app import create_app
from usercenter.db import Database
from usercenter.wallet.errors import (
    AssetNotTransferable,
    CaptureExceedsHold,
    HoldAlreadyResolved,
    HoldExpired,
    IdempotencyConflict,
    InsufficientBalance,
    RecipientNotFound,
    RefundExceedsDebit,
    TransferNotRefundable,
    TransferToSelf,
    WalletError,
)
from usercenter.wallet.ledger import Answer
from usercenter.wallet.models import (
    COIN_SPENDING_ORDER,
    Account,
    Asset,
    Kind,
    SystemAccount,
    system_owner,
    user_owner,
)
from usercenter.wallet.service import Business, Result, WalletService

T = TypeVar("T")

USERS = 3
NO_SUCH_USER = 10**15
RECONCILE_EVERY = 8
REVENUE = system_owner(SystemAccount.REVENUE)
PROMOTION_POOL = system_owner(SystemAccount.PROMOTION_POOL)
POINTS_POOL = system_owner(SystemAccount.POINTS_POOL)
CHANNELS = (SystemAccount.EXTERNAL_WECHATPAY, SystemAccount.EXTERNAL_ALIPAY)
GRANTS = {
    Kind.GIFT: (Asset.COIN_GIVE, PROMOTION_POOL),
    Kind.REWARD: (Asset.COIN_REWARD, PROMOTION_POOL),
    Kind.POINTS_EARN: (Asset.POINTS, POINTS_POOL),
    Kind.COMMISSION: (Asset.CNY, REVENUE),
}
# A refund gives back the recharge bucket first, then give, then reward coins.
REFUND_ORDER = tuple(reversed(COIN_SPENDING_ORDER))

Key = tuple[str, str | None, str | None]
Move = tuple[str, Asset, int, int]  # owner, asset, change of balance, change of frozen


class Refused(Exception):
    """The model's prediction: the service refuses this call with `error`."""

    def __init__(self, error: type[WalletError]) -> None:
        super().__init__(error.__name__)
        self.error = error


@dataclass
class Prediction:
    """What a call that goes through moves, what its answer must say, and what it leaves."""

    moves: list[Move]
    check: Callable[[Answer], None] = lambda answer: None
    record: Callable[[Result], None] = lambda result: None


@dataclass
class Taken:
    """A refundable debit: what it took from each bucket and what refunds gave back."""

    transfer_id: int
    owner: str
    sink: str
    taken: dict[Asset, int]
    refunded: Counter[Asset] = field(default_factory=Counter)

    @property
    def left(self) -> int:
        return sum(self.taken.values()) - sum(self.refunded.values())


@dataclass
class HeldModel:
    hold_id: int
    owner: str
    asset: Asset
    amount: int
    is_expired: bool
    status: str = "pending"


@dataclass
class Stored:
    """A call that went through, under its key: resending it must answer `answer` again."""

    request: tuple[Any, ...]
    answer: Answer
    resend: Callable[[], None]
    vary: Callable[[], None] | None


def model_key(kind: Kind, business: Business) -> Key:
    if business.key:
        return (kind.value, "key", business.key)
    return (kind.value, business.business_type, business.business_id)


def legs_of(answer: Answer) -> list[tuple[str, int]]:
    return [(leg["asset"], leg["amount"]) for leg in answer["legs"]]


class WalletModel(RuleBasedStateMachine):
    database_url: str
    snapshot: Snapshot

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.lifespan: AbstractAsyncContextManager[None] | None = None
        application = create_app(
            make_settings(self.database_url, log_level="ERROR", wallet_hold_sweep_seconds=0)
        )
        self.wallet: WalletService = state_of(application).wallet
        try:
            self.run(self._start(application))
            self.users = [user_owner(self.run(make_user(self.wallet))) for _ in range(USERS)]
        except BaseException:
            self.stop()
            raise
        self.balance: Counter[tuple[str, Asset]] = Counter()
        self.frozen: Counter[tuple[str, Asset]] = Counter()
        self.stored: dict[Key, Stored] = {}
        self.key_names: list[str] = []
        self.debits: list[Taken] = []
        self.credits: list[int] = []
        self.holds: list[HeldModel] = []
        self.counter = 0
        self.checks = 0

    async def _start(self, application: Any) -> None:
        database: Database = state_of(application).database
        await reset_database(database, self.snapshot)
        self.lifespan = application.router.lifespan_context(application)
        await self.lifespan.__aenter__()

    def run(self, call: Awaitable[T]) -> T:
        async def wrapped() -> T:
            return await call

        return self.loop.run_until_complete(wrapped())

    def teardown(self) -> None:
        try:
            self.assert_reconciles()
        finally:
            self.stop()

    def stop(self) -> None:
        try:
            if self.lifespan is not None:
                self.run(self.lifespan.__aexit__(None, None, None))
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    # --- the model's bookkeeping ------------------------------------------------------------

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    def available(self, owner: str, asset: Asset) -> int:
        return self.balance[owner, asset] - self.frozen[owner, asset]

    def draw_amount(self, data: st.DataObject, available: int, label: str = "amount") -> int:
        """Mostly within what the model says is available, often exactly all of it or one
        more, so both sides of each limit occur."""
        if available <= 0:
            return data.draw(st.integers(1, 3), label=label)
        within = st.integers(1, available)
        return data.draw(
            st.one_of(within, within, st.just(available), st.just(available + 1)), label=label
        )

    def draw_business(self, data: st.DataObject) -> Business:
        """A new Idempotency-Key, or now and then one already used (by any kind of call)."""
        if self.key_names and data.draw(st.integers(0, 7), label="reuse key") == 0:
            return Business(key=data.draw(st.sampled_from(self.key_names), label="key"))
        name = self.fresh("k")
        self.key_names.append(name)
        return Business(key=name)

    def issue(
        self,
        kind: Kind,
        business: Business,
        request: tuple[Any, ...],
        call: Callable[[], Coroutine[Any, Any, Result]],
        predict: Callable[[], Prediction],
        *,
        resend: Callable[[], None],
        vary: Callable[[], None] | None = None,
        key: Key | None = None,
    ) -> Result | None:
        """Make one call and check it against the model: a key used before answers the stored
        answer (same request) or idempotency_conflict; otherwise the model's prediction holds,
        a refusal included, and a refused call leaves its key unused."""
        key = key or model_key(kind, business)
        stored = self.stored.get(key)
        if stored is not None:
            if stored.request != request:
                # Keyed by its hold, another capture of a hold is answered for what it is: the
                # hold was already resolved (by the call that used the key).
                is_hold_key = key[0] == Kind.CAPTURE.value and key[1] == "hold"
                self.expect_refusal(
                    HoldAlreadyResolved if is_hold_key else IdempotencyConflict, call
                )
                return None
            result = self.run(call())
            assert result.repeated, key
            assert result.answer == stored.answer
            return result
        try:
            prediction = predict()
        except Refused as refusal:
            self.expect_refusal(refusal.error, call)
            return None
        result = self.run(call())
        assert not result.repeated, key
        for owner, asset, balance, frozen in prediction.moves:
            self.balance[owner, asset] += balance
            self.frozen[owner, asset] += frozen
        prediction.check(result.answer)
        prediction.record(result)
        self.stored[key] = Stored(request, result.answer, resend, vary)
        return result

    def expect_refusal(
        self, error: type[WalletError], call: Callable[[], Coroutine[Any, Any, Result]]
    ) -> None:
        with pytest.raises(WalletError) as refused:
            self.run(call())
        assert type(refused.value) is error, f"expected {error.__name__}, got {refused.value!r}"

    @initialize(
        cash=st.lists(st.integers(100, 2000), min_size=USERS, max_size=USERS),
        coins=st.lists(st.integers(20, 300), min_size=USERS, max_size=USERS),
    )
    def fund_the_users(self, cash: list[int], coins: list[int]) -> None:
        """Some money of every kind to start with, so that debits do not just all fail."""
        for owner, fen, count in zip(self.users, cash, coins, strict=True):
            self.do_recharge(owner, Asset.CNY, fen, 0, CHANNELS[0], self.fresh("pay"))
            self.do_recharge(
                owner, Asset.COIN_RECHARGE, count, count // 3, CHANNELS[1], self.fresh("pay")
            )
            self.do_grant(owner, Kind.REWARD, count // 5, Business(key=self.fresh("k")))
            self.do_grant(owner, Kind.POINTS_EARN, count, Business(key=self.fresh("k")))

    # --- credits ------------------------------------------------------------------------------

    @rule(
        user=st.integers(0, USERS - 1),
        asset=st.sampled_from([Asset.CNY, Asset.COIN_RECHARGE]),
        amount=st.integers(1, 500),
        bonus=st.one_of(st.just(0), st.integers(1, 30)),
        channel=st.sampled_from(CHANNELS),
    )
    def recharge(
        self, user: int, asset: Asset, amount: int, bonus: int, channel: SystemAccount
    ) -> None:
        self.do_recharge(self.users[user], asset, amount, bonus, channel, self.fresh("pay"))

    def do_recharge(
        self,
        owner: str,
        asset: Asset,
        amount: int,
        bonus: int,
        channel: SystemAccount,
        payment_id: str,
    ) -> None:
        user_id = int(owner.split(":")[1])

        def call() -> Coroutine[Any, Any, Result]:
            return self.wallet.recharge(
                user_id=user_id,
                asset=asset,
                amount=amount,
                channel=channel,
                payment_id=payment_id,
                bonus_give_coins=bonus,
            )

        def predict() -> Prediction:
            moves: list[Move] = [
                (system_owner(channel), asset, -amount, 0),
                (owner, asset, amount, 0),
            ]
            if bonus:
                moves += [
                    (PROMOTION_POOL, Asset.COIN_GIVE, -bonus, 0),
                    (owner, Asset.COIN_GIVE, bonus, 0),
                ]

            def check(answer: Answer) -> None:
                assert answer["balance_after"] == self.balance[owner, asset]
                expected = [(asset.value, amount)] + ([("COIN_GIVE", bonus)] if bonus else [])
                assert legs_of(answer) == expected

            return Prediction(moves, check, lambda result: self.credits.append(result.transfer_id))

        self.issue(
            Kind.RECHARGE,
            Business(business_type=channel.value, business_id=payment_id),
            ("recharge", owner, asset, amount, bonus),
            call,
            predict,
            resend=lambda: self.do_recharge(owner, asset, amount, bonus, channel, payment_id),
            vary=lambda: self.do_recharge(owner, asset, amount + 1, bonus, channel, payment_id),
        )

    @rule(
        data=st.data(),
        user=st.integers(0, USERS - 1),
        kind=st.sampled_from(list(GRANTS)),
        amount=st.integers(1, 200),
    )
    def grant(self, data: st.DataObject, user: int, kind: Kind, amount: int) -> None:
        self.do_grant(self.users[user], kind, amount, self.draw_business(data))

    def do_grant(self, owner: str, kind: Kind, amount: int, business: Business) -> None:
        asset, pool = GRANTS[kind]

        def call() -> Coroutine[Any, Any, Result]:
            return self.wallet.grant(
                user_id=int(owner.split(":")[1]),
                asset=asset,
                amount=amount,
                kind=kind,
                business=business,
            )

        def predict() -> Prediction:
            def check(answer: Answer) -> None:
                assert answer["balance_after"] == self.balance[owner, asset]

            return Prediction([(pool, asset, -amount, 0), (owner, asset, amount, 0)], check)

        self.issue(
            kind,
            business,
            ("grant", owner, asset, amount),
            call,
            predict,
            resend=lambda: self.do_grant(owner, kind, amount, business),
            vary=lambda: self.do_grant(owner, kind, amount + 1, business),
        )

    # --- debits -------------------------------------------------------------------------------

    @rule(data=st.data(), user=st.integers(0, USERS - 1), asset=st.sampled_from(list(Asset)))
    def debit(self, data: st.DataObject, user: int, asset: Asset) -> None:
        owner = self.users[user]
        amount = self.draw_amount(data, self.available(owner, asset))
        self.do_debit(owner, asset, amount, self.draw_business(data))

    def do_debit(self, owner: str, asset: Asset, amount: int, business: Business) -> None:
        sink = POINTS_POOL if asset is Asset.POINTS else REVENUE

        def call() -> Coroutine[Any, Any, Result]:
            return self.wallet.debit(
                user_id=int(owner.split(":")[1]), asset=asset, amount=amount, business=business
            )

        def predict() -> Prediction:
            if self.available(owner, asset) < amount:
                raise Refused(InsufficientBalance)

            def check(answer: Answer) -> None:
                assert answer["balance_after"] == self.balance[owner, asset]

            def record(result: Result) -> None:
                self.debits.append(Taken(result.transfer_id, owner, sink, {asset: amount}))

            return Prediction([(owner, asset, -amount, 0), (sink, asset, amount, 0)], check, record)

        self.issue(
            Kind.CONSUME,
            business,
            ("debit", owner, asset, amount),
            call,
            predict,
            resend=lambda: self.do_debit(owner, asset, amount, business),
            vary=lambda: self.do_debit(owner, asset, amount + 1, business),
        )

    @rule(data=st.data(), user=st.integers(0, USERS - 1))
    def spend_coins(self, data: st.DataObject, user: int) -> None:
        owner = self.users[user]
        coins = sum(self.available(owner, asset) for asset in COIN_SPENDING_ORDER)
        self.do_spend(owner, self.draw_amount(data, coins), self.draw_business(data))

    def do_spend(self, owner: str, amount: int, business: Business) -> None:
        def call() -> Coroutine[Any, Any, Result]:
            return self.wallet.spend_coins(
                user_id=int(owner.split(":")[1]), amount=amount, business=business
            )

        def predict() -> Prediction:
            if sum(self.available(owner, a) for a in COIN_SPENDING_ORDER) < amount:
                raise Refused(InsufficientBalance)
            split, left = {}, amount
            for asset in COIN_SPENDING_ORDER:
                split[asset] = min(left, self.available(owner, asset))
                left -= split[asset]
            moves: list[Move] = []
            for asset, take in split.items():
                moves += [(owner, asset, -take, 0), (REVENUE, asset, take, 0)]

            def check(answer: Answer) -> None:
                assert answer["deduct_details"] == {a.value: take for a, take in split.items()}
                assert legs_of(answer) == [(a.value, take) for a, take in split.items() if take]

            def record(result: Result) -> None:
                taken = {asset: take for asset, take in split.items() if take}
                self.debits.append(Taken(result.transfer_id, owner, REVENUE, taken))

            return Prediction(moves, check, record)

        self.issue(
            Kind.CONSUME,
            business,
            ("spend", owner, amount),
            call,
            predict,
            resend=lambda: self.do_spend(owner, amount, business),
            vary=lambda: self.do_spend(owner, amount + 1, business),
        )

    @precondition(lambda self: self.debits)
    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        taken = data.draw(st.sampled_from(self.debits), label="debit")
        amount = self.draw_amount(data, taken.left)
        self.do_refund(taken, amount, self.draw_business(data))

    def do_refund(self, taken: Taken, amount: int, business: Business) -> None:
        def call() -> Coroutine[Any, Any, Result]:
            return self.wallet.refund(
                transfer_id=taken.transfer_id, amount=amount, business=business
            )

        def predict() -> Prediction:
            if amount > taken.left:
                raise Refused(RefundExceedsDebit)
            order = [a for a in REFUND_ORDER if a in taken.taken]
            order += [a for a in taken.taken if a not in REFUND_ORDER]
            back, left = {}, amount
            for asset in order:
                give = min(taken.taken[asset] - taken.refunded[asset], left)
                if give > 0:
                    back[asset] = give
                    left -= give
            moves: list[Move] = []
            for asset, give in back.items():
                moves += [(taken.sink, asset, -give, 0), (taken.owner, asset, give, 0)]

            def check(answer: Answer) -> None:
                assert legs_of(answer) == [(a.value, give) for a, give in back.items()]
                assert answer["refunded_total"] == sum(taken.refunded.values()) + amount

            def record(result: Result) -> None:
                taken.refunded.update(back)

            return Prediction(moves, check, record)

        self.issue(
            Kind.REFUND,
            business,
            ("refund", taken.transfer_id, amount),
            call,
            predict,
            resend=lambda: self.do_refund(taken, amount, business),
            vary=lambda: self.do_refund(taken, amount + 1, business),
        )

    @precondition(lambda self: self.credits)
    @rule(data=st.data())
    def refund_of_a_credit_is_refused(self, data: st.DataObject) -> None:
        transfer_id = data.draw(st.sampled_from(self.credits), label="credit")
        business = Business(key=self.fresh("k"))
        self.expect_refusal(
            TransferNotRefundable,
            lambda: self.wallet.refund(transfer_id=transfer_id, amount=1, business=business),
        )

    # --- transfers between users --------------------------------------------------------------

    @rule(data=st.data(), payer=st.integers(0, USERS - 1), step=st.integers(1, USERS - 1))
    def transfer_coins(self, data: st.DataObject, payer: int, step: int) -> None:
        sender, recipient = self.users[payer], self.users[(payer + step) % USERS]
        amount = self.draw_amount(data, self.available(sender, Asset.COIN_RECHARGE))
        self.do_transfer(sender, recipient, amount, self.draw_business(data))

    def do_transfer(self, sender: str, recipient: str, amount: int, business: Business) -> None:
        def call() -> Coroutine[Any, Any, Result]:
            return self.wallet.transfer_coins(
                from_user_id=int(sender.split(":")[1]),
                to_user_id=int(recipient.split(":")[1]),
                amount=amount,
                asset=Asset.COIN_RECHARGE,
                business=business,
            )

        def predict() -> Prediction:
            if self.available(sender, Asset.COIN_RECHARGE) < amount:
                raise Refused(InsufficientBalance)

            def check(answer: Answer) -> None:
                assert answer["balance_after"] == self.balance[sender, Asset.COIN_RECHARGE]

            moves: list[Move] = [
                (sender, Asset.COIN_RECHARGE, -amount, 0),
                (recipient, Asset.COIN_RECHARGE, amount, 0),
            ]
            return Prediction(moves, check)

        self.issue(
            Kind.TRANSFER,
            business,
            ("transfer", sender, recipient, amount),
            call,
            predict,
            resend=lambda: self.do_transfer(sender, recipient, amount, business),
            vary=lambda: self.do_transfer(sender, recipient, amount + 1, business),
        )

    @rule(
        payer=st.integers(0, USERS - 1),
        step=st.integers(0, USERS - 1),
        asset=st.sampled_from([Asset.COIN_GIVE, Asset.COIN_REWARD, Asset.COIN_RECHARGE]),
        to_nobody=st.booleans(),
        amount=st.integers(1, 20),
    )
    def transfer_refused(
        self, payer: int, step: int, asset: Asset, to_nobody: bool, amount: int
    ) -> None:
        """Give and reward coins never move between users; nor anything to oneself or to a
        user who does not exist."""
        sender, recipient = self.users[payer], self.users[(payer + step) % USERS]
        recipient_id = NO_SUCH_USER if to_nobody else int(recipient.split(":")[1])
        if asset is not Asset.COIN_RECHARGE:
            error: type[WalletError] = AssetNotTransferable
        elif recipient == sender and not to_nobody:
            error = TransferToSelf
        elif to_nobody:
            error = RecipientNotFound
        else:
            return  # a transfer that may go through: the rule above covers it
        business = Business(key=self.fresh("k"))
        self.expect_refusal(
            error,
            lambda: self.wallet.transfer_coins(
                from_user_id=int(sender.split(":")[1]),
                to_user_id=recipient_id,
                amount=amount,
                asset=asset,
                business=business,
            ),
        )

    # --- holds --------------------------------------------------------------------------------

    @rule(
        data=st.data(),
        user=st.integers(0, USERS - 1),
        asset=st.sampled_from([Asset.CNY, Asset.COIN_RECHARGE, Asset.POINTS]),
        is_expired=st.booleans(),
    )
    def freeze(self, data: st.DataObject, user: int, asset: Asset, is_expired: bool) -> None:
        owner = self.users[user]
        amount = self.draw_amount(data, self.available(owner, asset))
        self.do_freeze(owner, asset, amount, is_expired, self.draw_business(data))

    def do_freeze(
        self, owner: str, asset: Asset, amount: int, is_expired: bool, business: Business
    ) -> None:
        def call() -> Coroutine[Any, Any, Result]:
            return self.wallet.freeze(
                owner=owner,
                asset=asset,
                amount=amount,
                business=business,
                expires_in=timedelta(seconds=-1) if is_expired else timedelta(hours=1),
            )

        def predict() -> Prediction:
            if self.available(owner, asset) < amount:
                raise Refused(InsufficientBalance)

            def check(answer: Answer) -> None:
                assert (answer["hold_status"], answer["amount"]) == ("pending", amount)

            def record(result: Result) -> None:
                hold_id = int(result.answer["hold_id"])
                self.holds.append(HeldModel(hold_id, owner, asset, amount, is_expired))

            return Prediction([(owner, asset, 0, amount)], check, record)

        self.issue(
            Kind.HOLD,
            business,
            ("freeze", owner, asset, amount),
            call,
            predict,
            resend=lambda: self.do_freeze(owner, asset, amount, is_expired, business),
            vary=lambda: self.do_freeze(owner, asset, amount + 1, is_expired, business),
        )

    def draw_hold_business(self, data: st.DataObject) -> Business:
        """A key of its own, or none: then the call is keyed by the hold."""
        if data.draw(st.booleans(), label="keyed by hold"):
            return Business()
        return self.draw_business(data)

    def hold_key(self, kind: Kind, hold: HeldModel, business: Business) -> Key:
        if business.key or business.business_id:
            return model_key(kind, business)
        return (kind.value, "hold", str(hold.hold_id))

    @precondition(lambda self: self.holds)
    @rule(data=st.data(), is_capture=st.booleans())
    def resolve_hold(self, data: st.DataObject, is_capture: bool) -> None:
        """Capture (all, part, or more than held) or release a hold, pending or not."""
        hold = data.draw(st.sampled_from(self.holds), label="hold")
        if is_capture:
            amount = data.draw(st.one_of(st.none(), st.integers(1, hold.amount + 1)), "amount")
            self.do_capture(hold, amount, self.draw_hold_business(data))
        else:
            self.do_release(hold, self.draw_hold_business(data))

    def do_capture(self, hold: HeldModel, amount: int | None, business: Business) -> None:
        capture = hold.amount if amount is None else amount

        def call() -> Coroutine[Any, Any, Result]:
            return self.wallet.capture(hold_id=hold.hold_id, amount=amount, business=business)

        def predict() -> Prediction:
            if hold.status != "pending":
                raise Refused(HoldAlreadyResolved)
            if hold.is_expired:
                raise Refused(HoldExpired)
            if capture > hold.amount:
                raise Refused(CaptureExceedsHold)

            def check(answer: Answer) -> None:
                assert (answer["amount"], answer["released"]) == (capture, hold.amount - capture)
                assert answer["hold_status"] == "captured"

            def record(result: Result) -> None:
                hold.status = "captured"

            moves: list[Move] = [
                (hold.owner, hold.asset, -capture, -hold.amount),
                (REVENUE, hold.asset, capture, 0),
            ]
            return Prediction(moves, check, record)

        self.issue(
            Kind.CAPTURE,
            business,
            ("capture", hold.hold_id, capture),
            call,
            predict,
            resend=lambda: self.do_capture(hold, amount, business),
            vary=lambda: self.do_capture(hold, capture + 1, business),
            key=self.hold_key(Kind.CAPTURE, hold, business),
        )

    def do_release(self, hold: HeldModel, business: Business) -> None:
        def call() -> Coroutine[Any, Any, Result]:
            return self.wallet.release(hold_id=hold.hold_id, business=business)

        def predict() -> Prediction:
            if hold.status != "pending":
                raise Refused(HoldAlreadyResolved)

            def check(answer: Answer) -> None:
                assert (answer["released"], answer["hold_status"]) == (hold.amount, "released")

            def record(result: Result) -> None:
                hold.status = "released"

            return Prediction([(hold.owner, hold.asset, 0, -hold.amount)], check, record)

        def vary() -> None:
            others = [h for h in self.holds if h is not hold]
            if others and business.key:
                self.do_release(others[0], business)

        self.issue(
            Kind.RELEASE,
            business,
            ("release", hold.hold_id),
            call,
            predict,
            resend=lambda: self.do_release(hold, business),
            vary=vary,
            key=self.hold_key(Kind.RELEASE, hold, business),
        )

    @precondition(lambda self: any(h.is_expired and h.status == "pending" for h in self.holds))
    @rule()
    def sweep_expired_holds(self) -> None:
        expired = [h for h in self.holds if h.status == "pending" and h.is_expired]
        assert self.run(self.wallet.release_expired_holds()) == len(expired)
        for hold in expired:
            hold.status = "expired"
            self.frozen[hold.owner, hold.asset] -= hold.amount

    # --- the same key again -------------------------------------------------------------------

    @precondition(lambda self: self.stored)
    @rule(data=st.data(), is_same_request=st.booleans())
    def same_key_again(self, data: st.DataObject, is_same_request: bool) -> None:
        """An earlier call's key again: the same request gets the first answer, repeated, and
        moves nothing; another request under it is idempotency_conflict."""
        stored = self.stored[data.draw(st.sampled_from(sorted(self.stored, key=str)), "key")]
        if is_same_request:
            stored.resend()
        elif stored.vary is not None:
            stored.vary()

    @rule(data=st.data(), user=st.integers(0, USERS - 1))
    def racing_twins(self, data: st.DataObject, user: int) -> None:
        """One debit sent twice at once under one new key: it is applied once, and both
        callers get the same answer (or the same refusal)."""
        owner = self.users[user]
        asset = data.draw(st.sampled_from([Asset.CNY, Asset.COIN_RECHARGE]), label="asset")
        amount = self.draw_amount(data, self.available(owner, asset))
        name = self.fresh("k")
        self.key_names.append(name)
        business = Business(key=name)

        async def twins() -> list[Result | BaseException]:
            call = self.wallet.debit
            user_id = int(owner.split(":")[1])
            return await asyncio.gather(
                *(
                    call(user_id=user_id, asset=asset, amount=amount, business=business)
                    for _ in range(2)
                ),
                return_exceptions=True,
            )

        results = self.run(twins())
        if self.available(owner, asset) < amount:
            assert all(type(r) is InsufficientBalance for r in results), results
            return
        assert all(isinstance(r, Result) for r in results), results
        first, second = sorted(
            (r for r in results if isinstance(r, Result)), key=lambda r: r.repeated
        )
        assert (first.repeated, second.repeated) == (False, True)
        assert first.answer == second.answer
        self.balance[owner, asset] -= amount
        self.balance[REVENUE, asset] += amount
        self.debits.append(Taken(first.transfer_id, owner, REVENUE, {asset: amount}))
        request = ("debit", owner, asset, amount)
        self.stored[model_key(Kind.CONSUME, business)] = Stored(
            request,
            first.answer,
            lambda: self.do_debit(owner, asset, amount, business),
            lambda: self.do_debit(owner, asset, amount + 1, business),
        )

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def balances_are_the_models(self) -> None:
        for owner in self.users:
            balances = self.found_balances(owner)
            assert balances == self.expected_balances(owner), owner
            assert all(0 <= frozen <= balance for balance, frozen in balances.values()), owner
        # A busy system account is split into shard rows (`system:revenue#3`); its balance
        # is their sum.
        found: dict[str, tuple[int, int]] = {}
        for owner, asset, balance, frozen in self.run(self.system_rows()):
            total = found.get(f"{owner.split('#')[0]}/{asset}", (0, 0))
            found[f"{owner.split('#')[0]}/{asset}"] = (total[0] + balance, total[1] + frozen)
        expected = {
            f"{owner}/{asset.value}": (self.balance[owner, asset], self.frozen[owner, asset])
            for owner, asset in self.balance.keys() | self.frozen.keys()
            if owner.startswith("system:")
        }
        assert {k: v for k, v in found.items() if v != (0, 0)} == {
            k: v for k, v in expected.items() if v != (0, 0)
        }

    async def system_rows(self) -> list[tuple[str, str, int, int]]:
        async with self.wallet.database.read_session() as session:
            rows = await session.execute(
                select(Account.owner, Account.asset, Account.balance, Account.frozen).where(
                    Account.owner.like("system:%")
                )
            )
            return [tuple(row) for row in rows]

    def found_balances(self, owner: str) -> dict[str, tuple[int, int]]:
        return {b.asset: (b.balance, b.frozen) for b in self.run(self.wallet.balances(owner))}

    def expected_balances(self, owner: str) -> dict[str, tuple[int, int]]:
        return {a.value: (self.balance[owner, a], self.frozen[owner, a]) for a in Asset}

    @invariant()
    def ledger_reconciles(self) -> None:
        self.checks += 1
        if self.checks % RECONCILE_EVERY == 0:
            self.assert_reconciles()

    def assert_reconciles(self) -> None:
        report = self.run(self.wallet.reconcile())
        assert report.is_clean, report.differences


def test_wallet_follows_its_model(database_url: str, migrated: tuple[Database, Snapshot]) -> None:
    """Random sequences of money calls, each checked against the model (see module doc)."""
    _, snapshot = migrated

    class Machine(WalletModel):
        pass

    Machine.database_url, Machine.snapshot = database_url, snapshot
    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=20,
            stateful_step_count=25,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
