"""The wallet's rules, through the service, on each database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.wallet.conftest import balance_of, make_user, top_up
from usercenter.identity.errors import UserNotFound
from usercenter.wallet.errors import (
    AssetNotTransferable,
    CaptureExceedsHold,
    HoldAlreadyResolved,
    IdempotencyConflict,
    InsufficientBalance,
    RefundExceedsDebit,
    SelfApprovalRefused,
    SponsorInactive,
    TransferNotRefundable,
)
from usercenter.wallet.models import SystemAccount
from usercenter.wallet.service import Business, WalletService


def order(number: int | str) -> Business:
    return Business(business_type="ORDER", business_id=str(number))


class TestRecharge:
    async def test_credits_the_user_and_repeats_by_payment_id(self, wallet: WalletService) -> None:
        user = await make_user(wallet)
        first = await wallet.recharge(
            user_id=user,
            asset="CNY",
            amount=1230,
            channel=SystemAccount.EXTERNAL_WECHATPAY,
            payment_id="wx-1",
        )
        again = await wallet.recharge(
            user_id=user,
            asset="CNY",
            amount=1230,
            channel=SystemAccount.EXTERNAL_WECHATPAY,
            payment_id="wx-1",
        )
        assert not first.repeated
        assert again.repeated
        assert again.transfer_id == first.transfer_id
        assert await balance_of(wallet, user, "CNY") == (1230, 0)

    async def test_same_payment_id_with_another_amount_is_a_conflict(
        self, wallet: WalletService
    ) -> None:
        user = await make_user(wallet)
        await wallet.recharge(
            user_id=user,
            asset="CNY",
            amount=100,
            channel=SystemAccount.EXTERNAL_ALIPAY,
            payment_id="ali-1",
        )
        with pytest.raises(IdempotencyConflict):
            await wallet.recharge(
                user_id=user,
                asset="CNY",
                amount=200,
                channel=SystemAccount.EXTERNAL_ALIPAY,
                payment_id="ali-1",
            )
        assert await balance_of(wallet, user, "CNY") == (100, 0)


class TestDebit:
    async def test_refuses_more_than_the_balance_and_moves_nothing(
        self, wallet: WalletService
    ) -> None:
        user = await make_user(wallet)
        await top_up(wallet, user, "CNY", 500)
        with pytest.raises(InsufficientBalance):
            await wallet.debit(user_id=user, asset="CNY", amount=501, business=order(1))
        done = await wallet.debit(user_id=user, asset="CNY", amount=500, business=order(1))
        assert done.answer["balance_after"] == 0
        assert await balance_of(wallet, user, "CNY") == (0, 0)


class TestSpendCoins:
    async def test_takes_reward_then_give_then_recharge(self, wallet: WalletService) -> None:
        user = await make_user(wallet)
        await top_up(wallet, user, "COIN_REWARD", 5)
        await top_up(wallet, user, "COIN_GIVE", 10)
        await top_up(wallet, user, "COIN_RECHARGE", 100)
        spent = await wallet.spend_coins(user_id=user, amount=30, business=order(7))
        assert spent.answer["deduct_details"] == {
            "COIN_REWARD": 5,
            "COIN_GIVE": 10,
            "COIN_RECHARGE": 15,
        }
        assert await balance_of(wallet, user, "COIN_RECHARGE") == (85, 0)

    async def test_short_buckets_move_nothing(self, wallet: WalletService) -> None:
        user = await make_user(wallet)
        await top_up(wallet, user, "COIN_REWARD", 5)
        await top_up(wallet, user, "COIN_RECHARGE", 5)
        with pytest.raises(InsufficientBalance):
            await wallet.spend_coins(user_id=user, amount=11, business=order(8))
        assert await balance_of(wallet, user, "COIN_REWARD") == (5, 0)
        assert await balance_of(wallet, user, "COIN_RECHARGE") == (5, 0)


class TestRefund:
    async def test_never_more_than_the_debit(self, wallet: WalletService) -> None:
        user = await make_user(wallet)
        await top_up(wallet, user, "COIN_GIVE", 10)
        await top_up(wallet, user, "COIN_RECHARGE", 10)
        spent = await wallet.spend_coins(user_id=user, amount=15, business=order(9))
        first = await wallet.refund(
            transfer_id=spent.transfer_id, amount=4, business=Business(key="refund-1")
        )
        # Recharge coins come back first.
        assert first.answer["legs"][0]["asset"] == "COIN_RECHARGE"
        await wallet.refund(
            transfer_id=spent.transfer_id, amount=8, business=Business(key="refund-2")
        )
        with pytest.raises(RefundExceedsDebit):
            await wallet.refund(
                transfer_id=spent.transfer_id, amount=4, business=Business(key="refund-3")
            )
        await wallet.refund(
            transfer_id=spent.transfer_id, amount=3, business=Business(key="refund-3")
        )
        assert await balance_of(wallet, user, "COIN_RECHARGE") == (10, 0)
        assert await balance_of(wallet, user, "COIN_GIVE") == (10, 0)

    async def test_a_credit_is_not_refundable(self, wallet: WalletService) -> None:
        user = await make_user(wallet)
        credit = await top_up(wallet, user, "CNY", 100)
        with pytest.raises(TransferNotRefundable):
            await wallet.refund(
                transfer_id=credit.transfer_id, amount=1, business=Business(key="r")
            )


class TestTransferCoins:
    async def test_moves_recharge_coins_between_users(self, wallet: WalletService) -> None:
        alice, bob = await make_user(wallet), await make_user(wallet)
        await top_up(wallet, alice, "COIN_RECHARGE", 50)
        await wallet.transfer_coins(
            from_user_id=alice,
            to_user_id=bob,
            amount=20,
            asset="COIN_RECHARGE",
            business=Business(key="t1"),
        )
        assert await balance_of(wallet, bob, "COIN_RECHARGE") == (20, 0)

    async def test_give_coins_are_refused(self, wallet: WalletService) -> None:
        alice, bob = await make_user(wallet), await make_user(wallet)
        await top_up(wallet, alice, "COIN_GIVE", 50)
        with pytest.raises(AssetNotTransferable):
            await wallet.transfer_coins(
                from_user_id=alice,
                to_user_id=bob,
                amount=20,
                asset="COIN_GIVE",
                business=Business(key="t2"),
            )


class TestHolds:
    async def test_capture_part_releases_the_rest(self, wallet: WalletService) -> None:
        user = await make_user(wallet)
        await top_up(wallet, user, "CNY", 1000)
        held = await wallet.freeze(
            owner=f"user:{user}",
            asset="CNY",
            amount=600,
            business=order(11),
            expires_in=timedelta(minutes=5),
        )
        assert await balance_of(wallet, user, "CNY") == (1000, 600)
        with pytest.raises(InsufficientBalance):
            await wallet.debit(user_id=user, asset="CNY", amount=401, business=order(12))
        hold_id = held.answer["hold_id"]
        with pytest.raises(CaptureExceedsHold):
            await wallet.capture(hold_id=hold_id, amount=601, business=Business())
        await wallet.capture(hold_id=hold_id, amount=250, business=Business())
        assert await balance_of(wallet, user, "CNY") == (750, 0)
        with pytest.raises(HoldAlreadyResolved):
            await wallet.release(hold_id=hold_id, business=Business())

    async def test_expired_holds_are_released_by_the_sweeper(self, wallet: WalletService) -> None:
        user = await make_user(wallet)
        await top_up(wallet, user, "CNY", 100)
        await wallet.freeze(
            owner=f"user:{user}",
            asset="CNY",
            amount=100,
            business=order(13),
            expires_in=timedelta(seconds=-1),
        )
        assert await wallet.release_expired_holds() == 1
        assert await balance_of(wallet, user, "CNY") == (100, 0)


class TestAdjustments:
    async def test_needs_a_second_person(self, wallet: WalletService) -> None:
        user = await make_user(wallet)
        filed = await wallet.file_adjustment(
            user_id=user,
            asset="COIN_RECHARGE",
            amount=30,
            adjustment_type="COMPENSATION",
            reason="outage",
            applicant_id="staff-1",
        )
        with pytest.raises(SelfApprovalRefused):
            await wallet.approve_adjustment(
                adjustment_id=filed.id, approver_id="staff-1", remark=None
            )
        assert await balance_of(wallet, user, "COIN_RECHARGE") == (0, 0)
        approved = await wallet.approve_adjustment(
            adjustment_id=filed.id, approver_id="staff-2", remark="ok"
        )
        assert approved.status == "APPROVED"
        assert approved.transfer_id
        assert await balance_of(wallet, user, "COIN_RECHARGE") == (30, 0)

    async def test_a_user_disabled_before_approval_gets_nothing(
        self, wallet: WalletService
    ) -> None:
        user = await make_user(wallet)
        filed = await wallet.file_adjustment(
            user_id=user,
            asset="CNY",
            amount=500,
            adjustment_type="COMPENSATION",
            reason="outage",
            applicant_id="staff-1",
        )
        async with wallet.database.unit_of_work() as session:
            await wallet.identity.disable_user(session, user)

        with pytest.raises(UserNotFound):
            await wallet.approve_adjustment(
                adjustment_id=filed.id, approver_id="staff-2", remark=None
            )

        assert (await wallet.adjustment(filed.id)).status == "PENDING"
        assert await balance_of(wallet, user, "CNY") == (0, 0)


class TestOwners:
    @pytest.mark.parametrize("user_id", [0, -1, 987_654_321, 2**63, 2**64])
    async def test_money_for_no_user_is_refused_before_anything_is_written(
        self, wallet: WalletService, user_id: int
    ) -> None:
        with pytest.raises(UserNotFound) as refused:
            await wallet.recharge(
                user_id=user_id,
                asset="CNY",
                amount=100,
                channel=SystemAccount.EXTERNAL_WECHATPAY,
                payment_id=f"wx-nobody-{user_id}",
            )

        assert refused.value.field == "user_id"
        assert (await wallet.reconcile()).accounts == 0

    async def test_a_suspended_sponsor_cannot_be_held(self, wallet: WalletService) -> None:
        sponsor = await wallet.create_sponsor(
            name="Acme", sponsor_type="ENTERPRISE", contact=None, operator_id="staff-1"
        )
        await wallet.fund_sponsor(
            sponsor_id=sponsor.id,
            amount=1000,
            channel=SystemAccount.EXTERNAL_ALIPAY,
            payment_id="ali-acme",
        )
        await wallet.set_sponsor_status(sponsor_id=sponsor.id, status="SUSPENDED")

        with pytest.raises(SponsorInactive):
            await wallet.freeze(
                owner=f"sponsor:{sponsor.id}",
                asset="CNY",
                amount=100,
                business=order("held-sponsor"),
                expires_in=timedelta(minutes=5),
            )

        assert (await wallet.sponsor(sponsor.id))[1].frozen == 0
