"""Wallet tables: accounts, transfers and their entries, holds, and the records around them
(payout accounts, withdrawals, manual adjustments, sponsors, VIP memberships).

Amounts are integers in the asset's smallest unit (fen, coins, points). A transfer is one
idempotent call; each of its legs is two entries of the same asset and amount, one debit
(negative) and one credit (positive), so the entries of an asset always sum to zero.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from usercenter.kit import clock
from usercenter.kit.models import Base, BigInt, Timestamps


class Asset(StrEnum):
    CNY = "CNY"  # fen
    COIN_RECHARGE = "COIN_RECHARGE"  # bought coins: refundable, transferable
    COIN_GIVE = "COIN_GIVE"  # given with a meal or VIP: neither
    COIN_REWARD = "COIN_REWARD"  # marketing rewards: neither
    POINTS = "POINTS"


# Coin spending takes the buckets in this order (seed 004: 奖励币 > 赠送币 > 充值币).
COIN_SPENDING_ORDER = (Asset.COIN_REWARD, Asset.COIN_GIVE, Asset.COIN_RECHARGE)


class Kind(StrEnum):
    """What a transfer was for (seed 000 record types, seed 004 coin log types)."""

    RECHARGE = "RECHARGE"
    CONSUME = "CONSUME"
    REFUND = "REFUND"
    TRANSFER = "TRANSFER"
    GIFT = "GIFT"
    REWARD = "REWARD"
    COMMISSION = "COMMISSION"
    REFILL = "REFILL"  # a manual adjustment, once approved
    HOLD = "HOLD"
    CAPTURE = "CAPTURE"
    RELEASE = "RELEASE"
    EXPIRE = "EXPIRE"
    WITHDRAW = "WITHDRAW"
    WITHDRAW_PAID = "WITHDRAW_PAID"
    WITHDRAW_FAILED = "WITHDRAW_FAILED"
    VIP = "VIP"
    SPONSOR_FUND = "SPONSOR_FUND"
    SPONSOR_CONSUME = "SPONSOR_CONSUME"
    POINTS_EARN = "POINTS_EARN"
    POINTS_SPEND = "POINTS_SPEND"


# Kinds that debit a payer and can be refunded, in part or whole, up to what they took.
REFUNDABLE_KINDS = frozenset({Kind.CONSUME, Kind.SPONSOR_CONSUME, Kind.VIP})
# Kinds that resolve a hold: a hold has at most one transfer of these.
HOLD_RESOLUTIONS = frozenset(
    {Kind.CAPTURE, Kind.RELEASE, Kind.EXPIRE, Kind.WITHDRAW_PAID, Kind.WITHDRAW_FAILED}
)


class HoldStatus(StrEnum):
    PENDING = "pending"
    CAPTURED = "captured"
    RELEASED = "released"
    EXPIRED = "expired"


class SystemAccount(StrEnum):
    """Accounts of the business itself; they may go negative."""

    REVENUE = "revenue"
    PROMOTION_POOL = "promotion_pool"  # give and reward coins, VIP grants
    POINTS_POOL = "points_pool"
    ADJUSTMENT = "adjustment"
    WITHDRAWAL_CLEARING = "withdrawal_clearing"
    EXTERNAL_WECHATPAY = "external:wechatpay"
    EXTERNAL_ALIPAY = "external:alipay"


def user_owner(user_id: int) -> str:
    return f"user:{user_id}"


def sponsor_owner(sponsor_id: int) -> str:
    return f"sponsor:{sponsor_id}"


def system_owner(account: SystemAccount, shard: int = 0) -> str:
    """`system:revenue`, or `system:revenue#3` for one of its shard rows."""
    return f"system:{account.value}" + (f"#{shard}" if shard else "")


class Account(Timestamps, Base):
    """One balance: an owner (`user:<id>`, `sponsor:<id>`, `system:<name>`) in one asset.

    `frozen` is the part held for pending holds. The database itself refuses a user or sponsor
    balance below zero or below its frozen part; system accounts may go negative (money that
    entered from outside shows as a negative balance at its source)."""

    __tablename__ = "wallet_accounts"
    __table_args__ = (
        UniqueConstraint("owner", "asset"),
        CheckConstraint("may_go_negative OR (frozen >= 0 AND balance >= frozen)", name="covered"),
    )

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(80))
    asset: Mapped[str] = mapped_column(String(16))
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    frozen: Mapped[int] = mapped_column(BigInteger, default=0)
    may_go_negative: Mapped[bool] = mapped_column(default=False)


class Transfer(Base):
    """One money call, under its idempotency key (unique, never expires). `result` is the
    answer it gave, repeated to a resend; `request_hash` tells a resend from a different
    request under the same key. `refunded` counts what later refunds gave back."""

    __tablename__ = "wallet_transfers"
    __table_args__ = (Index(None, "business_type", "business_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    idempotency_key: Mapped[str] = mapped_column(String(191), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24))
    amount: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    business_type: Mapped[str | None] = mapped_column(String(32))
    business_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(255))
    operator_id: Mapped[str | None] = mapped_column(String(64))
    related_transfer_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    hold_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class Entry(Base):
    """One side of one leg: `amount` < 0 debits the account, > 0 credits it."""

    __tablename__ = "wallet_entries"
    __table_args__ = (Index(None, "account_id", "id"),)

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    transfer_id: Mapped[int] = mapped_column(BigInteger, index=True)
    leg: Mapped[int] = mapped_column(SmallInteger)
    account_id: Mapped[int] = mapped_column(BigInteger)
    asset: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(24))
    amount: Mapped[int] = mapped_column(BigInteger)
    balance_before: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class Hold(Base):
    """An amount frozen on an account for a business id, until it is captured (all or part,
    to `destination`) or released — by a call or, after `expires_at`, by the sweeper."""

    __tablename__ = "wallet_holds"
    __table_args__ = (Index(None, "status", "expires_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    account_id: Mapped[int] = mapped_column(BigInteger, index=True)
    asset: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    captured: Mapped[int] = mapped_column(BigInteger, default=0)
    destination_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    transfer_id: Mapped[int] = mapped_column(BigInteger)
    resolution_transfer_id: Mapped[int | None] = mapped_column(BigInteger)
    business_type: Mapped[str | None] = mapped_column(String(32))
    business_id: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    resolved_at: Mapped[datetime | None]


class PayoutAccount(Base):
    """Where a user's withdrawals go: a bank card or an Alipay account. The details are stored
    only encrypted; `masked` is what every answer and log shows."""

    __tablename__ = "wallet_payout_accounts"
    __table_args__ = (UniqueConstraint("user_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    fingerprint: Mapped[str] = mapped_column(String(64))
    details_encrypted: Mapped[str] = mapped_column(Text)
    masked: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    deleted_at: Mapped[datetime | None]


class Withdrawal(Base):
    """A withdrawal of cash balance to a payout account (seed 004 §3.6): amount + fee frozen
    on apply; paid moves them out, failed gives them back."""

    __tablename__ = "wallet_withdrawals"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    payout_account_id: Mapped[int] = mapped_column(BigInteger)
    payout_masked: Mapped[dict[str, Any]] = mapped_column(JSON)
    amount: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger)
    hold_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), index=True)
    handler_id: Mapped[str | None] = mapped_column(String(64))
    handle_remark: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    handled_at: Mapped[datetime | None]


class Adjustment(Base):
    """A manual balance adjustment (seed 004 §1.8 refill approval): filed by one staff member,
    approved or rejected by another; only approval moves money."""

    __tablename__ = "wallet_adjustments"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    asset: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    adjustment_type: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(500))
    applicant_id: Mapped[str] = mapped_column(String(64))
    approver_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    approval_remark: Mapped[str | None] = mapped_column(String(500))
    transfer_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    decided_at: Mapped[datetime | None]


class Sponsor(Timestamps, Base):
    """A promotion account (seed 004 §7.1): an enterprise or partner paying for many users'
    consumption. Its balance is the ledger account `sponsor:<id>`."""

    __tablename__ = "wallet_sponsors"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100))
    sponsor_type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    contact_encrypted: Mapped[str | None] = mapped_column(Text)
    contact_masked: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(String(64))


class VipMembership(Base):
    """A user's VIP period (seed 004 §1.2 vip_* fields), extended by each purchase."""

    __tablename__ = "wallet_vip_memberships"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
