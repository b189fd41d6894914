"""VIP: membership bought from the cash balance, extended by each purchase, with the give
coins that come with it (seed 004 §1.2, §3.3)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from usercenter.kit import clock
from usercenter.wallet import repository
from usercenter.wallet.book import Answer, Book
from usercenter.wallet.models import Asset, Kind, SystemAccount, user_owner
from usercenter.wallet.service.context import (
    Business,
    Result,
    WalletCapability,
    leg,
    positive,
    spread,
)


class VipService(WalletCapability):
    async def buy_vip(
        self,
        *,
        user_id: int,
        price: int,
        days: int,
        business: Business,
        grant_give_coins: int | None = None,
    ) -> Result:
        """VIP for `days` (after the current period, if any) for `price` fen of cash balance,
        with the give coins that come with it (seed 004 §3.3: 2000) in the same transaction.
        InsufficientBalance."""
        positive(price, "price")
        positive(days, "days")
        await self.accounts.user_or_raise(user_id)
        grant = (
            self.context.settings.wallet_vip_grant_coins
            if grant_give_coins is None
            else grant_give_coins
        )
        cash = await self.accounts.account_id(user_owner(user_id), Asset.CNY)
        revenue = await self.accounts.system(SystemAccount.REVENUE, Asset.CNY, spread(business))
        accounts = [cash, revenue]
        if grant:
            pool = await self.accounts.system(
                SystemAccount.PROMOTION_POOL, Asset.COIN_GIVE, spread(business)
            )
            give = await self.accounts.account_id(user_owner(user_id), Asset.COIN_GIVE)
            accounts += [pool, give]

        def plan(book: Book) -> Answer:
            book.move(cash, revenue, price)
            book.count(price)
            legs = [leg(Asset.CNY, price, user_owner(user_id), "revenue")]
            if grant:
                book.move(pool, give, grant)
                legs.append(leg(Asset.COIN_GIVE, grant, "promotion_pool", user_owner(user_id)))
            return {"asset": "CNY", "amount": price, "days": days, "legs": legs}

        async def extend(connection: AsyncConnection, answer: Answer) -> None:
            now = clock.now()
            ends_at = await repository.lock_vip(connection, user_id)
            start = max(now, ends_at) if ends_at else now
            new_end = start + timedelta(days=days)
            await repository.save_vip(
                connection,
                user_id,
                starts_at=now,
                ends_at=new_end,
                exists=ends_at is not None,
                now=now,
            )
            answer["vip_ends_at"] = new_end.isoformat()

        request = {"user": user_id, "price": price, "days": days, "grant": grant}
        return await self.context.post(
            Kind.VIP, business, request, plan, tuple(accounts), side_writes=extend
        )

    async def vip_until(self, user_id: int) -> datetime | None:
        async with self.context.database.read_session() as session:
            membership = await repository.find_vip(session, user_id)
        if membership is None or membership.ends_at <= clock.now():
            return None
        return membership.ends_at
