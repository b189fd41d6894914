"""API shapes of the wallet. Amounts leave as strings (`"12.30"` yuan, `"1500"` coins) and
come in as strings or integers in the same units."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from usercenter.kit.money import WRITTEN_FORMAT, format_amount
from usercenter.kit.schemas import MAX_INT64, Id, Int64, Schema
from usercenter.wallet.models import Adjustment, Entry, PayoutAccount, Sponsor, Withdrawal
from usercenter.wallet.service import Balance, Report, Result

AssetName = Literal["CNY", "COIN_RECHARGE", "COIN_GIVE", "COIN_REWARD", "POINTS"]


def _written_amount(value: object) -> object:
    """Amounts come as a decimal string or a whole number; JSON's `true` (which pydantic would
    take for 1) and floats (12.3 is not exactly 12.30) are refused before they become one."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PydanticCustomError("amount_invalid", WRITTEN_FORMAT.en)
    return value


AmountIn = Annotated[str | int, BeforeValidator(_written_amount)]

AMOUNT_HELP = 'Yuan with up to two decimals for CNY (`"12.30"`); whole coins or points'


class BalanceOut(Schema):
    asset: str
    balance: str = Field(description="Everything on the account")
    frozen: str = Field(description="Held for pending holds and withdrawals")
    available: str = Field(description="What can be spent: balance - frozen")

    @classmethod
    def of(cls, balance: Balance) -> BalanceOut:
        return cls(
            asset=balance.asset,
            balance=format_amount(balance.asset, balance.balance),
            frozen=format_amount(balance.asset, balance.frozen),
            available=format_amount(balance.asset, balance.available),
        )


class WalletOut(Schema):
    balances: list[BalanceOut]
    vip_until: datetime | None = Field(description="End of the current VIP period, if any")


class EntryOut(Schema):
    transfer_id: str
    kind: str
    asset: str
    amount: str = Field(description="Signed: negative took from this balance")
    balance_before: str
    balance_after: str
    created_at: datetime

    @classmethod
    def of(cls, entry: Entry) -> EntryOut:
        return cls(
            transfer_id=str(entry.transfer_id),
            kind=entry.kind,
            asset=entry.asset,
            amount=format_amount(entry.asset, entry.amount),
            balance_before=format_amount(entry.asset, entry.balance_before),
            balance_after=format_amount(entry.asset, entry.balance_after),
            created_at=entry.created_at,
        )


class EntryPage(Schema):
    items: list[EntryOut] = Field(description="Entries, newest first")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")


class LegOut(Schema):
    asset: str
    amount: str
    from_: str = Field(alias="from", serialization_alias="from")
    to: str


class TransferOut(Schema):
    """What a money call did; a resend gets the same answer with `repeated` true."""

    transfer_id: str
    kind: str
    repeated: bool
    amount: str | None = None
    legs: list[LegOut] = Field(default_factory=list)
    balance_after: str | None = Field(default=None, description="The payer's or payee's balance")
    deduct_details: dict[str, str] | None = Field(
        default=None, description="Coins taken per bucket (reward, then give, then recharge)"
    )
    hold_id: str | None = None
    hold_status: str | None = None
    released: str | None = None
    expires_at: datetime | None = None
    withdrawal_id: str | None = None
    fee: str | None = None
    vip_ends_at: datetime | None = None
    created_at: datetime

    @classmethod
    def of(cls, result: Result) -> TransferOut:
        answer: dict[str, Any] = result.answer
        legs = answer.get("legs", [])
        # Refunds answered before they named their asset: the asset of their first leg.
        asset = str(answer.get("asset") or (legs[0]["asset"] if legs else ""))

        def shown(key: str) -> str | None:
            value = answer.get(key)
            return None if value is None else format_amount(asset, int(value))

        def ident(key: str) -> str | None:
            value = answer.get(key)
            return None if value is None else str(value)

        return cls(
            transfer_id=str(answer["transfer_id"]),
            kind=answer["kind"],
            repeated=result.repeated,
            amount=shown("amount"),
            legs=[
                LegOut.model_validate({**leg, "amount": format_amount(leg["asset"], leg["amount"])})
                for leg in legs
            ],
            balance_after=shown("balance_after"),
            deduct_details=None
            if answer.get("deduct_details") is None
            else {
                bucket: format_amount(bucket, int(taken))
                for bucket, taken in answer["deduct_details"].items()
            },
            hold_id=ident("hold_id"),
            hold_status=answer.get("hold_status"),
            released=shown("released"),
            expires_at=answer.get("expires_at"),
            withdrawal_id=ident("withdrawal_id"),
            fee=shown("fee"),
            vip_ends_at=answer.get("vip_ends_at"),
            created_at=answer["created_at"],
        )


class BusinessIn(Schema):
    business_type: str | None = Field(
        default=None, max_length=32, pattern=r"^[A-Za-z0-9_.:-]+$", description="e.g. ORDER"
    )
    business_id: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="e.g. the order number",
    )
    reason: str | None = Field(default=None, max_length=255)


class RechargeIn(Schema):
    user_id: Id
    asset: Literal["CNY", "COIN_RECHARGE"] = "CNY"
    amount: AmountIn = Field(description=AMOUNT_HELP)
    channel: Literal["wechatpay", "alipay"]
    payment_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    bonus_give_coins: Int64 = Field(
        default=0, strict=True, description="Give coins that come with it"
    )


class DebitIn(BusinessIn):
    user_id: Id
    asset: AssetName
    amount: AmountIn = Field(description=AMOUNT_HELP)


class CoinSpendIn(BusinessIn):
    user_id: Id
    amount: Int64 = Field(
        gt=0, strict=True, description="Coins, taken reward first, then give, then recharge"
    )


class GrantIn(BusinessIn):
    user_id: Id
    kind: Literal["GIFT", "REWARD", "POINTS_EARN", "COMMISSION"]
    asset: AssetName
    amount: AmountIn = Field(description=AMOUNT_HELP)


class RefundIn(BusinessIn):
    transfer_id: Id = Field(description="The debit to give back from")
    amount: AmountIn = Field(description=AMOUNT_HELP)


class HoldIn(BusinessIn):
    user_id: Id | None = None
    sponsor_id: Id | None = None
    asset: AssetName
    amount: AmountIn = Field(description=AMOUNT_HELP)
    expires_in_seconds: int = Field(default=900, ge=1, le=30 * 86400)


class CaptureIn(Schema):
    amount: AmountIn | None = Field(default=None, description="All of the hold when left out")


class VipPurchaseIn(BusinessIn):
    user_id: Id
    price: AmountIn = Field(description="Yuan, from the user's cash balance")
    days: int = Field(gt=0, le=3660)


class CoinTransferIn(Schema):
    to_user_id: Id
    amount: Int64 = Field(gt=0, strict=True)
    asset: AssetName = "COIN_RECHARGE"
    remark: str | None = Field(default=None, max_length=255)


class SponsorIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    sponsor_type: Literal["ENTERPRISE", "PARTNER"]
    contact: dict[str, str] | None = Field(
        default=None, description="person, phone, company, address: stored encrypted"
    )


class SponsorStatusIn(Schema):
    status: Literal["ACTIVE", "SUSPENDED", "CLOSED"]


class SponsorOut(Schema):
    id: str
    name: str
    sponsor_type: str
    status: str
    contact: dict[str, Any] | None = Field(description="Masked")
    balance: BalanceOut

    @classmethod
    def of(cls, sponsor: Sponsor, balance: Balance) -> SponsorOut:
        return cls(
            id=str(sponsor.id),
            name=sponsor.name,
            sponsor_type=sponsor.sponsor_type,
            status=sponsor.status,
            contact=sponsor.contact_masked,
            balance=BalanceOut.of(balance),
        )


class SponsorPage(Schema):
    items: list[SponsorOut] = Field(description="Sponsors, newest first")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")


class SponsorFundIn(Schema):
    amount: AmountIn = Field(description="Yuan")
    channel: Literal["wechatpay", "alipay"]
    payment_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")


class SponsorChargeIn(BusinessIn):
    amount: AmountIn = Field(description="Yuan")
    user_id: Id | None = Field(default=None, description="Whose consumption it pays")


class BankCardIn(Schema):
    kind: Literal["BANK_CARD"]
    real_name: str = Field(min_length=1, max_length=50)
    bank_name: str = Field(min_length=1, max_length=50)
    card_number: str = Field(min_length=12, max_length=23)
    id_card: str = Field(min_length=15, max_length=18)


class AlipayIn(Schema):
    kind: Literal["ALIPAY"]
    real_name: str = Field(min_length=1, max_length=50)
    account: str = Field(min_length=3, max_length=100, description="Phone number or e-mail")


class PayoutAccountOut(Schema):
    id: str
    kind: str
    masked: dict[str, Any] = Field(description="The only form the details are ever shown in")
    created_at: datetime

    @classmethod
    def of(cls, payout: PayoutAccount) -> PayoutAccountOut:
        return cls(
            id=str(payout.id), kind=payout.kind, masked=payout.masked, created_at=payout.created_at
        )


class WithdrawalIn(Schema):
    payout_account_id: Id
    amount: AmountIn = Field(description="Yuan")


class WithdrawalOut(Schema):
    id: str
    status: str
    amount: str
    fee: str
    actual_amount: str = Field(description="What reaches the payout account: amount - fee")
    payout_account: dict[str, Any]
    handle_remark: str | None
    created_at: datetime
    handled_at: datetime | None

    @classmethod
    def of(cls, withdrawal: Withdrawal) -> WithdrawalOut:
        return cls(
            id=str(withdrawal.id),
            status=withdrawal.status,
            amount=format_amount("CNY", withdrawal.amount),
            fee=format_amount("CNY", withdrawal.fee),
            actual_amount=format_amount("CNY", withdrawal.amount - withdrawal.fee),
            payout_account=withdrawal.payout_masked,
            handle_remark=withdrawal.handle_remark,
            created_at=withdrawal.created_at,
            handled_at=withdrawal.handled_at,
        )


class AdminWithdrawalOut(WithdrawalOut):
    user_id: str = Field(description="Whose withdrawal")
    handler_id: str | None = Field(description="The staff member who settled it")

    @classmethod
    def of(cls, withdrawal: Withdrawal) -> AdminWithdrawalOut:
        return cls(
            **WithdrawalOut.of(withdrawal).model_dump(),
            user_id=str(withdrawal.user_id),
            handler_id=withdrawal.handler_id,
        )


class WithdrawalPage(Schema):
    items: list[AdminWithdrawalOut] = Field(description="Withdrawals, newest first")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")


class SettleIn(Schema):
    remark: str | None = Field(default=None, max_length=255)


class AdjustmentIn(Schema):
    user_id: Id
    asset: AssetName
    amount: int = Field(
        strict=True,
        ge=-MAX_INT64,
        le=MAX_INT64,
        description="Smallest units (fen, coins); negative takes away",
    )
    adjustment_type: Literal["DATA_RECOVERY", "COMPENSATION"]
    reason: str = Field(min_length=1, max_length=500)


class DecisionIn(Schema):
    remark: str | None = Field(default=None, max_length=500)


class AdjustmentOut(Schema):
    id: str
    user_id: str
    asset: str
    amount: str
    adjustment_type: str
    reason: str
    status: str
    applicant_id: str
    approver_id: str | None
    applied_by: str = Field(description="Staff id of who filed it (never its approver)")
    decided_by: str | None = Field(description="Staff id of who approved or rejected it")
    approval_remark: str | None
    transfer_id: str | None
    created_at: datetime
    decided_at: datetime | None

    @classmethod
    def of(cls, adjustment: Adjustment) -> AdjustmentOut:
        return cls(
            id=str(adjustment.id),
            user_id=str(adjustment.user_id),
            asset=adjustment.asset,
            amount=format_amount(adjustment.asset, adjustment.amount),
            adjustment_type=adjustment.adjustment_type,
            reason=adjustment.reason,
            status=adjustment.status,
            applicant_id=adjustment.applicant_id,
            approver_id=adjustment.approver_id,
            applied_by=adjustment.applicant_id,
            decided_by=adjustment.approver_id,
            approval_remark=adjustment.approval_remark,
            transfer_id=None if adjustment.transfer_id is None else str(adjustment.transfer_id),
            created_at=adjustment.created_at,
            decided_at=adjustment.decided_at,
        )


class DifferenceOut(Schema):
    check: str
    subject: str
    expected: str
    found: str


class ReconciliationOut(Schema):
    clean: bool
    accounts: int
    transfers: int
    entries: int
    differences: list[DifferenceOut]

    @classmethod
    def of(cls, report: Report) -> ReconciliationOut:
        return cls(
            clean=report.is_clean,
            accounts=report.accounts,
            transfers=report.transfers,
            entries=report.entries,
            differences=[
                DifferenceOut(
                    check=d.check, subject=d.subject, expected=str(d.expected), found=str(d.found)
                )
                for d in report.differences
            ],
        )
