"""The wallet as one object: its capability services built together, the lifecycle (the hold
sweeper, the ledger's workers), and — for callers outside a route (the CLI, tests, benches) —
the calls by their names. Routes take the capability service they use instead."""

from __future__ import annotations

import asyncio

from usercenter.config import Settings
from usercenter.db import Database
from usercenter.identity.service.accounts import UserAccounts
from usercenter.ids.service import IdService
from usercenter.security.crypto import BlindIndex, FieldCipher
from usercenter.wallet.ledger import Ledger
from usercenter.wallet.models import Adjustment, Asset, PayoutAccount, Sponsor
from usercenter.wallet.service.accounts import AccountDirectory
from usercenter.wallet.service.adjustments import AdjustmentService
from usercenter.wallet.service.context import WalletContext
from usercenter.wallet.service.holds import HoldService
from usercenter.wallet.service.payouts import PayoutService
from usercenter.wallet.service.postings import PostingService
from usercenter.wallet.service.sponsors import SponsorService
from usercenter.wallet.service.statements import StatementService
from usercenter.wallet.service.vip import VipService
from usercenter.wallet.service.withdrawals import WithdrawalService


class WalletService:
    """Every capability of the wallet, sharing one context and one account directory."""

    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        ids: IdService,
        ledger: Ledger,
        identity: UserAccounts,
        cipher: FieldCipher,
        blind_index: BlindIndex,
    ) -> None:
        self.context = WalletContext(settings, database, ids, ledger, identity, cipher, blind_index)
        self.settings, self.database, self.ids, self.ledger = settings, database, ids, ledger
        self.identity, self.cipher, self.blind_index = identity, cipher, blind_index
        self.accounts = AccountDirectory(self.context)
        self.postings = PostingService(self.context, self.accounts)
        self.holds = HoldService(self.context, self.accounts)
        self.sponsors = SponsorService(self.context, self.accounts)
        self.vip = VipService(self.context, self.accounts)
        self.payouts = PayoutService(self.context, self.accounts)
        self.withdrawals = WithdrawalService(self.context, self.accounts, self.holds)
        self.adjustments = AdjustmentService(self.context, self.accounts)
        self.statements = StatementService(self.context, self.accounts, self.vip)
        # The calls by their names, as before the wallet was split by capability.
        self.user_or_raise = self.accounts.user_or_raise
        self.account_id = self.accounts.account_id
        self.remember_accounts = self.accounts.remember_accounts
        self.recharge = self.postings.recharge
        self.grant = self.postings.grant
        self.debit = self.postings.debit
        self.spend_coins = self.postings.spend_coins
        self.refund = self.postings.refund
        self.transfer_coins = self.postings.transfer_coins
        self.move = self.postings.move
        self.amount_for_transfer = self.postings.amount_for_transfer
        self.freeze = self.holds.freeze
        self.capture = self.holds.capture
        self.release = self.holds.release
        self.hold_asset = self.holds.hold_asset
        self.release_expired_holds = self.holds.release_expired_holds
        self.sponsor = self.sponsors.sponsor
        self.fund_sponsor = self.sponsors.fund_sponsor
        self.charge_sponsor = self.sponsors.charge_sponsor
        self.buy_vip = self.vip.buy_vip
        self.vip_until = self.vip.vip_until
        self.payout_accounts = self.payouts.payout_accounts
        self.withdrawal_fee = self.withdrawals.withdrawal_fee
        self.apply_withdrawal = self.withdrawals.apply_withdrawal
        self.withdrawal = self.withdrawals.withdrawal
        self.settle_withdrawal = self.withdrawals.settle_withdrawal
        self.adjustment = self.adjustments.adjustment
        self.approve_adjustment = self.adjustments.approve_adjustment
        self.balances = self.statements.balances
        self.user_wallet = self.statements.user_wallet
        self.entries = self.statements.entries
        self.reconcile = self.statements.reconcile

    # --- the lifecycle ----------------------------------------------------------------------

    def start_hold_sweeper(self, every_seconds: float) -> asyncio.Task[None] | None:
        return self.holds.start_hold_sweeper(every_seconds)

    async def close(self) -> None:
        await self.holds.stop_hold_sweeper()
        await self.ledger.close()

    # --- writes outside a route: each in a unit of work of its own ----------------------------

    async def create_sponsor(
        self, *, name: str, sponsor_type: str, contact: dict[str, str] | None, operator_id: str
    ) -> Sponsor:
        async with self.database.unit_of_work() as session:
            sponsor, _ = await self.sponsors.create_sponsor(
                session,
                name=name,
                sponsor_type=sponsor_type,
                contact=contact,
                operator_id=operator_id,
            )
        return sponsor

    async def set_sponsor_status(self, *, sponsor_id: int, status: str) -> Sponsor:
        async with self.database.unit_of_work() as session:
            sponsor, _ = await self.sponsors.set_sponsor_status(
                session, sponsor_id=sponsor_id, status=status
            )
        return sponsor

    async def add_bank_card(
        self, *, user_id: int, real_name: str, bank_name: str, card_number: str, id_card: str
    ) -> PayoutAccount:
        async with self.database.unit_of_work() as session:
            return await self.payouts.add_bank_card(
                session,
                user_id=user_id,
                real_name=real_name,
                bank_name=bank_name,
                card_number=card_number,
                id_card=id_card,
            )

    async def add_alipay_account(
        self, *, user_id: int, real_name: str, account: str
    ) -> PayoutAccount:
        async with self.database.unit_of_work() as session:
            return await self.payouts.add_alipay_account(
                session, user_id=user_id, real_name=real_name, account=account
            )

    async def remove_payout_account(self, *, user_id: int, payout_account_id: int) -> None:
        async with self.database.unit_of_work() as session:
            await self.payouts.remove_payout_account(
                session, user_id=user_id, payout_account_id=payout_account_id
            )

    async def file_adjustment(
        self,
        *,
        user_id: int,
        asset: Asset | str,
        amount: int,
        adjustment_type: str,
        reason: str,
        applicant_id: str,
    ) -> Adjustment:
        async with self.database.unit_of_work() as session:
            return await self.adjustments.file_adjustment(
                session,
                user_id=user_id,
                asset=asset,
                amount=amount,
                adjustment_type=adjustment_type,
                reason=reason,
                applicant_id=applicant_id,
            )

    async def reject_adjustment(
        self, *, adjustment_id: int, approver_id: str, remark: str | None
    ) -> Adjustment:
        async with self.database.unit_of_work() as session:
            return await self.adjustments.reject_adjustment(
                session, adjustment_id=adjustment_id, approver_id=approver_id, remark=remark
            )
