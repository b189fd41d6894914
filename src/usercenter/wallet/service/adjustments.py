"""Manual adjustments (two people): one staff member files a credit or debit of a user's
balance, another approves it (the money moves, in the ledger posting) or rejects it."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from usercenter.kit import clock, money
from usercenter.kit.money import format_amount
from usercenter.kit.side_rows import SideRow
from usercenter.wallet import repository
from usercenter.wallet.book import Answer, Book
from usercenter.wallet.errors import (
    AdjustmentAlreadyDecided,
    AdjustmentNotFound,
    AmountInvalid,
    BalanceLimitExceeded,
    SelfApprovalRefused,
)
from usercenter.wallet.events import AdjustmentDecided, AdjustmentRequested
from usercenter.wallet.models import Adjustment, Asset, Kind, SystemAccount, user_owner
from usercenter.wallet.service.context import (
    ID_RECORD,
    Business,
    WalletCapability,
    asset_of,
    leg,
)


class AdjustmentService(WalletCapability):
    async def file_adjustment(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        asset: Asset | str,
        amount: int,
        adjustment_type: str,
        reason: str,
        applicant_id: str,
    ) -> Adjustment:
        """File a manual adjustment (positive credits the user, negative debits), in the
        caller's transaction; nothing moves until another staff member approves it.
        AmountInvalid, BalanceLimitExceeded, AssetInvalid, UserNotFound."""
        asset = asset_of(asset)
        if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
            raise AmountInvalid(why=money.NOT_ZERO)
        if abs(amount) > self.context.settings.wallet_balance_limit:
            raise BalanceLimitExceeded(
                limit=format_amount(asset.value, self.context.settings.wallet_balance_limit)
            )
        await self.accounts.user_or_raise(user_id)
        adjustment = Adjustment(
            id=await self.context.ids.next_id(ID_RECORD, session=session),
            user_id=user_id,
            asset=asset.value,
            amount=amount,
            adjustment_type=adjustment_type,
            reason=reason,
            applicant_id=applicant_id,
            approver_id=None,
            status="PENDING",
            approval_remark=None,
            transfer_id=None,
            created_at=clock.now(),
            decided_at=None,
        )
        session.add(adjustment)
        await session.flush()
        await self.context.record_in(
            session,
            AdjustmentRequested(
                adjustment_id=adjustment.id,
                user_id=user_id,
                asset=asset.value,
                amount=amount,
                by=applicant_id,
            ),
        )
        return adjustment

    async def adjustment(self, adjustment_id: int) -> Adjustment:
        async with self.context.database.read_session() as session:
            found = await repository.find_adjustment(session, adjustment_id)
        if found is None:
            raise AdjustmentNotFound()
        return found

    async def adjustments(self, *, status: str | None = None, limit: int = 50) -> list[Adjustment]:
        async with self.context.database.read_session() as session:
            return list(await repository.adjustments(session, status=status, limit=limit))

    async def approve_adjustment(
        self,
        *,
        adjustment_id: int,
        approver_id: str,
        remark: str | None,
        side_rows: Iterable[SideRow] = (),
    ) -> Adjustment:
        """Approve and move the money in one transaction — the ledger posting, which carries
        `side_rows` (the admin-log entry): all of it commits, or none. SelfApprovalRefused for
        the applicant, AdjustmentAlreadyDecided, InsufficientBalance for a debit the user
        cannot cover (the adjustment stays pending)."""
        async with self.context.database.read_session() as session:
            adjustment = await self._pending_adjustment(session, adjustment_id, approver_id)
        await self.accounts.user_or_raise(adjustment.user_id)
        asset = Asset(adjustment.asset)
        user = await self.accounts.account_id(user_owner(adjustment.user_id), asset)
        pool = await self.accounts.system(SystemAccount.ADJUSTMENT, asset, str(adjustment_id))
        amount = adjustment.amount
        facts = {
            "adjustment_id": adjustment_id,
            "user_id": adjustment.user_id,
            "asset": asset.value,
            "amount": amount,
        }

        def plan(book: Book) -> Answer:
            if amount > 0:
                book.move(pool, user, amount)
                legs = [leg(asset, amount, "adjustment", user_owner(adjustment.user_id))]
            else:
                book.move(user, pool, -amount)
                legs = [leg(asset, -amount, user_owner(adjustment.user_id), "adjustment")]
            return {
                "asset": asset.value,
                "amount": amount,
                "adjustment_id": adjustment_id,
                "legs": legs,
            }

        async def decide(connection: AsyncConnection, answer: Answer) -> None:
            if not await repository.decide_adjustment(
                connection,
                adjustment_id,
                status="APPROVED",
                approver_id=approver_id,
                remark=remark,
                transfer_id=int(answer["transfer_id"]),
                now=clock.now(),
            ):
                raise AdjustmentAlreadyDecided()
            await self.context.record(
                connection,
                AdjustmentDecided(decision="approved", by=approver_id, **facts),
            )

        business = Business(
            business_type="adjustment",
            business_id=str(adjustment_id),
            operator_id=approver_id,
            reason=adjustment.reason,
        )
        await self.context.post(
            Kind.REFILL,
            business,
            {"adjustment": adjustment_id},
            plan,
            (pool, user),
            side_writes=decide,
            side_rows=side_rows,
        )
        return await self.adjustment(adjustment_id)

    async def reject_adjustment(
        self, session: AsyncSession, *, adjustment_id: int, approver_id: str, remark: str | None
    ) -> Adjustment:
        """Reject a pending adjustment, in the caller's transaction; nothing moves.
        AdjustmentNotFound, SelfApprovalRefused, AdjustmentAlreadyDecided."""
        adjustment = await self._pending_adjustment(session, adjustment_id, approver_id)
        if not await repository.decide_adjustment(
            session,
            adjustment_id,
            status="REJECTED",
            approver_id=approver_id,
            remark=remark,
            transfer_id=None,
            now=clock.now(),
        ):
            raise AdjustmentAlreadyDecided()
        await session.refresh(adjustment)
        await self.context.record_in(
            session,
            AdjustmentDecided(
                adjustment_id=adjustment_id,
                user_id=adjustment.user_id,
                asset=adjustment.asset,
                amount=adjustment.amount,
                decision="rejected",
                by=approver_id,
            ),
        )
        return adjustment

    @staticmethod
    async def _pending_adjustment(
        session: AsyncSession, adjustment_id: int, approver_id: str
    ) -> Adjustment:
        adjustment = await repository.find_adjustment(session, adjustment_id)
        if adjustment is None:
            raise AdjustmentNotFound()
        if adjustment.applicant_id == approver_id:
            raise SelfApprovalRefused()
        if adjustment.status != "PENDING":
            raise AdjustmentAlreadyDecided()
        return adjustment
