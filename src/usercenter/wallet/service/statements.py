"""Statements and reconciliation: balances, a user's wallet, the entries of an owner page by
page, and the check of every invariant of the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from usercenter.db import Database
from usercenter.kit.pagination import Page, keyset_page
from usercenter.wallet import repository
from usercenter.wallet.errors import KindInvalid, SponsorNotFound
from usercenter.wallet.models import Asset, Entry, Kind, sponsor_owner, user_owner
from usercenter.wallet.service.accounts import AccountDirectory
from usercenter.wallet.service.context import Balance, WalletCapability, WalletContext, asset_of
from usercenter.wallet.service.vip import VipService

# The prefix every user's account owner starts with (`user:<id>`, see models.user_owner).
USER_OWNERS = "user:"


@dataclass(frozen=True, slots=True)
class WalletOverview:
    """The dashboard's wallet figures: the staff's backlog and what users hold."""

    pending_withdrawals: int
    pending_withdrawal_amount: int  # fen
    pending_adjustments: int
    # (asset, sum of every user's balance in it, smallest units), by asset name.
    user_totals: list[tuple[str, int]]


@dataclass(frozen=True, slots=True)
class Report:
    """The reconciliation: what was checked and every difference found."""

    accounts: int
    transfers: int
    entries: int
    differences: list[repository.Difference]

    @property
    def is_clean(self) -> bool:
        return not self.differences


async def reconcile(database: Database) -> Report:
    """The reconciliation (see StatementService.reconcile); needs nothing but the database."""
    async with database.read_session() as session:
        differences = await repository.reconcile(session)
        counts = await repository.counts(session)
    return Report(*counts, differences=differences)


class StatementService(WalletCapability):
    def __init__(self, context: WalletContext, accounts: AccountDirectory, vip: VipService) -> None:
        super().__init__(context, accounts)
        self.vip = vip

    async def balances(self, owner: str) -> list[Balance]:
        """Every asset's balance of `owner`, zero for assets never used."""
        async with self.context.database.read_session() as session:
            accounts = {a.asset: a for a in await repository.accounts_of(session, owner)}
        return [
            Balance(asset.value, accounts[asset.value].balance, accounts[asset.value].frozen)
            if asset.value in accounts
            else Balance(asset.value, 0, 0)
            for asset in Asset
        ]

    async def user_wallet(
        self, user_id: int, *, is_known: bool = False
    ) -> tuple[list[Balance], datetime | None]:
        """A user's balances and VIP end. UserNotFound for an id that is no user's, unless
        `is_known` (the caller's own token names the user); a disabled user's wallet shows."""
        if not is_known:
            await self.accounts.user_or_raise(user_id, must_be_active=False)
        return await self.balances(user_owner(user_id)), await self.vip.vip_until(user_id)

    async def entries(
        self, owner: str, *, asset: str | None, kind: str | None, cursor: str | None, limit: int
    ) -> Page[Entry]:
        """`owner`'s entries, newest first, of one asset and one kind when named. ValidationFailed
        for a cursor not ours, AssetInvalid, KindInvalid."""
        async with self.context.database.read_session() as session:

            async def fetch(before_id: int | None, size: int) -> list[Entry]:
                if asset is not None:
                    asset_of(asset)
                if kind is not None and kind not in Kind.__members__:
                    raise KindInvalid()
                accounts = [
                    a.id
                    for a in await repository.accounts_of(session, owner)
                    if asset is None or a.asset == asset
                ]
                if not accounts:
                    return []
                return list(
                    await repository.entries_page(
                        session, accounts, kind=kind, before_id=before_id, limit=size
                    )
                )

            return await keyset_page(fetch, cursor=cursor, limit=limit)

    async def user_entries(
        self, user_id: int, *, asset: str | None, kind: str | None, cursor: str | None, limit: int
    ) -> Page[Entry]:
        """A user's entries as staff see them (a disabled user's too), newest first.
        UserNotFound, and what `entries` raises."""
        await self.accounts.user_or_raise(user_id, must_be_active=False)
        return await self.entries(
            user_owner(user_id), asset=asset, kind=kind, cursor=cursor, limit=limit
        )

    async def sponsor_entries(
        self,
        sponsor_id: int,
        *,
        asset: str | None,
        kind: str | None,
        cursor: str | None,
        limit: int,
    ) -> Page[Entry]:
        """A sponsor's entries, newest first. SponsorNotFound, and what `entries` raises."""
        async with self.context.database.read_session() as session:
            if await repository.find_sponsor(session, sponsor_id) is None:
                raise SponsorNotFound()
        return await self.entries(
            sponsor_owner(sponsor_id), asset=asset, kind=kind, cursor=cursor, limit=limit
        )

    async def overview(self) -> WalletOverview:
        """Pending withdrawals (count, amount), pending adjustments, and the total every user
        holds per asset: three aggregate queries, none per user."""
        async with self.context.database.read_session() as session:
            count, amount = await repository.pending_withdrawals(session)
            adjustments = await repository.count_adjustments(session, "PENDING")
            totals = await repository.totals_by_asset(session, USER_OWNERS)
        return WalletOverview(count, amount, adjustments, totals)

    async def reconcile(self) -> Report:
        """Recompute every balance from its entries and check every invariant: entries sum to
        zero per asset; each balance equals its entries and each entry chains on the one
        before; no user or sponsor balance below zero or below its frozen part; frozen equals
        the pending holds; one transfer per key; at most one resolution per hold; no refund
        beyond its debit; every leg is one debit and one credit of the same amount."""
        return await reconcile(self.context.database)
