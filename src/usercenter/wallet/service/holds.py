"""Holds: money frozen on an account until it is captured (to the hold's destination) or
released, or its expiry passes — and the sweeper that releases expired holds."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from usercenter.kit import clock
from usercenter.kit.log import get_logger
from usercenter.kit.side_rows import SideRow
from usercenter.wallet import repository
from usercenter.wallet.book import Answer, Book, HoldState
from usercenter.wallet.errors import (
    HOLD_STATUS_NAMES,
    HoldAlreadyResolved,
    HoldNotFound,
    IdempotencyConflict,
)
from usercenter.wallet.models import Asset, HoldStatus, Kind, SystemAccount
from usercenter.wallet.service.accounts import AccountDirectory
from usercenter.wallet.service.context import (
    ID_HOLD,
    Business,
    Result,
    WalletCapability,
    WalletContext,
    amount_in,
    asset_of,
    leg,
    positive,
    spread,
)

log = get_logger(__name__)

# Rows a posting writes of its own in its transaction (see Posting.side_writes).
SideWrites = Callable[[AsyncConnection, Answer], Awaitable[None]]


def keyed_by_hold(business: Business, hold_id: int) -> Business:
    """A capture or release without a key of its own is keyed by its hold: a resend answers
    the same, and a capture and a release of one hold cannot both pass."""
    if business.key or business.business_id:
        return business
    return Business(
        business_type="hold", business_id=str(hold_id), operator_id=business.operator_id
    )


class HoldService(WalletCapability):
    def __init__(self, context: WalletContext, accounts: AccountDirectory) -> None:
        super().__init__(context, accounts)
        self._sweeper: asyncio.Task[None] | None = None

    async def hold_for(
        self,
        *,
        user_id: int | None,
        sponsor_id: int | None,
        asset: str,
        amount: str | int,
        business: Business,
        expires_in: timedelta,
    ) -> Result:
        """A hold on the account of exactly one of a user and a sponsor (OwnerInvalid
        otherwise), `amount` as the client wrote it (see freeze)."""
        owner = self.accounts.user_or_sponsor(user_id, sponsor_id)
        return await self.freeze(
            owner=owner,
            asset=asset,
            amount=amount_in(asset, amount),
            business=business,
            expires_in=expires_in,
        )

    async def capture_as_written(
        self, *, hold_id: int, amount: str | int | None, business: Business
    ) -> Result:
        """A capture whose amount (all when None) the client wrote in the hold's asset (see
        capture). HoldNotFound, AmountInvalid."""
        units = None
        if amount is not None:
            units = amount_in((await self.hold_or_raise(hold_id)).asset, amount)
        return await self.capture(hold_id=hold_id, amount=units, business=business)

    async def freeze(
        self,
        *,
        owner: str,
        asset: Asset | str,
        amount: int,
        business: Business,
        expires_in: timedelta,
        destination: SystemAccount = SystemAccount.REVENUE,
        kind: Kind = Kind.HOLD,
        side_writes: SideWrites | None = None,
        side_rows: Iterable[SideRow] = (),
        extra_request: dict[str, Any] | None = None,
    ) -> Result:
        """Freeze `amount` on `owner`'s account until it is captured (to `destination`) or
        released, or `expires_in` passes. InsufficientBalance when its available part falls
        short; UserNotFound, SponsorNotFound, SponsorInactive for an owner that cannot pay."""
        asset = asset_of(asset)
        positive(amount)
        await self.accounts.owner_or_raise(owner)
        account = await self.accounts.account_id(owner, asset)
        sink = await self.accounts.system(destination, asset, spread(business))
        hold_id = await self.context.ids.next_id(ID_HOLD)
        expires_at = clock.now() + expires_in

        def plan(book: Book) -> Answer:
            book.open_hold(
                HoldState(hold_id, account, asset.value, amount, 0, sink, "pending", expires_at)
            )
            return {
                "hold_id": hold_id,
                "asset": asset.value,
                "amount": amount,
                "hold_status": "pending",
                "expires_at": expires_at.isoformat(),
                "legs": [],
            }

        request = {
            "owner": owner,
            "asset": asset.value,
            "amount": amount,
            "to": destination.value,
            **(extra_request or {}),
        }
        return await self.context.post(
            kind,
            business,
            request,
            plan,
            (account, sink),
            holds=(hold_id,),
            hold_id=hold_id,
            side_writes=side_writes,
            side_rows=side_rows,
        )

    async def capture(
        self,
        *,
        hold_id: int,
        amount: int | None,
        business: Business,
        kind: Kind = Kind.CAPTURE,
        side_writes: SideWrites | None = None,
        side_rows: Iterable[SideRow] = (),
    ) -> Result:
        """Take `amount` (all when None) of a pending hold to its destination and release the
        rest. A hold is resolved once: HoldAlreadyResolved after a capture, release or expiry;
        CaptureExceedsHold."""
        hold = await self.hold_or_raise(hold_id)
        capture = hold.amount if amount is None else positive(amount)

        def plan(book: Book) -> Answer:
            resolved = book.resolve_hold(hold_id, HoldStatus.CAPTURED.value, capture)
            legs = [leg(Asset(hold.asset), capture, hold.owner, hold.destination)]
            return {
                "hold_id": hold_id,
                "asset": hold.asset,
                "amount": capture,
                "released": resolved.amount - capture,
                "hold_status": resolved.status,
                "legs": legs,
            }

        keyed = keyed_by_hold(business, hold_id)
        try:
            return await self.context.post(
                kind,
                keyed,
                {"hold": hold_id, "amount": capture},
                plan,
                (hold.account_id, hold.destination_id),
                holds=(hold_id,),
                hold_id=hold_id,
                side_writes=side_writes,
                side_rows=side_rows,
            )
        except IdempotencyConflict:
            if keyed is business:
                raise
            # Keyed by the hold, the only earlier request under this key is a capture of the
            # same hold for another amount: the hold is resolved, and that is the answer.
            resolved = await self.hold_or_raise(hold_id)
            raise HoldAlreadyResolved(status=HOLD_STATUS_NAMES[resolved.status]) from None

    async def release(
        self,
        *,
        hold_id: int,
        business: Business,
        kind: Kind = Kind.RELEASE,
        side_writes: SideWrites | None = None,
        side_rows: Iterable[SideRow] = (),
    ) -> Result:
        """Give a pending hold's amount back to its account. HoldAlreadyResolved."""
        hold = await self.hold_or_raise(hold_id)
        status = HoldStatus.EXPIRED if kind is Kind.EXPIRE else HoldStatus.RELEASED

        def plan(book: Book) -> Answer:
            resolved = book.resolve_hold(hold_id, status.value, 0)
            return {
                "hold_id": hold_id,
                "asset": hold.asset,
                "amount": 0,
                "released": resolved.amount,
                "hold_status": resolved.status,
                "legs": [],
            }

        keyed = keyed_by_hold(business, hold_id)
        return await self.context.post(
            kind,
            keyed,
            {"hold": hold_id},
            plan,
            (hold.account_id, hold.destination_id),
            holds=(hold_id,),
            hold_id=hold_id,
            side_writes=side_writes,
            side_rows=side_rows,
        )

    def start_hold_sweeper(self, every_seconds: float) -> asyncio.Task[None] | None:
        """Release expired holds every `every_seconds` in the background (None: never);
        `stop_hold_sweeper` stops it."""
        if every_seconds <= 0:
            return None

        async def sweep() -> None:
            while True:
                await asyncio.sleep(every_seconds)
                try:
                    released = await self.release_expired_holds()
                    if released:
                        log.info("holds_expired", released=released)
                except Exception:  # the next round tries again
                    log.exception("hold_sweep_failed")

        self._sweeper = asyncio.create_task(sweep(), name="wallet-hold-sweeper")
        return self._sweeper

    async def stop_hold_sweeper(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None

    async def hold_asset(self, hold_id: int) -> str:
        return (await self.hold_or_raise(hold_id)).asset

    async def hold_or_raise(self, hold_id: int) -> repository.HoldRef:
        async with self.context.database.read_session() as session:
            hold = await repository.find_hold(session, hold_id)
        if hold is None:
            raise HoldNotFound()
        return hold

    async def release_expired_holds(self, *, limit: int = 500) -> int:
        """The sweeper: release every pending hold past its expiry; how many it released."""
        async with self.context.database.read_session() as session:
            hold_ids = await repository.expired_hold_ids(session, clock.now(), limit)
        released = 0
        for hold_id in hold_ids:
            try:
                await self.release(
                    hold_id=hold_id,
                    business=Business(business_type="hold_expiry", business_id=str(hold_id)),
                    kind=Kind.EXPIRE,
                )
                released += 1
            except HoldAlreadyResolved:
                pass  # captured or released meanwhile
        return released
