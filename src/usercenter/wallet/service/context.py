"""What the wallet's services share: their dependencies (`WalletContext`), the shapes of a money
call (`Business`, `Result`, `Balance`) and how a call becomes a ledger posting (`post`).

Every call that moves money (or freezes it) builds a `Posting` and hands it to the `Ledger`,
which runs it — grouped with concurrent ones — in one transaction with its accounts locked. The
call's idempotency key is `kind|key|<Idempotency-Key>` or `kind|<business type>|<business id>`:
a resend answers what the first call answered and moves nothing; the same key with a different
request is `idempotency_conflict`. Keys never expire. A call that failed (insufficient funds, a
hold already resolved) stores nothing, so it may be tried again. The operation's other rows
(the admin-log entry of a staff action) ride along as side rows, committed with the move.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from usercenter.config import Settings
from usercenter.db import Database
from usercenter.identity.service.accounts import UserAccounts
from usercenter.ids.service import IdService
from usercenter.kit import money
from usercenter.kit.events import Event
from usercenter.kit.money import AmountError, parse_amount
from usercenter.kit.side_rows import SideRow
from usercenter.security.crypto import BlindIndex, FieldCipher
from usercenter.wallet.book import Answer, Book, Posting
from usercenter.wallet.errors import AmountInvalid, AssetInvalid, IdempotencyKeyMissing
from usercenter.wallet.ledger import Ledger, Outcome
from usercenter.wallet.models import Asset, Kind

if TYPE_CHECKING:
    from usercenter.wallet.service.accounts import AccountDirectory

ID_TRANSFER = "WALLET_TRANSFER"
ID_HOLD = "WALLET_HOLD"
ID_RECORD = "WALLET_RECORD"  # payout accounts, withdrawals, adjustments, sponsors


@dataclass(frozen=True, slots=True)
class Result:
    """What a money call answered; `repeated` when a resend got the first call's answer."""

    answer: Answer
    repeated: bool

    @property
    def transfer_id(self) -> int:
        return int(self.answer["transfer_id"])


@dataclass(frozen=True, slots=True)
class Business:
    """Who asked and why: the idempotency key's parts and the transfer's labels."""

    key: str | None = None
    business_type: str | None = None
    business_id: str | None = None
    reason: str | None = None
    operator_id: str | None = None


@dataclass(frozen=True, slots=True)
class Balance:
    asset: str
    balance: int
    frozen: int

    @property
    def available(self) -> int:
        return self.balance - self.frozen


def user_key(user_id: int, key: str | None) -> str:
    """A user's own Idempotency-Key, in the user's namespace (two users may send the same
    key). IdempotencyKeyMissing without one: a user's money call must be repeatable."""
    if not key:
        raise IdempotencyKeyMissing()
    return f"user:{user_id}:{key}"


def idempotency_key(kind: Kind, business: Business) -> str:
    if business.key:
        return f"{kind.value}|key|{business.key}"
    if business.business_type and business.business_id:
        return f"{kind.value}|{business.business_type}|{business.business_id}"
    raise IdempotencyKeyMissing()


def request_hash(request: dict[str, Any]) -> str:
    """A digest of what a call asked for (plain values: ints, strings, None), to tell a resend
    from a different request under the same key."""
    text = "|".join(f"{name}={request[name]!r}" for name in sorted(request))
    return hashlib.sha256(text.encode()).hexdigest()


def amount_in(asset: str, value: str | int, field: str = "amount") -> int:
    """An amount as a client wrote it, in `asset`'s units; AmountInvalid naming `field`."""
    try:
        return parse_amount(asset, value)
    except AmountError as exc:
        raise AmountInvalid(field=field, why=exc.reason) from None


def positive(amount: int, field: str = "amount") -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise AmountInvalid(field=field, why=money.NOT_WHOLE_POSITIVE)
    return amount


def asset_of(value: str | Asset, allowed: frozenset[Asset] | None = None) -> Asset:
    if isinstance(value, Asset):
        asset = value
    elif (found := Asset.__members__.get(value)) is not None:
        asset = found
    else:
        raise AssetInvalid()
    if allowed is not None and asset not in allowed:
        raise AssetInvalid()
    return asset


def leg(asset: Asset, amount: int, debit: str, credit: str) -> dict[str, Any]:
    return {"asset": asset.value, "amount": amount, "from": debit, "to": credit}


def spread(business: Business) -> str:
    """What picks a system account's shard for a call: its key or its business id."""
    return business.key or f"{business.business_type}|{business.business_id}"


@dataclass(slots=True)
class WalletContext:
    """The dependencies every wallet service shares."""

    settings: Settings
    database: Database
    ids: IdService
    ledger: Ledger
    identity: UserAccounts
    cipher: FieldCipher
    blind_index: BlindIndex

    async def record(self, connection: AsyncConnection, *events: Event) -> None:
        """Write `events` in a posting's transaction (from its side writes), to the ledger's
        outbox: they commit with the move or not at all."""
        if self.ledger.outbox is not None:
            await self.ledger.outbox.append(connection, events)

    async def record_in(self, session: AsyncSession, *events: Event) -> None:
        """Write `events` in the caller's unit of work (a change that moves no money)."""
        if self.ledger.outbox is not None:
            await self.ledger.outbox.add(session, *events)

    async def post(
        self,
        kind: Kind,
        business: Business,
        request: dict[str, Any],
        plan: Callable[[Book], Answer],
        accounts: tuple[int, ...],
        *,
        side_rows: Iterable[SideRow] = (),
        **options: Any,
    ) -> Result:
        """Run one money call through the ledger, with the operation's `side_rows`."""
        key = idempotency_key(kind, business)
        transfer_id = await self.ids.segment(ID_TRANSFER).next_id()

        # The same number picks the system shard (AccountDirectory.system) and the ledger
        # worker, so each shard row is only ever locked by one worker of this process.
        options.setdefault("route", zlib.crc32(spread(business).encode()))
        posting = Posting(
            transfer_id=transfer_id,
            key=key,
            request_hash=request_hash({"kind": kind.value, **request}),
            kind=kind.value,
            plan=plan,
            accounts=accounts,
            business_type=business.business_type,
            business_id=business.business_id,
            reason=business.reason,
            operator_id=business.operator_id,
            side_rows=tuple(side_rows),
            **options,
        )
        outcome: Outcome = await self.ledger.post(posting)
        return Result(outcome.answer, outcome.repeated)


class WalletCapability:
    """What every capability service of the wallet holds: the shared context and the account
    directory."""

    def __init__(self, context: WalletContext, accounts: AccountDirectory) -> None:
        self.context = context
        self.accounts = accounts
