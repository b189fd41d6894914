"""Postings: the money calls that move balances — recharges, grants, debits, coin spends,
refunds and user-to-user transfers. Each is one ledger posting (`WalletContext.post`)."""

from __future__ import annotations

from usercenter.identity.errors import UserNotFound
from usercenter.kit import money
from usercenter.kit.money import format_amount
from usercenter.wallet import repository
from usercenter.wallet.book import Answer, Book
from usercenter.wallet.errors import (
    ASSET_NAMES,
    AmountInvalid,
    AssetNotTransferable,
    CashNotTransferable,
    InsufficientBalance,
    RecipientNotFound,
    RefundExceedsDebit,
    TransferNotFound,
    TransferNotRefundable,
    TransferToSelf,
)
from usercenter.wallet.models import (
    COIN_SPENDING_ORDER,
    REFUNDABLE_KINDS,
    Asset,
    Kind,
    SystemAccount,
    user_owner,
)
from usercenter.wallet.service.context import (
    Business,
    Result,
    WalletCapability,
    amount_in,
    asset_of,
    leg,
    positive,
    spread,
    user_key,
)


class PostingService(WalletCapability):
    async def recharge(
        self,
        *,
        user_id: int,
        asset: Asset | str,
        amount: int,
        channel: SystemAccount,
        payment_id: str,
        bonus_give_coins: int = 0,
        key: str | None = None,
    ) -> Result:
        """Money paid through WeChat Pay or Alipay arrives: `amount` of `asset` (CNY or
        recharge coins) from the channel's external account, plus optional give coins from the
        promotion pool (a meal's bonus) in the same transfer. Keyed by the payment id."""
        asset = asset_of(asset, frozenset({Asset.CNY, Asset.COIN_RECHARGE}))
        positive(amount)
        if bonus_give_coins < 0:
            raise AmountInvalid(field="bonus_give_coins", why=money.NOT_NEGATIVE)
        await self.accounts.user_or_raise(user_id)
        business = Business(key=key, business_type=channel.value, business_id=payment_id)
        source = await self.accounts.system(channel, asset, spread(business))
        target = await self.accounts.account_id(user_owner(user_id), asset)
        accounts = [source, target]
        if bonus_give_coins:
            pool = await self.accounts.system(
                SystemAccount.PROMOTION_POOL, Asset.COIN_GIVE, spread(business)
            )
            give = await self.accounts.account_id(user_owner(user_id), Asset.COIN_GIVE)
            accounts += [pool, give]

        def plan(book: Book) -> Answer:
            book.move(source, target, amount)
            legs = [leg(asset, amount, channel.value, user_owner(user_id))]
            if bonus_give_coins:
                book.move(pool, give, bonus_give_coins)
                legs.append(
                    leg(Asset.COIN_GIVE, bonus_give_coins, "promotion_pool", user_owner(user_id))
                )
            return {
                "asset": asset.value,
                "amount": amount,
                "legs": legs,
                "balance_after": book.account(target).balance,
            }

        request = {
            "user": user_id,
            "asset": asset.value,
            "amount": amount,
            "bonus": bonus_give_coins,
        }
        return await self.context.post(Kind.RECHARGE, business, request, plan, tuple(accounts))

    async def grant(
        self, *, user_id: int, asset: Asset | str, amount: int, kind: Kind, business: Business
    ) -> Result:
        """Give or reward coins, points earned, or a commission: a credit from the business's
        own pool (GIFT, REWARD: promotion pool; POINTS_EARN: points pool; COMMISSION: revenue)."""
        sources = {
            Kind.GIFT: (SystemAccount.PROMOTION_POOL, frozenset({Asset.COIN_GIVE})),
            Kind.REWARD: (SystemAccount.PROMOTION_POOL, frozenset({Asset.COIN_REWARD})),
            Kind.POINTS_EARN: (SystemAccount.POINTS_POOL, frozenset({Asset.POINTS})),
            Kind.COMMISSION: (SystemAccount.REVENUE, frozenset({Asset.CNY})),
        }
        pool, allowed = sources[kind]
        asset = asset_of(asset, allowed)
        positive(amount)
        await self.accounts.user_or_raise(user_id)
        source = await self.accounts.system(pool, asset, spread(business))
        target = await self.accounts.account_id(user_owner(user_id), asset)

        def plan(book: Book) -> Answer:
            book.move(source, target, amount)
            return {
                "asset": asset.value,
                "amount": amount,
                "legs": [leg(asset, amount, pool.value, user_owner(user_id))],
                "balance_after": book.account(target).balance,
            }

        request = {"user": user_id, "asset": asset.value, "amount": amount}
        return await self.context.post(kind, business, request, plan, (source, target))

    async def debit(
        self,
        *,
        user_id: int,
        asset: Asset | str,
        amount: int,
        business: Business,
        kind: Kind = Kind.CONSUME,
    ) -> Result:
        """Consumption from one balance (cash, one coin bucket, points) to revenue.
        InsufficientBalance when its available part does not cover `amount`; UserNotFound."""
        asset = asset_of(asset)
        positive(amount)
        await self.accounts.user_or_raise(user_id)
        payer = await self.accounts.account_id(user_owner(user_id), asset)
        receiver = SystemAccount.POINTS_POOL if asset is Asset.POINTS else SystemAccount.REVENUE
        sink = await self.accounts.system(
            receiver,
            asset,
            spread(business),
        )

        def plan(book: Book) -> Answer:
            book.move(payer, sink, amount)
            book.count(amount)
            return {
                "asset": asset.value,
                "amount": amount,
                "legs": [leg(asset, amount, user_owner(user_id), receiver.value)],
                "balance_after": book.account(payer).balance,
            }

        request = {"user": user_id, "asset": asset.value, "amount": amount}
        return await self.context.post(kind, business, request, plan, (payer, sink))

    async def spend_coins(self, *, user_id: int, amount: int, business: Business) -> Result:
        """Coins for consumption: reward coins first, then give, then recharge coins (seed 004
        deduct_details), in one transfer. InsufficientBalance, moving nothing, when the three
        buckets together fall short; UserNotFound."""
        positive(amount)
        await self.accounts.user_or_raise(user_id)
        buckets = [
            (asset, await self.accounts.account_id(user_owner(user_id), asset))
            for asset in COIN_SPENDING_ORDER
        ]
        sinks = {
            asset: await self.accounts.system(SystemAccount.REVENUE, asset, spread(business))
            for asset, _ in buckets
        }

        def plan(book: Book) -> Answer:
            if sum(max(book.account(account).available, 0) for _, account in buckets) < amount:
                raise InsufficientBalance()
            left, split, legs = amount, {}, []
            for asset, account in buckets:
                take = min(left, book.account(account).available)
                if take > 0:
                    book.move(account, sinks[asset], take)
                    legs.append(leg(asset, take, user_owner(user_id), "revenue"))
                    left -= take
                split[asset.value] = max(take, 0)
            book.count(amount)
            return {"asset": "COIN", "amount": amount, "deduct_details": split, "legs": legs}

        accounts = tuple(account for _, account in buckets) + tuple(sinks.values())
        request = {"user": user_id, "coins": amount}
        return await self.context.post(Kind.CONSUME, business, request, plan, accounts)

    async def refund(self, *, transfer_id: int, amount: int, business: Business) -> Result:
        """Give back (part of) an earlier debit to whom it was taken from, never more than it
        took in all. A coin spend is refunded to the recharge bucket first, then give, then
        reward. TransferNotFound, TransferNotRefundable, RefundExceedsDebit."""
        positive(amount)
        async with self.context.database.read_session() as session:
            original = await repository.find_transfer(session, transfer_id)
            if original is None:
                raise TransferNotFound()
            if original.kind not in REFUNDABLE_KINDS:
                raise TransferNotRefundable()
            legs = await repository.debit_legs_of(session, transfer_id)
            owners = {
                a.id: a
                for a in await repository.accounts_by_id(
                    session, {a for leg in legs for a in leg[:2]}
                )
            }
        payer_legs = [leg for leg in legs if not owners[leg[0]].may_go_negative]
        asset_of = {account_id: ref.asset for account_id, ref in owners.items()}
        # What the debit took: one asset, or "COIN" for coins from several buckets.
        refunded_asset = str(original.result.get("asset", asset_of[payer_legs[0][0]]))

        def plan(book: Book) -> Answer:
            taken = book.original(transfer_id)
            if amount > taken.refundable:
                raise RefundExceedsDebit(
                    left=format_amount(asset_of[payer_legs[0][0]], taken.refundable)
                )
            skip, left, moved = taken.refunded, amount, []
            for payer, payee, leg_amount in reversed(payer_legs):
                skipped = min(skip, leg_amount)
                skip -= skipped
                give = min(leg_amount - skipped, left)
                if give > 0:
                    book.move(payee, payer, give)
                    moved.append(
                        leg(Asset(asset_of[payer]), give, owners[payee].owner, owners[payer].owner)
                    )
                    left -= give
            taken.refunded += amount
            return {
                "asset": refunded_asset,
                "amount": amount,
                "refunded_total": taken.refunded,
                "legs": moved,
                "refund_of": transfer_id,
            }

        accounts = tuple({a for leg in payer_legs for a in leg[:2]})
        request = {"transfer": transfer_id, "amount": amount}
        return await self.context.post(
            Kind.REFUND,
            business,
            request,
            plan,
            accounts,
            originals=(transfer_id,),
            related_transfer_id=transfer_id,
        )

    async def transfer_coins(
        self,
        *,
        from_user_id: int,
        to_user_id: int,
        amount: int,
        asset: Asset | str,
        business: Business,
    ) -> Result:
        """User to user, recharge coins only (seed 004 §3.5). CashNotTransferable for cash,
        AssetNotTransferable for give and reward coins and points, TransferToSelf,
        RecipientNotFound (no such user, or not active), InsufficientBalance."""
        asset = asset_of(asset)
        if asset is Asset.CNY:
            raise CashNotTransferable()
        if asset is not Asset.COIN_RECHARGE:
            raise AssetNotTransferable(asset=ASSET_NAMES[asset.value])
        positive(amount)
        if from_user_id == to_user_id:
            raise TransferToSelf()
        try:
            await self.accounts.user_or_raise(to_user_id, field="to_user_id")
        except UserNotFound:
            raise RecipientNotFound() from None
        return await self.move(
            from_owner=user_owner(from_user_id),
            to_owner=user_owner(to_user_id),
            asset=asset,
            amount=amount,
            kind=Kind.TRANSFER,
            business=business,
        )

    async def move(
        self,
        *,
        from_owner: str,
        to_owner: str,
        asset: Asset | str,
        amount: int,
        kind: Kind,
        business: Business,
    ) -> Result:
        """`amount` from one account to another in one leg: the primitive under user-to-user
        transfers (who may send what to whom is the caller's rule). InsufficientBalance."""
        asset = asset_of(asset)
        positive(amount)
        payer = await self.accounts.account_id(from_owner, asset)
        payee = await self.accounts.account_id(to_owner, asset)

        def plan(book: Book) -> Answer:
            book.move(payer, payee, amount)
            book.count(amount)
            return {
                "asset": asset.value,
                "amount": amount,
                "legs": [leg(asset, amount, from_owner, to_owner)],
                "balance_after": book.account(payer).balance,
            }

        request = {"from": from_owner, "to": to_owner, "asset": asset.value, "amount": amount}
        return await self.context.post(kind, business, request, plan, (payer, payee))

    async def consume(self, *, user_id: int, asset: str, amount: int, business: Business) -> Result:
        """A debit for consumption, its kind named by the asset: POINTS_SPEND for points,
        CONSUME for cash and coins (see debit)."""
        kind = Kind.POINTS_SPEND if asset == Asset.POINTS.value else Kind.CONSUME
        return await self.debit(
            user_id=user_id, asset=asset, amount=amount, business=business, kind=kind
        )

    async def refund_as_written(
        self, *, transfer_id: int, amount: str | int, business: Business
    ) -> Result:
        """A refund whose amount the client wrote in the units of what the transfer moved
        (see refund). TransferNotFound, AmountInvalid."""
        return await self.refund(
            transfer_id=transfer_id,
            amount=await self.amount_for_transfer(transfer_id, amount),
            business=business,
        )

    async def amount_for_transfer(self, transfer_id: int, value: str | int) -> int:
        """`value` in the units of what an earlier transfer moved (for a refund of it)."""
        async with self.context.database.read_session() as session:
            original = await repository.find_transfer(session, transfer_id)
        if original is None:
            raise TransferNotFound()
        return amount_in(str(original.result.get("asset", "CNY")), value)

    async def transfer_coins_of_user(
        self,
        *,
        from_user_id: int,
        to_user_id: int,
        amount: int,
        asset: str,
        key: str | None,
        remark: str | None,
    ) -> Result:
        """A user's own transfer (see transfer_coins), keyed in the user's namespace:
        IdempotencyKeyMissing without a key."""
        return await self.transfer_coins(
            from_user_id=from_user_id,
            to_user_id=to_user_id,
            amount=amount,
            asset=asset,
            business=Business(key=user_key(from_user_id, key), reason=remark),
        )
