"""The account directory: which account row holds an owner's asset (created on first use,
remembered by this process), the shard row of a busy system account, and whether an owner may
hold money at all (an active user, an active sponsor)."""

from __future__ import annotations

import contextlib
import zlib

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.identity.errors import UserNotFound
from usercenter.kit import clock
from usercenter.kit.cache import LocalMemo
from usercenter.kit.schemas import MAX_INT64
from usercenter.wallet import repository
from usercenter.wallet.errors import OwnerInvalid, SponsorInactive, SponsorNotFound
from usercenter.wallet.models import Asset, SystemAccount, sponsor_owner, system_owner, user_owner
from usercenter.wallet.service.context import WalletContext


class AccountDirectory:
    def __init__(self, context: WalletContext) -> None:
        self.context = context
        self._account_ids: dict[tuple[str, str], int] = {}
        self._sponsor_status = LocalMemo(ttl=1.0)

    # --- owners -----------------------------------------------------------------------------

    async def user_or_raise(
        self, user_id: int, *, field: str = "user_id", must_be_active: bool = True
    ) -> None:
        """Money moves only to and from users identity knows, and only active ones: UserNotFound
        (naming `field`) for an id that is no user's, a deleted user's or — `must_be_active` —
        a disabled user's. Asked of identity's service (its cached view, else one read), before
        any account row is made for the id."""
        if not 1 <= user_id <= MAX_INT64:
            raise UserNotFound(field=field)
        status = await self.context.identity.status_of(self.context.database, user_id)
        if status is None or status == "deleted" or (must_be_active and status != "active"):
            raise UserNotFound(field=field)

    async def owner_or_raise(self, owner: str) -> None:
        """The user or sponsor that `owner` names exists and is active (see user_or_raise and
        active_sponsor_or_raise); system owners always do."""
        kind, _, number = owner.partition(":")
        if kind == "user":
            await self.user_or_raise(int(number))
        elif kind == "sponsor":
            await self.active_sponsor_or_raise(int(number))

    @staticmethod
    def user_or_sponsor(user_id: int | None, sponsor_id: int | None) -> str:
        """The owner a call names by exactly one of a user id and a sponsor id; OwnerInvalid
        for both or neither."""
        if (user_id is None) == (sponsor_id is None):
            raise OwnerInvalid()
        return user_owner(user_id) if user_id else sponsor_owner(sponsor_id or 0)

    async def active_sponsor_or_raise(self, sponsor_id: int) -> None:
        """SponsorNotFound, or SponsorInactive for a sponsor not ACTIVE (asked of the database
        at most once a second per sponsor by this process)."""
        status = self._sponsor_status.get(str(sponsor_id))
        if status is None:
            async with self.context.database.read_session() as session:
                sponsor = await repository.find_sponsor(session, sponsor_id)
            if sponsor is None:
                raise SponsorNotFound()
            status = sponsor.status
            self._sponsor_status.put(str(sponsor_id), status)
        if status != "ACTIVE":
            raise SponsorInactive()

    def forget_sponsor_status(self, sponsor_id: int) -> None:
        self._sponsor_status.drop(str(sponsor_id))

    # --- accounts ---------------------------------------------------------------------------

    async def account_id(self, owner: str, asset: Asset) -> int:
        """The id of `owner`'s account in `asset`, created on first use (ids never change, so
        this process remembers them). Creating one is an allocation: it commits in a short
        transaction of its own, before the posting that uses it (the transaction rule, db.py)."""
        known = self._account_ids.get((owner, asset.value))
        if known is not None:
            return known
        database = self.context.database
        async with database.read_session() as session:
            found = await repository.find_account(session, owner, asset.value)
        if found is None:

            async def create(session: AsyncSession) -> None:
                await self.create_account(session, owner, asset)

            # Created meanwhile by another caller: fine. Callers racing to create the same
            # account can deadlock on its unique key (MariaDB): run_in_transaction tries again.
            with contextlib.suppress(IntegrityError):
                await database.run_in_transaction(create)
            async with database.read_session() as session:
                found = await repository.find_account(session, owner, asset.value)
            assert found is not None
        self._account_ids[(owner, asset.value)] = found.id
        return found.id

    @staticmethod
    async def create_account(session: AsyncSession, owner: str, asset: Asset) -> None:
        """A new empty account of `owner` in `asset`, in the caller's transaction."""
        await repository.insert_account(
            session,
            owner,
            asset.value,
            may_go_negative=owner.startswith("system:"),
            now=clock.now(),
        )

    async def remember_accounts(self, owners: list[str], asset: Asset) -> int:
        """Load the ids of existing accounts into this process's directory ahead of a burst
        (a payout run, a benchmark); how many it found."""
        found = 0
        async with self.context.database.read_session() as session:
            for start in range(0, len(owners), 1000):
                chunk = owners[start : start + 1000]
                for owner, account_id in await repository.account_ids(session, chunk, asset.value):
                    self._account_ids[(owner, asset.value)] = account_id
                    found += 1
        return found

    async def system(self, account: SystemAccount, asset: Asset, spread: str = "") -> int:
        """A system account's row for this call. Busy system accounts (revenue takes every
        debit) are split into shard rows — the balance is their sum — and `spread` (the
        call's key or business id) picks the shard, so concurrent calls lock different rows
        (LEDGER.md: ways around a hot account)."""
        shards = self.context.settings.wallet_system_account_shards
        shard = zlib.crc32(spread.encode()) % shards if spread and shards > 1 else 0
        return await self.account_id(system_owner(account, shard), asset)
