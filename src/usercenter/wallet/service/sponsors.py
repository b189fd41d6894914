"""Sponsors: promotion accounts of enterprises and partners that pay for many users'
consumption (seed 004 §7) — opening and closing them, topping them up and charging them."""

from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.kit.pagination import Page, keyset_page
from usercenter.security import masking
from usercenter.wallet import repository
from usercenter.wallet.book import Answer, Book
from usercenter.wallet.errors import SponsorInactive, SponsorNotFound
from usercenter.wallet.models import Asset, Kind, Sponsor, SystemAccount, sponsor_owner
from usercenter.wallet.service.context import (
    ID_RECORD,
    Balance,
    Business,
    Result,
    WalletCapability,
    leg,
    positive,
    spread,
)

SPONSOR_CONTACT_CONTEXT = "wallet.sponsor.contact"


class SponsorService(WalletCapability):
    async def create_sponsor(
        self,
        session: AsyncSession,
        *,
        name: str,
        sponsor_type: str,
        contact: dict[str, str] | None,
        operator_id: str,
    ) -> tuple[Sponsor, Balance]:
        """A new promotion account, ACTIVE, with an empty CNY balance, in the caller's
        transaction. Contact details are stored encrypted; the phone number shows masked."""
        masked = None
        encrypted = None
        if contact:
            encrypted = self.context.cipher.encrypt(
                json.dumps(contact, ensure_ascii=False), context=SPONSOR_CONTACT_CONTEXT
            )
            masked = {k: (masking.mask_phone(v) if k == "phone" else v) for k, v in contact.items()}
        sponsor = Sponsor(
            id=await self.context.ids.next_id(ID_RECORD, session=session),
            name=name,
            sponsor_type=sponsor_type,
            status="ACTIVE",
            contact_encrypted=encrypted,
            contact_masked=masked,
            created_by=operator_id,
        )
        session.add(sponsor)
        await session.flush()
        await self.accounts.create_account(session, sponsor_owner(sponsor.id), Asset.CNY)
        return sponsor, Balance(Asset.CNY.value, 0, 0)

    async def set_sponsor_status(
        self, session: AsyncSession, *, sponsor_id: int, status: str
    ) -> tuple[Sponsor, Balance]:
        """Suspend, close or reopen a sponsor, in the caller's transaction. SponsorNotFound."""
        sponsor = await repository.find_sponsor(session, sponsor_id)
        if sponsor is None:
            raise SponsorNotFound()
        sponsor.status = status
        await session.flush()
        self.accounts.forget_sponsor_status(sponsor_id)
        return sponsor, await self._cash(session, sponsor_id)

    async def sponsor(self, sponsor_id: int) -> tuple[Sponsor, Balance]:
        """A sponsor and its CNY balance. SponsorNotFound."""
        async with self.context.database.read_session() as session:
            sponsor = await repository.find_sponsor(session, sponsor_id)
            if sponsor is None:
                raise SponsorNotFound()
            return sponsor, await self._cash(session, sponsor_id)

    async def sponsors(
        self, *, status: str | None, cursor: str | None, limit: int
    ) -> Page[tuple[Sponsor, Balance]]:
        """Sponsors, newest first, of one status when named, each with its CNY balance (one
        query for the page's balances). ValidationFailed for a cursor not ours."""
        async with self.context.database.read_session() as session:

            async def fetch(before_id: int | None, size: int) -> list[Sponsor]:
                return list(
                    await repository.sponsors_page(
                        session, status=status, before_id=before_id, limit=size
                    )
                )

            page = await keyset_page(fetch, cursor=cursor, limit=limit)
            cash = await repository.balances_of_owners(
                session, [sponsor_owner(s.id) for s in page.items], Asset.CNY.value
            )
        return Page(
            items=[
                (s, Balance(Asset.CNY.value, *cash.get(sponsor_owner(s.id), (0, 0))))
                for s in page.items
            ],
            next_cursor=page.next_cursor,
        )

    @staticmethod
    async def _cash(session: AsyncSession, sponsor_id: int) -> Balance:
        accounts = await repository.accounts_of(session, sponsor_owner(sponsor_id))
        cash = next((a for a in accounts if a.asset == Asset.CNY.value), None)
        return Balance("CNY", cash.balance if cash else 0, cash.frozen if cash else 0)

    async def fund_sponsor(
        self,
        *,
        sponsor_id: int,
        amount: int,
        channel: SystemAccount,
        payment_id: str,
        key: str | None = None,
    ) -> Result:
        """A sponsor tops up its promotion balance (paid outside: bank transfer, WeChat Pay).
        SponsorNotFound; SponsorInactive for a closed sponsor (a suspended one may top up)."""
        positive(amount)
        async with self.context.database.read_session() as session:
            sponsor = await repository.find_sponsor(session, sponsor_id)
        if sponsor is None:
            raise SponsorNotFound()
        if sponsor.status == "CLOSED":
            raise SponsorInactive()
        business = Business(key=key, business_type=channel.value, business_id=payment_id)
        source = await self.accounts.system(channel, Asset.CNY, spread(business))
        target = await self.accounts.account_id(sponsor_owner(sponsor_id), Asset.CNY)

        def plan(book: Book) -> Answer:
            book.move(source, target, amount)
            return {
                "asset": "CNY",
                "amount": amount,
                "sponsor_id": sponsor_id,
                "legs": [leg(Asset.CNY, amount, channel.value, sponsor_owner(sponsor_id))],
                "balance_after": book.account(target).balance,
            }

        return await self.context.post(
            Kind.SPONSOR_FUND,
            business,
            {"sponsor": sponsor_id, "amount": amount},
            plan,
            (source, target),
        )

    async def charge_sponsor(
        self, *, sponsor_id: int, amount: int, user_id: int | None, business: Business
    ) -> Result:
        """A sponsor pays for a user's consumption (seed 004 §7.2): its account, the hot one
        many callers debit at once, to revenue. SponsorNotFound, SponsorInactive,
        InsufficientBalance; UserNotFound for a `user_id` that is no active user's."""
        positive(amount)
        await self.accounts.active_sponsor_or_raise(sponsor_id)
        if user_id is not None:
            await self.accounts.user_or_raise(user_id)
        payer = await self.accounts.account_id(sponsor_owner(sponsor_id), Asset.CNY)
        sink = await self.accounts.system(SystemAccount.REVENUE, Asset.CNY, spread(business))

        def plan(book: Book) -> Answer:
            book.move(payer, sink, amount)
            book.count(amount)
            return {
                "asset": "CNY",
                "amount": amount,
                "sponsor_id": sponsor_id,
                "user_id": user_id,
                "legs": [leg(Asset.CNY, amount, sponsor_owner(sponsor_id), "revenue")],
                "balance_after": book.account(payer).balance,
            }

        request = {"sponsor": sponsor_id, "amount": amount, "user": user_id}
        return await self.context.post(
            Kind.SPONSOR_CONSUME, business, request, plan, (payer, sink), route=payer
        )
