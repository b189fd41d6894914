"""Withdrawals: cash frozen for a payout to a saved account, then settled by staff — paid
(out to clearing, the fee to revenue) or failed (given back)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from usercenter.kit import clock
from usercenter.kit.money import format_amount
from usercenter.kit.pagination import Page, keyset_page
from usercenter.kit.side_rows import SideRow
from usercenter.wallet import repository
from usercenter.wallet.book import Answer, Book
from usercenter.wallet.errors import (
    HoldAlreadyResolved,
    PayoutAccountNotFound,
    WithdrawalAlreadyHandled,
    WithdrawalBelowMinimum,
    WithdrawalNotFound,
)
from usercenter.wallet.events import (
    WithdrawalCompleted,
    WithdrawalRequested,
    WithdrawalReturned,
)
from usercenter.wallet.models import Asset, HoldStatus, Kind, SystemAccount, Withdrawal, user_owner
from usercenter.wallet.service.accounts import AccountDirectory
from usercenter.wallet.service.context import (
    ID_RECORD,
    Business,
    Result,
    WalletCapability,
    WalletContext,
    amount_in,
    leg,
    positive,
    user_key,
)
from usercenter.wallet.service.holds import HoldService, SideWrites

# Withdrawals are not released by the sweeper: staff settle them.
WITHDRAWAL_HOLD_LIFETIME = timedelta(days=3650)


class WithdrawalService(WalletCapability):
    def __init__(
        self, context: WalletContext, accounts: AccountDirectory, holds: HoldService
    ) -> None:
        super().__init__(context, accounts)
        self.holds = holds

    def withdrawal_fee(self, amount: int) -> int:
        """The fee on a withdrawal: its rate in basis points, rounded up to the fen, at least
        the minimum fee."""
        rate, minimum = (
            self.context.settings.wallet_withdrawal_fee_bps,
            self.context.settings.wallet_withdrawal_min_fee,
        )
        return max((amount * rate + 9_999) // 10_000, minimum)

    async def apply_withdrawal_of_user(
        self, *, user_id: int, payout_account_id: int, amount: str | int, key: str | None
    ) -> Withdrawal:
        """A user's own withdrawal, `amount` in yuan as the client wrote it, keyed in the user's
        namespace (IdempotencyKeyMissing without a key); see apply_withdrawal."""
        keyed = user_key(user_id, key)
        _, withdrawal = await self.apply_withdrawal(
            user_id=user_id,
            payout_account_id=payout_account_id,
            amount=amount_in("CNY", amount),
            key=keyed,
        )
        return withdrawal

    async def apply_withdrawal(
        self, *, user_id: int, payout_account_id: int, amount: int, key: str
    ) -> tuple[Result, Withdrawal]:
        """Freeze `amount` of the user's cash for a withdrawal to a saved payout account; the
        fee comes out of it (seed 004: actual = amount - fee).
        WithdrawalBelowMinimum, PayoutAccountNotFound, InsufficientBalance."""
        positive(amount)
        if amount < self.context.settings.wallet_withdrawal_minimum:
            raise WithdrawalBelowMinimum(
                minimum=format_amount("CNY", self.context.settings.wallet_withdrawal_minimum)
            )
        async with self.context.database.read_session() as session:
            payout = await repository.find_payout_account(session, payout_account_id)
        if payout is None or payout.user_id != user_id or payout.deleted_at is not None:
            raise PayoutAccountNotFound()
        fee = self.withdrawal_fee(amount)
        if fee >= amount:
            raise WithdrawalBelowMinimum(
                minimum=format_amount(
                    "CNY", max(self.context.settings.wallet_withdrawal_minimum, fee + 1)
                )
            )
        withdrawal_id = await self.context.ids.next_id(ID_RECORD)

        async def record(connection: AsyncConnection, answer: Answer) -> None:
            await repository.insert_withdrawal(
                connection,
                {
                    "id": withdrawal_id,
                    "user_id": user_id,
                    "payout_account_id": payout_account_id,
                    "payout_masked": payout.masked,
                    "amount": amount,
                    "fee": fee,
                    "hold_id": answer["hold_id"],
                    "status": "PENDING",
                    "handler_id": None,
                    "handle_remark": None,
                    "created_at": clock.now(),
                    "handled_at": None,
                },
            )
            answer.update(withdrawal_id=withdrawal_id, fee=fee, payout_account=payout.masked)
            await self.context.record(
                connection,
                WithdrawalRequested(
                    withdrawal_id=withdrawal_id, user_id=user_id, amount=amount, fee=fee
                ),
            )

        result = await self.holds.freeze(
            owner=user_owner(user_id),
            asset=Asset.CNY,
            amount=amount,
            business=Business(key=key),
            expires_in=WITHDRAWAL_HOLD_LIFETIME,
            destination=SystemAccount.WITHDRAWAL_CLEARING,
            kind=Kind.WITHDRAW,
            side_writes=record,
            extra_request={"payout": payout_account_id},
        )
        return result, await self.withdrawal(int(result.answer["withdrawal_id"]))

    async def withdrawal(self, withdrawal_id: int) -> Withdrawal:
        async with self.context.database.read_session() as session:
            found = await repository.find_withdrawal(session, withdrawal_id)
        if found is None:
            raise WithdrawalNotFound()
        return found

    async def withdrawals(self, user_id: int, limit: int = 50) -> list[Withdrawal]:
        async with self.context.database.read_session() as session:
            return list(await repository.withdrawals_of(session, user_id, limit))

    async def withdrawals_page(
        self, *, status: str | None, user_id: int | None, cursor: str | None, limit: int
    ) -> Page[Withdrawal]:
        """Every user's withdrawals (one user's when named), newest first, of one status when
        named: the staff's queue. ValidationFailed for a cursor not ours."""
        async with self.context.database.read_session() as session:

            async def fetch(before_id: int | None, size: int) -> list[Withdrawal]:
                return list(
                    await repository.withdrawals_page(
                        session, status=status, user_id=user_id, before_id=before_id, limit=size
                    )
                )

            return await keyset_page(fetch, cursor=cursor, limit=limit)

    async def settle_withdrawal(
        self,
        *,
        withdrawal_id: int,
        paid: bool,
        handler_id: str,
        remark: str | None,
        side_rows: Iterable[SideRow] = (),
    ) -> Withdrawal:
        """Staff: paid moves the amount out (to withdrawal clearing, and the fee on from there
        to revenue); failed gives it back — with `side_rows` (the admin-log entry) in the same
        transaction. WithdrawalAlreadyHandled on a second settlement."""
        withdrawal = await self.withdrawal(withdrawal_id)
        if withdrawal.status != "PENDING":
            raise WithdrawalAlreadyHandled()

        async def mark(connection: AsyncConnection, answer: Answer) -> None:
            done = await repository.settle_withdrawal(
                connection,
                withdrawal_id,
                status="PAID" if paid else "FAILED",
                handler_id=handler_id,
                remark=remark,
                now=clock.now(),
            )
            if not done:
                raise WithdrawalAlreadyHandled()
            answer["withdrawal_id"] = withdrawal_id
            facts = {
                "withdrawal_id": withdrawal_id,
                "user_id": withdrawal.user_id,
                "amount": withdrawal.amount,
                "fee": withdrawal.fee,
            }
            await self.context.record(
                connection,
                WithdrawalCompleted(**facts)
                if paid
                else WithdrawalReturned(reason=remark, **facts),
            )

        business = Business(
            business_type="withdrawal",
            business_id=str(withdrawal_id),
            operator_id=handler_id,
            reason=remark,
        )
        try:
            if paid:
                revenue = await self.accounts.system(
                    SystemAccount.REVENUE, Asset.CNY, str(withdrawal_id)
                )
                await self._settle_paid(withdrawal, business, revenue, mark, side_rows)
            else:
                await self.holds.release(
                    hold_id=withdrawal.hold_id,
                    business=business,
                    kind=Kind.WITHDRAW_FAILED,
                    side_writes=mark,
                    side_rows=side_rows,
                )
        except HoldAlreadyResolved:
            raise WithdrawalAlreadyHandled() from None
        return await self.withdrawal(withdrawal_id)

    async def _settle_paid(
        self,
        withdrawal: Withdrawal,
        business: Business,
        revenue: int,
        mark: SideWrites,
        side_rows: Iterable[SideRow],
    ) -> Result:
        hold = await self.holds.hold_or_raise(withdrawal.hold_id)
        fee = withdrawal.fee
        clearing = hold.destination_id

        def plan(book: Book) -> Answer:
            book.resolve_hold(hold.id, HoldStatus.CAPTURED.value, hold.amount)
            legs = [
                leg(Asset.CNY, hold.amount, user_owner(withdrawal.user_id), "withdrawal_clearing")
            ]
            if fee:
                book.move(clearing, revenue, fee)
                legs.append(leg(Asset.CNY, fee, "withdrawal_clearing", "revenue"))
            return {
                "hold_id": hold.id,
                "asset": "CNY",
                "amount": withdrawal.amount,
                "fee": fee,
                "hold_status": "captured",
                "legs": legs,
            }

        return await self.context.post(
            Kind.WITHDRAW_PAID,
            business,
            {"withdrawal": withdrawal.id},
            plan,
            (hold.account_id, clearing, revenue),
            holds=(hold.id,),
            hold_id=hold.id,
            side_writes=mark,
            side_rows=side_rows,
        )
