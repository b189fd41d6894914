"""The wallet's rules: what each money call moves, from where to where, under which key.

Every call that moves money (or freezes it) builds a `Posting` and hands it to the `Ledger`,
which runs it — grouped with concurrent ones — in one transaction with its accounts locked. The
call's idempotency key is `kind|key|<Idempotency-Key>` or `kind|<business type>|<business id>`:
a resend answers what the first call answered and moves nothing; the same key with a different
request is `idempotency_conflict`. Keys never expire. A call that failed (insufficient funds, a
hold already resolved) stores nothing, so it may be tried again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from usercenter.config import Settings
from usercenter.db import Database
from usercenter.identity.errors import UserNotFound
from usercenter.identity.service.accounts import UserAccounts
from usercenter.ids.service import IdService
from usercenter.kit import clock, money
from usercenter.kit.cache import LocalMemo
from usercenter.kit.log import get_logger
from usercenter.kit.money import AmountError, format_amount, parse_amount
from usercenter.kit.pagination import Page, decode_cursor, encode_cursor
from usercenter.kit.schemas import MAX_INT64
from usercenter.security import masking
from usercenter.security.crypto import BlindIndex, FieldCipher
from usercenter.wallet import repository
from usercenter.wallet.errors import (
    ASSET_NAMES,
    HOLD_STATUS_NAMES,
    AdjustmentAlreadyDecided,
    AdjustmentNotFound,
    AlipayAccountInvalid,
    AmountInvalid,
    AssetInvalid,
    AssetNotTransferable,
    BalanceLimitExceeded,
    CardNumberInvalid,
    CashNotTransferable,
    HoldAlreadyResolved,
    HoldNotFound,
    IdCardInvalid,
    IdempotencyConflict,
    IdempotencyKeyMissing,
    InsufficientBalance,
    KindInvalid,
    PayoutAccountDuplicate,
    PayoutAccountLimitReached,
    PayoutAccountNotFound,
    RecipientNotFound,
    RefundExceedsDebit,
    SelfApprovalRefused,
    SponsorInactive,
    SponsorNotFound,
    TransferNotFound,
    TransferNotRefundable,
    TransferToSelf,
    WithdrawalAlreadyHandled,
    WithdrawalBelowMinimum,
    WithdrawalNotFound,
)
from usercenter.wallet.ledger import Answer, Book, HoldState, Ledger, Outcome, Posting
from usercenter.wallet.models import (
    COIN_SPENDING_ORDER,
    REFUNDABLE_KINDS,
    Adjustment,
    Asset,
    Entry,
    HoldStatus,
    Kind,
    PayoutAccount,
    Sponsor,
    SystemAccount,
    Withdrawal,
    sponsor_owner,
    system_owner,
    user_owner,
)

log = get_logger(__name__)

PAYOUT_CONTEXT = "wallet.payout_account"
SPONSOR_CONTACT_CONTEXT = "wallet.sponsor.contact"
# Withdrawals are not released by the sweeper: staff settle them.
WITHDRAWAL_HOLD_LIFETIME = timedelta(days=3650)

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
    """The reconciliation (see WalletService.reconcile); needs nothing but the database."""
    async with database.read_session() as session:
        differences = await repository.reconcile(session)
        counts = await repository.counts(session)
    return Report(*counts, differences=differences)


def _keyed_by_hold(business: Business, hold_id: int) -> Business:
    """A capture or release without a key of its own is keyed by its hold: a resend answers
    the same, and a capture and a release of one hold cannot both pass."""
    if business.key or business.business_id:
        return business
    return Business(
        business_type="hold", business_id=str(hold_id), operator_id=business.operator_id
    )


def _spread(business: Business) -> str:
    """What picks a system account's shard for a call: its key or its business id."""
    return business.key or f"{business.business_type}|{business.business_id}"


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


def _positive(amount: int, field: str = "amount") -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise AmountInvalid(field=field, why=money.NOT_WHOLE_POSITIVE)
    return amount


def _asset(value: str | Asset, allowed: frozenset[Asset] | None = None) -> Asset:
    if isinstance(value, Asset):
        asset = value
    elif (found := Asset.__members__.get(value)) is not None:
        asset = found
    else:
        raise AssetInvalid()
    if allowed is not None and asset not in allowed:
        raise AssetInvalid()
    return asset


def _leg(asset: Asset, amount: int, debit: str, credit: str) -> dict[str, Any]:
    return {"asset": asset.value, "amount": amount, "from": debit, "to": credit}


def alipay_account(value: str) -> str:
    """An Alipay account as it is saved: a mainland China mobile number (11 digits) or an
    e-mail address (lower-cased). AlipayAccountInvalid for anything else."""
    value = value.strip()
    if "@" in value:
        try:
            return validate_email(value, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            raise AlipayAccountInvalid() from None
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        raise AlipayAccountInvalid() from None
    if (
        number.country_code != 86
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE
    ):
        raise AlipayAccountInvalid()
    return str(number.national_number)


def luhn_ok(number: str) -> bool:
    """The Luhn check digit of a card number (ISO/IEC 7812)."""
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


_ID_CARD_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_card_ok(number: str) -> bool:
    """An 18-character resident ID card number with its GB 11643 check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_CARD_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()


class WalletService:
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
        self.settings = settings
        self.database = database
        self.ids = ids
        self.ledger = ledger
        self.identity = identity
        self.cipher = cipher
        self.blind_index = blind_index
        self._account_ids: dict[tuple[str, str], int] = {}
        self._sponsor_status = LocalMemo(ttl=1.0)
        self._sweeper: asyncio.Task[None] | None = None

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
        status = await self.identity.status_of(self.database, user_id)
        if status is None or status == "deleted" or (must_be_active and status != "active"):
            raise UserNotFound(field=field)

    async def _owner_or_raise(self, owner: str) -> None:
        """The user or sponsor that `owner` names exists and is active (see user_or_raise and
        _active_sponsor_or_raise); system owners always do."""
        kind, _, number = owner.partition(":")
        if kind == "user":
            await self.user_or_raise(int(number))
        elif kind == "sponsor":
            await self._active_sponsor_or_raise(int(number))

    # --- accounts ---------------------------------------------------------------------------

    async def account_id(self, owner: str, asset: Asset) -> int:
        """The id of `owner`'s account in `asset`, created on first use (ids never change, so
        this process remembers them)."""
        known = self._account_ids.get((owner, asset.value))
        if known is not None:
            return known
        async with self.database.read_session() as session:
            found = await repository.find_account(session, owner, asset.value)
        if found is None:

            async def create(session: AsyncSession) -> None:
                await repository.insert_account(
                    session,
                    owner,
                    asset.value,
                    may_go_negative=owner.startswith("system:"),
                    now=clock.now(),
                )

            # Created meanwhile by another caller: fine. Callers racing to create the same
            # account can deadlock on its unique key (MariaDB): run_in_transaction tries again.
            with contextlib.suppress(IntegrityError):
                await self.database.run_in_transaction(create)
            async with self.database.read_session() as session:
                found = await repository.find_account(session, owner, asset.value)
            assert found is not None
        self._account_ids[(owner, asset.value)] = found.id
        return found.id

    async def remember_accounts(self, owners: list[str], asset: Asset) -> int:
        """Load the ids of existing accounts into this process's directory ahead of a burst
        (a payout run, a benchmark); how many it found."""
        found = 0
        async with self.database.read_session() as session:
            for start in range(0, len(owners), 1000):
                chunk = owners[start : start + 1000]
                for owner, account_id in await repository.account_ids(session, chunk, asset.value):
                    self._account_ids[(owner, asset.value)] = account_id
                    found += 1
        return found

    async def _system(self, account: SystemAccount, asset: Asset, spread: str = "") -> int:
        """A system account's row for this call. Busy system accounts (revenue takes every
        debit) are split into shard rows — the balance is their sum — and `spread` (the
        call's key or business id) picks the shard, so concurrent calls lock different rows
        (LEDGER.md: ways around a hot account)."""
        shards = self.settings.wallet_system_account_shards
        shard = zlib.crc32(spread.encode()) % shards if spread and shards > 1 else 0
        return await self.account_id(system_owner(account, shard), asset)

    async def _post(
        self,
        kind: Kind,
        business: Business,
        request: dict[str, Any],
        plan: Callable[[Book], Answer],
        accounts: tuple[int, ...],
        **options: Any,
    ) -> Result:
        key = idempotency_key(kind, business)
        transfer_id = await self.ids.segment(ID_TRANSFER).next_id()

        # The same number picks the system shard (see _system) and the ledger worker, so each
        # shard row is only ever locked by one worker of this process.
        options.setdefault("route", zlib.crc32(_spread(business).encode()))
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
            **options,
        )
        outcome: Outcome = await self.ledger.post(posting)
        return Result(outcome.answer, outcome.repeated)

    # --- credits and debits -----------------------------------------------------------------

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
        asset = _asset(asset, frozenset({Asset.CNY, Asset.COIN_RECHARGE}))
        _positive(amount)
        if bonus_give_coins < 0:
            raise AmountInvalid(field="bonus_give_coins", why=money.NOT_NEGATIVE)
        await self.user_or_raise(user_id)
        business = Business(key=key, business_type=channel.value, business_id=payment_id)
        source = await self._system(channel, asset, _spread(business))
        target = await self.account_id(user_owner(user_id), asset)
        accounts = [source, target]
        if bonus_give_coins:
            pool = await self._system(
                SystemAccount.PROMOTION_POOL, Asset.COIN_GIVE, _spread(business)
            )
            give = await self.account_id(user_owner(user_id), Asset.COIN_GIVE)
            accounts += [pool, give]

        def plan(book: Book) -> Answer:
            book.move(source, target, amount)
            legs = [_leg(asset, amount, channel.value, user_owner(user_id))]
            if bonus_give_coins:
                book.move(pool, give, bonus_give_coins)
                legs.append(
                    _leg(Asset.COIN_GIVE, bonus_give_coins, "promotion_pool", user_owner(user_id))
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
        return await self._post(Kind.RECHARGE, business, request, plan, tuple(accounts))

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
        asset = _asset(asset, allowed)
        _positive(amount)
        await self.user_or_raise(user_id)
        source = await self._system(pool, asset, _spread(business))
        target = await self.account_id(user_owner(user_id), asset)

        def plan(book: Book) -> Answer:
            book.move(source, target, amount)
            return {
                "asset": asset.value,
                "amount": amount,
                "legs": [_leg(asset, amount, pool.value, user_owner(user_id))],
                "balance_after": book.account(target).balance,
            }

        request = {"user": user_id, "asset": asset.value, "amount": amount}
        return await self._post(kind, business, request, plan, (source, target))

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
        asset = _asset(asset)
        _positive(amount)
        await self.user_or_raise(user_id)
        payer = await self.account_id(user_owner(user_id), asset)
        receiver = SystemAccount.POINTS_POOL if asset is Asset.POINTS else SystemAccount.REVENUE
        sink = await self._system(
            receiver,
            asset,
            _spread(business),
        )

        def plan(book: Book) -> Answer:
            book.move(payer, sink, amount)
            book.count(amount)
            return {
                "asset": asset.value,
                "amount": amount,
                "legs": [_leg(asset, amount, user_owner(user_id), receiver.value)],
                "balance_after": book.account(payer).balance,
            }

        request = {"user": user_id, "asset": asset.value, "amount": amount}
        return await self._post(kind, business, request, plan, (payer, sink))

    async def spend_coins(self, *, user_id: int, amount: int, business: Business) -> Result:
        """Coins for consumption: reward coins first, then give, then recharge coins (seed 004
        deduct_details), in one transfer. InsufficientBalance, moving nothing, when the three
        buckets together fall short; UserNotFound."""
        _positive(amount)
        await self.user_or_raise(user_id)
        buckets = [
            (asset, await self.account_id(user_owner(user_id), asset))
            for asset in COIN_SPENDING_ORDER
        ]
        sinks = {
            asset: await self._system(SystemAccount.REVENUE, asset, _spread(business))
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
                    legs.append(_leg(asset, take, user_owner(user_id), "revenue"))
                    left -= take
                split[asset.value] = max(take, 0)
            book.count(amount)
            return {"asset": "COIN", "amount": amount, "deduct_details": split, "legs": legs}

        accounts = tuple(account for _, account in buckets) + tuple(sinks.values())
        request = {"user": user_id, "coins": amount}
        return await self._post(Kind.CONSUME, business, request, plan, accounts)

    async def refund(self, *, transfer_id: int, amount: int, business: Business) -> Result:
        """Give back (part of) an earlier debit to whom it was taken from, never more than it
        took in all. A coin spend is refunded to the recharge bucket first, then give, then
        reward. TransferNotFound, TransferNotRefundable, RefundExceedsDebit."""
        _positive(amount)
        async with self.database.read_session() as session:
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
                        _leg(Asset(asset_of[payer]), give, owners[payee].owner, owners[payer].owner)
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
        return await self._post(
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
        asset = _asset(asset)
        if asset is Asset.CNY:
            raise CashNotTransferable()
        if asset is not Asset.COIN_RECHARGE:
            raise AssetNotTransferable(asset=ASSET_NAMES[asset.value])
        _positive(amount)
        if from_user_id == to_user_id:
            raise TransferToSelf()
        try:
            await self.user_or_raise(to_user_id, field="to_user_id")
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
        asset = _asset(asset)
        _positive(amount)
        payer = await self.account_id(from_owner, asset)
        payee = await self.account_id(to_owner, asset)

        def plan(book: Book) -> Answer:
            book.move(payer, payee, amount)
            book.count(amount)
            return {
                "asset": asset.value,
                "amount": amount,
                "legs": [_leg(asset, amount, from_owner, to_owner)],
                "balance_after": book.account(payer).balance,
            }

        request = {"from": from_owner, "to": to_owner, "asset": asset.value, "amount": amount}
        return await self._post(kind, business, request, plan, (payer, payee))

    # --- holds ------------------------------------------------------------------------------

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
        side_writes: Any = None,
        extra_request: dict[str, Any] | None = None,
    ) -> Result:
        """Freeze `amount` on `owner`'s account until it is captured (to `destination`) or
        released, or `expires_in` passes. InsufficientBalance when its available part falls
        short; UserNotFound, SponsorNotFound, SponsorInactive for an owner that cannot pay."""
        asset = _asset(asset)
        _positive(amount)
        await self._owner_or_raise(owner)
        account = await self.account_id(owner, asset)
        sink = await self._system(destination, asset, _spread(business))
        hold_id = await self.ids.next_id(ID_HOLD)
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
        return await self._post(
            kind,
            business,
            request,
            plan,
            (account, sink),
            holds=(hold_id,),
            hold_id=hold_id,
            side_writes=side_writes,
        )

    async def capture(
        self,
        *,
        hold_id: int,
        amount: int | None,
        business: Business,
        kind: Kind = Kind.CAPTURE,
        side_writes: Any = None,
    ) -> Result:
        """Take `amount` (all when None) of a pending hold to its destination and release the
        rest. A hold is resolved once: HoldAlreadyResolved after a capture, release or expiry;
        CaptureExceedsHold."""
        hold = await self._hold_or_raise(hold_id)
        capture = hold.amount if amount is None else _positive(amount)

        def plan(book: Book) -> Answer:
            resolved = book.resolve_hold(hold_id, HoldStatus.CAPTURED.value, capture)
            legs = [_leg(Asset(hold.asset), capture, hold.owner, hold.destination)]
            return {
                "hold_id": hold_id,
                "asset": hold.asset,
                "amount": capture,
                "released": resolved.amount - capture,
                "hold_status": resolved.status,
                "legs": legs,
            }

        keyed = _keyed_by_hold(business, hold_id)
        try:
            return await self._post(
                kind,
                keyed,
                {"hold": hold_id, "amount": capture},
                plan,
                (hold.account_id, hold.destination_id),
                holds=(hold_id,),
                hold_id=hold_id,
                side_writes=side_writes,
            )
        except IdempotencyConflict:
            if keyed is business:
                raise
            # Keyed by the hold, the only earlier request under this key is a capture of the
            # same hold for another amount: the hold is resolved, and that is the answer.
            resolved = await self._hold_or_raise(hold_id)
            raise HoldAlreadyResolved(status=HOLD_STATUS_NAMES[resolved.status]) from None

    async def release(
        self,
        *,
        hold_id: int,
        business: Business,
        kind: Kind = Kind.RELEASE,
        side_writes: Any = None,
    ) -> Result:
        """Give a pending hold's amount back to its account. HoldAlreadyResolved."""
        hold = await self._hold_or_raise(hold_id)
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

        keyed = _keyed_by_hold(business, hold_id)
        return await self._post(
            kind,
            keyed,
            {"hold": hold_id},
            plan,
            (hold.account_id, hold.destination_id),
            holds=(hold_id,),
            hold_id=hold_id,
            side_writes=side_writes,
        )

    def start_hold_sweeper(self, every_seconds: float) -> asyncio.Task[None] | None:
        """Release expired holds every `every_seconds` in the background (None: never);
        `close` stops it."""
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

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        await self.ledger.close()

    async def hold_asset(self, hold_id: int) -> str:
        return (await self._hold_or_raise(hold_id)).asset

    async def amount_for_transfer(self, transfer_id: int, value: str | int) -> int:
        """`value` in the units of what an earlier transfer moved (for a refund of it)."""
        async with self.database.read_session() as session:
            original = await repository.find_transfer(session, transfer_id)
        if original is None:
            raise TransferNotFound()
        return amount_in(str(original.result.get("asset", "CNY")), value)

    async def _hold_or_raise(self, hold_id: int) -> repository.HoldRef:
        async with self.database.read_session() as session:
            hold = await repository.find_hold(session, hold_id)
        if hold is None:
            raise HoldNotFound()
        return hold

    async def release_expired_holds(self, *, limit: int = 500) -> int:
        """The sweeper: release every pending hold past its expiry; how many it released."""
        async with self.database.read_session() as session:
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

    # --- sponsors ---------------------------------------------------------------------------

    async def create_sponsor(
        self,
        *,
        name: str,
        sponsor_type: str,
        contact: dict[str, str] | None,
        operator_id: str,
    ) -> Sponsor:
        """A new promotion account, ACTIVE, with an empty CNY balance. Contact details are
        stored encrypted; the phone number shows masked."""
        masked = None
        encrypted = None
        if contact:
            encrypted = self.cipher.encrypt(
                json.dumps(contact, ensure_ascii=False), context=SPONSOR_CONTACT_CONTEXT
            )
            masked = {k: (masking.mask_phone(v) if k == "phone" else v) for k, v in contact.items()}
        sponsor = Sponsor(
            id=await self.ids.next_id(ID_RECORD),
            name=name,
            sponsor_type=sponsor_type,
            status="ACTIVE",
            contact_encrypted=encrypted,
            contact_masked=masked,
            created_by=operator_id,
        )
        async with self.database.unit_of_work() as session:
            session.add(sponsor)
        await self.account_id(sponsor_owner(sponsor.id), Asset.CNY)
        return sponsor

    async def set_sponsor_status(self, *, sponsor_id: int, status: str) -> Sponsor:
        async with self.database.unit_of_work() as session:
            sponsor = await repository.find_sponsor(session, sponsor_id)
            if sponsor is None:
                raise SponsorNotFound()
            sponsor.status = status
        self._sponsor_status.drop(str(sponsor_id))
        return sponsor

    async def sponsor(self, sponsor_id: int) -> tuple[Sponsor, Balance]:
        async with self.database.read_session() as session:
            sponsor = await repository.find_sponsor(session, sponsor_id)
            if sponsor is None:
                raise SponsorNotFound()
            accounts = await repository.accounts_of(session, sponsor_owner(sponsor_id))
        cash = next((a for a in accounts if a.asset == Asset.CNY.value), None)
        return sponsor, Balance("CNY", cash.balance if cash else 0, cash.frozen if cash else 0)

    async def _active_sponsor_or_raise(self, sponsor_id: int) -> None:
        status = self._sponsor_status.get(str(sponsor_id))
        if status is None:
            async with self.database.read_session() as session:
                sponsor = await repository.find_sponsor(session, sponsor_id)
            if sponsor is None:
                raise SponsorNotFound()
            status = sponsor.status
            self._sponsor_status.put(str(sponsor_id), status)
        if status != "ACTIVE":
            raise SponsorInactive()

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
        _positive(amount)
        async with self.database.read_session() as session:
            sponsor = await repository.find_sponsor(session, sponsor_id)
        if sponsor is None:
            raise SponsorNotFound()
        if sponsor.status == "CLOSED":
            raise SponsorInactive()
        business = Business(key=key, business_type=channel.value, business_id=payment_id)
        source = await self._system(channel, Asset.CNY, _spread(business))
        target = await self.account_id(sponsor_owner(sponsor_id), Asset.CNY)

        def plan(book: Book) -> Answer:
            book.move(source, target, amount)
            return {
                "asset": "CNY",
                "amount": amount,
                "sponsor_id": sponsor_id,
                "legs": [_leg(Asset.CNY, amount, channel.value, sponsor_owner(sponsor_id))],
                "balance_after": book.account(target).balance,
            }

        return await self._post(
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
        _positive(amount)
        await self._active_sponsor_or_raise(sponsor_id)
        if user_id is not None:
            await self.user_or_raise(user_id)
        payer = await self.account_id(sponsor_owner(sponsor_id), Asset.CNY)
        sink = await self._system(SystemAccount.REVENUE, Asset.CNY, _spread(business))

        def plan(book: Book) -> Answer:
            book.move(payer, sink, amount)
            book.count(amount)
            return {
                "asset": "CNY",
                "amount": amount,
                "sponsor_id": sponsor_id,
                "user_id": user_id,
                "legs": [_leg(Asset.CNY, amount, sponsor_owner(sponsor_id), "revenue")],
                "balance_after": book.account(payer).balance,
            }

        request = {"sponsor": sponsor_id, "amount": amount, "user": user_id}
        return await self._post(
            Kind.SPONSOR_CONSUME, business, request, plan, (payer, sink), route=payer
        )

    # --- VIP ----------------------------------------------------------------------------------

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
        _positive(price, "price")
        _positive(days, "days")
        await self.user_or_raise(user_id)
        grant = (
            self.settings.wallet_vip_grant_coins if grant_give_coins is None else grant_give_coins
        )
        cash = await self.account_id(user_owner(user_id), Asset.CNY)
        revenue = await self._system(SystemAccount.REVENUE, Asset.CNY, _spread(business))
        accounts = [cash, revenue]
        if grant:
            pool = await self._system(
                SystemAccount.PROMOTION_POOL, Asset.COIN_GIVE, _spread(business)
            )
            give = await self.account_id(user_owner(user_id), Asset.COIN_GIVE)
            accounts += [pool, give]

        def plan(book: Book) -> Answer:
            book.move(cash, revenue, price)
            book.count(price)
            legs = [_leg(Asset.CNY, price, user_owner(user_id), "revenue")]
            if grant:
                book.move(pool, give, grant)
                legs.append(_leg(Asset.COIN_GIVE, grant, "promotion_pool", user_owner(user_id)))
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
        return await self._post(
            Kind.VIP, business, request, plan, tuple(accounts), side_writes=extend
        )

    async def vip_until(self, user_id: int) -> datetime | None:
        async with self.database.read_session() as session:
            membership = await repository.find_vip(session, user_id)
        if membership is None or membership.ends_at <= clock.now():
            return None
        return membership.ends_at

    # --- payout accounts and withdrawals ------------------------------------------------------

    async def add_bank_card(
        self, *, user_id: int, real_name: str, bank_name: str, card_number: str, id_card: str
    ) -> PayoutAccount:
        """Save a bank card for withdrawals: encrypted, shown masked. CardNumberInvalid (not
        12–19 digits or a wrong Luhn digit), IdCardInvalid, PayoutAccountDuplicate,
        PayoutAccountLimitReached, UserNotFound."""
        await self.user_or_raise(user_id)
        card = card_number.replace(" ", "").replace("-", "")
        if not (card.isdigit() and 12 <= len(card) <= 19 and luhn_ok(card)):
            raise CardNumberInvalid()
        id_number = id_card.strip().upper()
        if not id_card_ok(id_number):
            raise IdCardInvalid()
        details = {
            "real_name": real_name,
            "bank_name": bank_name,
            "card_number": card,
            "id_card": id_number,
        }
        masked = {
            "real_name": masking.mask_name(real_name),
            "bank_name": bank_name,
            "bank_card": masking.mask_bank_card(card),
            "idcard": masking.mask_id_card(id_number, compact=True),
        }
        return await self._save_payout(user_id, "BANK_CARD", card, details, masked)

    async def add_alipay_account(
        self, *, user_id: int, real_name: str, account: str
    ) -> PayoutAccount:
        """Save an Alipay account for withdrawals: a mainland China mobile number or an e-mail
        address (AlipayAccountInvalid otherwise); PayoutAccountDuplicate,
        PayoutAccountLimitReached, UserNotFound."""
        await self.user_or_raise(user_id)
        value = alipay_account(account)
        shown = masking.mask_email(value) if "@" in value else masking.mask_phone(value)
        details = {"real_name": real_name, "alipay_account": value}
        masked = {"real_name": masking.mask_name(real_name), "alipay_code": shown}
        return await self._save_payout(user_id, "ALIPAY", value, details, masked)

    async def _save_payout(
        self,
        user_id: int,
        kind: str,
        identifier: str,
        details: dict[str, str],
        masked: dict[str, str],
    ) -> PayoutAccount:
        fingerprint = self.blind_index.compute(f"{kind}:{identifier}", context=PAYOUT_CONTEXT)
        async with self.database.unit_of_work() as session:
            existing = await repository.find_payout_account_by_fingerprint(
                session, user_id, fingerprint
            )
            if existing is not None and existing.deleted_at is None:
                raise PayoutAccountDuplicate(
                    field="card_number" if kind == "BANK_CARD" else "account"
                )
            limit = self.settings.wallet_payout_accounts_max
            if await repository.count_payout_accounts(session, user_id) >= limit:
                raise PayoutAccountLimitReached(limit=limit)
            encrypted = self.cipher.encrypt(
                json.dumps(details, ensure_ascii=False), context=PAYOUT_CONTEXT
            )
            if existing is not None:
                existing.details_encrypted, existing.masked = (
                    encrypted,
                    {"_schema_version": "1.0", **masked},
                )
                existing.deleted_at, existing.created_at = None, clock.now()
                return existing
            payout = PayoutAccount(
                id=await self.ids.next_id(ID_RECORD, session=session),
                user_id=user_id,
                kind=kind,
                fingerprint=fingerprint,
                details_encrypted=encrypted,
                masked={"_schema_version": "1.0", **masked},
                created_at=clock.now(),
                deleted_at=None,
            )
            session.add(payout)
        return payout

    async def payout_accounts(self, user_id: int) -> list[PayoutAccount]:
        async with self.database.read_session() as session:
            return list(await repository.payout_accounts_of(session, user_id))

    async def remove_payout_account(self, *, user_id: int, payout_account_id: int) -> None:
        async with self.database.unit_of_work() as session:
            payout = await repository.find_payout_account(session, payout_account_id)
            if payout is None or payout.user_id != user_id or payout.deleted_at is not None:
                raise PayoutAccountNotFound()
            payout.deleted_at = clock.now()

    def withdrawal_fee(self, amount: int) -> int:
        """The fee on a withdrawal: its rate in basis points, rounded up to the fen, at least
        the minimum fee."""
        rate, minimum = (
            self.settings.wallet_withdrawal_fee_bps,
            self.settings.wallet_withdrawal_min_fee,
        )
        return max((amount * rate + 9_999) // 10_000, minimum)

    async def apply_withdrawal(
        self, *, user_id: int, payout_account_id: int, amount: int, key: str
    ) -> tuple[Result, Withdrawal]:
        """Freeze `amount` of the user's cash for a withdrawal to a saved payout account; the
        fee comes out of it (seed 004: actual = amount - fee).
        WithdrawalBelowMinimum, PayoutAccountNotFound, InsufficientBalance."""
        _positive(amount)
        if amount < self.settings.wallet_withdrawal_minimum:
            raise WithdrawalBelowMinimum(
                minimum=format_amount("CNY", self.settings.wallet_withdrawal_minimum)
            )
        async with self.database.read_session() as session:
            payout = await repository.find_payout_account(session, payout_account_id)
        if payout is None or payout.user_id != user_id or payout.deleted_at is not None:
            raise PayoutAccountNotFound()
        fee = self.withdrawal_fee(amount)
        if fee >= amount:
            raise WithdrawalBelowMinimum(
                minimum=format_amount("CNY", max(self.settings.wallet_withdrawal_minimum, fee + 1))
            )
        withdrawal_id = await self.ids.next_id(ID_RECORD)

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

        result = await self.freeze(
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
        async with self.database.read_session() as session:
            found = await repository.find_withdrawal(session, withdrawal_id)
        if found is None:
            raise WithdrawalNotFound()
        return found

    async def withdrawals(self, user_id: int, limit: int = 50) -> list[Withdrawal]:
        async with self.database.read_session() as session:
            return list(await repository.withdrawals_of(session, user_id, limit))

    async def settle_withdrawal(
        self, *, withdrawal_id: int, paid: bool, handler_id: str, remark: str | None
    ) -> Withdrawal:
        """Staff: paid moves the amount out (to withdrawal clearing, and the fee on from there
        to revenue); failed gives it back. WithdrawalAlreadyHandled on a second settlement."""
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

        business = Business(
            business_type="withdrawal",
            business_id=str(withdrawal_id),
            operator_id=handler_id,
            reason=remark,
        )
        try:
            if paid:
                revenue = await self._system(SystemAccount.REVENUE, Asset.CNY, str(withdrawal_id))
                await self._settle_paid(withdrawal, business, revenue, mark)
            else:
                await self.release(
                    hold_id=withdrawal.hold_id,
                    business=business,
                    kind=Kind.WITHDRAW_FAILED,
                    side_writes=mark,
                )
        except HoldAlreadyResolved:
            raise WithdrawalAlreadyHandled() from None
        return await self.withdrawal(withdrawal_id)

    async def _settle_paid(
        self, withdrawal: Withdrawal, business: Business, revenue: int, mark: Any
    ) -> Result:
        hold = await self._hold_or_raise(withdrawal.hold_id)
        fee = withdrawal.fee
        clearing = hold.destination_id

        def plan(book: Book) -> Answer:
            book.resolve_hold(hold.id, HoldStatus.CAPTURED.value, hold.amount)
            legs = [
                _leg(Asset.CNY, hold.amount, user_owner(withdrawal.user_id), "withdrawal_clearing")
            ]
            if fee:
                book.move(clearing, revenue, fee)
                legs.append(_leg(Asset.CNY, fee, "withdrawal_clearing", "revenue"))
            return {
                "hold_id": hold.id,
                "asset": "CNY",
                "amount": withdrawal.amount,
                "fee": fee,
                "hold_status": "captured",
                "legs": legs,
            }

        return await self._post(
            Kind.WITHDRAW_PAID,
            business,
            {"withdrawal": withdrawal.id},
            plan,
            (hold.account_id, clearing, revenue),
            holds=(hold.id,),
            hold_id=hold.id,
            side_writes=mark,
        )

    # --- manual adjustments (two people) --------------------------------------------------

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
        """File a manual adjustment (positive credits the user, negative debits); nothing moves
        until another staff member approves it."""
        asset = _asset(asset)
        if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
            raise AmountInvalid(why=money.NOT_ZERO)
        if abs(amount) > self.settings.wallet_balance_limit:
            raise BalanceLimitExceeded(
                limit=format_amount(asset.value, self.settings.wallet_balance_limit)
            )
        await self.user_or_raise(user_id)
        adjustment = Adjustment(
            id=await self.ids.next_id(ID_RECORD),
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
        async with self.database.unit_of_work() as session:
            session.add(adjustment)
        return adjustment

    async def adjustment(self, adjustment_id: int) -> Adjustment:
        async with self.database.read_session() as session:
            found = await repository.find_adjustment(session, adjustment_id)
        if found is None:
            raise AdjustmentNotFound()
        return found

    async def adjustments(self, *, status: str | None = None, limit: int = 50) -> list[Adjustment]:
        async with self.database.read_session() as session:
            return list(await repository.adjustments(session, status=status, limit=limit))

    async def approve_adjustment(
        self, *, adjustment_id: int, approver_id: str, remark: str | None
    ) -> Adjustment:
        """Approve and move the money in one transaction. SelfApprovalRefused for the
        applicant, AdjustmentAlreadyDecided, InsufficientBalance for a debit the user cannot
        cover (the adjustment stays pending)."""
        adjustment = await self._pending_adjustment(adjustment_id, approver_id)
        await self.user_or_raise(adjustment.user_id)
        asset = Asset(adjustment.asset)
        user = await self.account_id(user_owner(adjustment.user_id), asset)
        pool = await self._system(SystemAccount.ADJUSTMENT, asset, str(adjustment_id))
        amount = adjustment.amount

        def plan(book: Book) -> Answer:
            if amount > 0:
                book.move(pool, user, amount)
                legs = [_leg(asset, amount, "adjustment", user_owner(adjustment.user_id))]
            else:
                book.move(user, pool, -amount)
                legs = [_leg(asset, -amount, user_owner(adjustment.user_id), "adjustment")]
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

        business = Business(
            business_type="adjustment",
            business_id=str(adjustment_id),
            operator_id=approver_id,
            reason=adjustment.reason,
        )
        await self._post(
            Kind.REFILL,
            business,
            {"adjustment": adjustment_id},
            plan,
            (pool, user),
            side_writes=decide,
        )
        return await self.adjustment(adjustment_id)

    async def reject_adjustment(
        self, *, adjustment_id: int, approver_id: str, remark: str | None
    ) -> Adjustment:
        await self._pending_adjustment(adjustment_id, approver_id)
        async with self.database.unit_of_work() as session:
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
        return await self.adjustment(adjustment_id)

    async def _pending_adjustment(self, adjustment_id: int, approver_id: str) -> Adjustment:
        adjustment = await self.adjustment(adjustment_id)
        if adjustment.applicant_id == approver_id:
            raise SelfApprovalRefused()
        if adjustment.status != "PENDING":
            raise AdjustmentAlreadyDecided()
        return adjustment

    # --- statements and reconciliation ----------------------------------------------------

    async def balances(self, owner: str) -> list[Balance]:
        """Every asset's balance of `owner`, zero for assets never used."""
        async with self.database.read_session() as session:
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
            await self.user_or_raise(user_id, must_be_active=False)
        return await self.balances(user_owner(user_id)), await self.vip_until(user_id)

    async def entries(
        self, owner: str, *, asset: str | None, kind: str | None, cursor: str | None, limit: int
    ) -> Page[Entry]:
        before = decode_cursor(cursor)
        if asset is not None:
            _asset(asset)
        if kind is not None and kind not in Kind.__members__:
            raise KindInvalid()
        async with self.database.read_session() as session:
            accounts = [
                a.id
                for a in await repository.accounts_of(session, owner)
                if asset is None or a.asset == asset
            ]
            if not accounts:
                return Page([], None)
            rows = list(
                await repository.entries_page(
                    session, accounts, kind=kind, before_id=before, limit=limit + 1
                )
            )
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, encode_cursor(rows[-1].id) if more and rows else None)

    async def reconcile(self) -> Report:
        """Recompute every balance from its entries and check every invariant: entries sum to
        zero per asset; each balance equals its entries and each entry chains on the one
        before; no user or sponsor balance below zero or below its frozen part; frozen equals
        the pending holds; one transfer per key; at most one resolution per hold; no refund
        beyond its debit; every leg is one debit and one credit of the same amount."""
        return await reconcile(self.database)
