"""The events of the wallet: every posted transfer, per account, with the balance after;
holds; withdrawals; manual adjustments. Amounts in the asset's smallest unit (fen)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from usercenter.kit.events import Event


class _AccountEvent(Event):
    subject_kind: ClassVar[str] = "accounts"
    subject_field: ClassVar[str] = "account_id"

    account_id: int
    user_id: int | None = Field(default=None, description="The owner, for a user's account")
    sponsor_id: int | None = Field(default=None, description="The owner, for a sponsor's")
    asset: str


class TransferPosted(_AccountEvent):
    event_type: ClassVar[str] = "usercenter.wallet.transfer_posted"
    summary: ClassVar[str] = (
        "Money moved on an account: one event per account a transfer touched, with the "
        "balance after it"
    )

    transfer_id: int
    kind: str
    amount: int = Field(description="Signed: credit positive, debit negative")
    balance_after: int
    business_type: str | None = None
    business_id: str | None = None


class _HoldEvent(_AccountEvent):
    hold_id: int
    amount: int
    business_type: str | None = None
    business_id: str | None = None


class HoldPlaced(_HoldEvent):
    event_type: ClassVar[str] = "usercenter.wallet.hold_placed"
    summary: ClassVar[str] = "Part of a balance was frozen for a payment in progress"


class HoldCaptured(_HoldEvent):
    event_type: ClassVar[str] = "usercenter.wallet.hold_captured"
    summary: ClassVar[str] = "A hold was captured (all or part of it paid out)"

    captured: int


class HoldReleased(_HoldEvent):
    event_type: ClassVar[str] = "usercenter.wallet.hold_released"
    summary: ClassVar[str] = "A hold was released, by a call or because it expired"

    reason: str = Field(description="released or expired")


class _WithdrawalEvent(Event):
    subject_kind: ClassVar[str] = "users"

    withdrawal_id: int
    user_id: int
    amount: int
    fee: int = 0


class WithdrawalRequested(_WithdrawalEvent):
    event_type: ClassVar[str] = "usercenter.wallet.withdrawal_requested"
    summary: ClassVar[str] = "A user asked to withdraw; the amount is frozen until decided"


class WithdrawalCompleted(_WithdrawalEvent):
    event_type: ClassVar[str] = "usercenter.wallet.withdrawal_completed"
    summary: ClassVar[str] = "A withdrawal was paid out"


class WithdrawalReturned(_WithdrawalEvent):
    event_type: ClassVar[str] = "usercenter.wallet.withdrawal_returned"
    summary: ClassVar[str] = "A withdrawal was refused or failed; the money is back"

    reason: str | None = None


class _AdjustmentEvent(Event):
    subject_kind: ClassVar[str] = "users"

    adjustment_id: int
    user_id: int
    asset: str
    amount: int = Field(description="Signed: a credit positive, a debit negative")
    by: str = Field(description="The staff member who asked for it, or decided it")


class AdjustmentRequested(_AdjustmentEvent):
    event_type: ClassVar[str] = "usercenter.wallet.adjustment_requested"
    summary: ClassVar[str] = "A staff member asked for a manual balance adjustment"


class AdjustmentDecided(_AdjustmentEvent):
    event_type: ClassVar[str] = "usercenter.wallet.adjustment_decided"
    summary: ClassVar[str] = "A second staff member approved (money moved) or rejected it"

    decision: str = Field(description="approved or rejected")
