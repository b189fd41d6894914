"""Routes of the wallet: the user's own (`/v1/me/wallet…`, with an access token), the
business's services' (`/v1/wallet/…`, with a service credential) and the staff's
(`/v1/admin/wallet/…`, with a staff token holding the route's permission; logged)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, status

from usercenter.access.auth import StaffActor, StaffWith
from usercenter.deps import ServiceCaller, provided
from usercenter.kit.pagination import MAX_PAGE_SIZE
from usercenter.kit.schemas import Id, optional_body
from usercenter.tokens.auth import CurrentClaims
from usercenter.wallet.errors import IdempotencyKeyMissing, OwnerInvalid
from usercenter.wallet.models import Kind, SystemAccount, sponsor_owner, user_owner
from usercenter.wallet.schemas import (
    AdjustmentIn,
    AdjustmentOut,
    AlipayIn,
    BalanceOut,
    BankCardIn,
    BusinessIn,
    CaptureIn,
    CoinSpendIn,
    CoinTransferIn,
    DebitIn,
    DecisionIn,
    EntryOut,
    EntryPage,
    GrantIn,
    HoldIn,
    PayoutAccountOut,
    RechargeIn,
    ReconciliationOut,
    RefundIn,
    SettleIn,
    SponsorChargeIn,
    SponsorFundIn,
    SponsorIn,
    SponsorOut,
    SponsorStatusIn,
    TransferOut,
    VipPurchaseIn,
    WalletOut,
    WithdrawalIn,
    WithdrawalOut,
)
from usercenter.wallet.service import Business, WalletService, amount_in

Wallet = Annotated[WalletService, Depends(provided(WalletService))]

router = APIRouter(tags=["wallet"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=128,
        pattern=r"^[\x21-\x7e]+$",
        description="Repeat it to repeat the call safely; never expires",
    ),
]

CHANNELS = {"wechatpay": SystemAccount.EXTERNAL_WECHATPAY, "alipay": SystemAccount.EXTERNAL_ALIPAY}


def business_of(body: BusinessIn, key: str | None, operator: str | None = None) -> Business:
    return Business(
        key=key,
        business_type=body.business_type,
        business_id=body.business_id,
        reason=body.reason,
        operator_id=operator,
    )


async def wallet_of(wallet: Wallet, user_id: int, *, is_known: bool = False) -> WalletOut:
    """A user's balances and VIP end, as the user, services and staff see them."""
    balances, vip_until = await wallet.user_wallet(user_id, is_known=is_known)
    return WalletOut(balances=[BalanceOut.of(b) for b in balances], vip_until=vip_until)


# --- the user's own -----------------------------------------------------------------------


@router.get("/v1/me/wallet", summary="The current user's balances per asset")
async def my_wallet(claims: CurrentClaims, wallet: Wallet) -> WalletOut:
    return await wallet_of(wallet, claims.user_id, is_known=True)


@router.get("/v1/me/wallet/entries", summary="The current user's ledger entries, newest first")
async def my_entries(
    claims: CurrentClaims,
    wallet: Wallet,
    asset: Annotated[str | None, Query(max_length=16)] = None,
    kind: Annotated[str | None, Query(max_length=24)] = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> EntryPage:
    page = await wallet.entries(
        user_owner(claims.user_id), asset=asset, kind=kind, cursor=cursor, limit=limit
    )
    return EntryPage(items=[EntryOut.of(e) for e in page.items], next_cursor=page.next_cursor)


@router.post("/v1/me/wallet/transfers", summary="Give recharge coins to another user")
async def transfer_coins(
    body: CoinTransferIn, claims: CurrentClaims, wallet: Wallet, key: IdempotencyKey = None
) -> TransferOut:
    if not key:
        raise IdempotencyKeyMissing()
    result = await wallet.transfer_coins(
        from_user_id=claims.user_id,
        to_user_id=body.to_user_id,
        amount=body.amount,
        asset=body.asset,
        business=Business(key=f"user:{claims.user_id}:{key}", reason=body.remark),
    )
    return TransferOut.of(result)


@router.get("/v1/me/wallet/payout-accounts", summary="The current user's payout accounts")
async def my_payout_accounts(claims: CurrentClaims, wallet: Wallet) -> list[PayoutAccountOut]:
    return [PayoutAccountOut.of(p) for p in await wallet.payout_accounts(claims.user_id)]


@router.post(
    "/v1/me/wallet/payout-accounts",
    status_code=status.HTTP_201_CREATED,
    summary="Save a bank card or Alipay account for withdrawals (shown masked from then on)",
)
async def add_payout_account(
    body: Annotated[BankCardIn | AlipayIn, "discriminated by kind"],
    claims: CurrentClaims,
    wallet: Wallet,
) -> PayoutAccountOut:
    if isinstance(body, BankCardIn):
        payout = await wallet.add_bank_card(
            user_id=claims.user_id,
            real_name=body.real_name,
            bank_name=body.bank_name,
            card_number=body.card_number,
            id_card=body.id_card,
        )
    else:
        payout = await wallet.add_alipay_account(
            user_id=claims.user_id, real_name=body.real_name, account=body.account
        )
    return PayoutAccountOut.of(payout)


@router.delete(
    "/v1/me/wallet/payout-accounts/{payout_account_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a payout account",
)
async def remove_payout_account(
    payout_account_id: Id, claims: CurrentClaims, wallet: Wallet
) -> None:
    await wallet.remove_payout_account(user_id=claims.user_id, payout_account_id=payout_account_id)


@router.post(
    "/v1/me/wallet/withdrawals",
    status_code=status.HTTP_201_CREATED,
    summary="Withdraw cash to a saved payout account (frozen until staff settle it)",
)
async def apply_withdrawal(
    body: WithdrawalIn, claims: CurrentClaims, wallet: Wallet, key: IdempotencyKey = None
) -> WithdrawalOut:
    if not key:
        raise IdempotencyKeyMissing()
    _, withdrawal = await wallet.apply_withdrawal(
        user_id=claims.user_id,
        payout_account_id=body.payout_account_id,
        amount=amount_in("CNY", body.amount),
        key=f"user:{claims.user_id}:{key}",
    )
    return WithdrawalOut.of(withdrawal)


@router.get("/v1/me/wallet/withdrawals", summary="The current user's withdrawals, newest first")
async def my_withdrawals(claims: CurrentClaims, wallet: Wallet) -> list[WithdrawalOut]:
    return [WithdrawalOut.of(w) for w in await wallet.withdrawals(claims.user_id)]


# --- the business's services --------------------------------------------------------------


@router.post(
    "/v1/wallet/recharges", summary="Credit a payment received through WeChat Pay or Alipay"
)
async def recharge(
    body: RechargeIn, _: ServiceCaller, wallet: Wallet, key: IdempotencyKey = None
) -> TransferOut:
    result = await wallet.recharge(
        user_id=body.user_id,
        asset=body.asset,
        amount=amount_in(body.asset, body.amount),
        channel=CHANNELS[body.channel],
        payment_id=body.payment_id,
        bonus_give_coins=body.bonus_give_coins,
        key=key,
    )
    return TransferOut.of(result)


@router.post("/v1/wallet/debits", summary="Debit one balance for consumption")
async def debit(
    body: DebitIn, caller: ServiceCaller, wallet: Wallet, key: IdempotencyKey = None
) -> TransferOut:
    result = await wallet.debit(
        user_id=body.user_id,
        asset=body.asset,
        amount=amount_in(body.asset, body.amount),
        business=business_of(body, key, caller),
        kind=Kind.POINTS_SPEND if body.asset == "POINTS" else Kind.CONSUME,
    )
    return TransferOut.of(result)


@router.post("/v1/wallet/coin-spends", summary="Spend coins: reward, then give, then recharge")
async def spend_coins(
    body: CoinSpendIn, caller: ServiceCaller, wallet: Wallet, key: IdempotencyKey = None
) -> TransferOut:
    result = await wallet.spend_coins(
        user_id=body.user_id, amount=body.amount, business=business_of(body, key, caller)
    )
    return TransferOut.of(result)


@router.post("/v1/wallet/grants", summary="Give coins, reward coins, points or a commission")
async def grant(
    body: GrantIn, caller: ServiceCaller, wallet: Wallet, key: IdempotencyKey = None
) -> TransferOut:
    result = await wallet.grant(
        user_id=body.user_id,
        asset=body.asset,
        amount=amount_in(body.asset, body.amount),
        kind=Kind(body.kind),
        business=business_of(body, key, caller),
    )
    return TransferOut.of(result)


@router.post("/v1/wallet/refunds", summary="Refund (part of) an earlier debit")
async def refund(
    body: RefundIn, caller: ServiceCaller, wallet: Wallet, key: IdempotencyKey = None
) -> TransferOut:
    result = await wallet.refund(
        transfer_id=body.transfer_id,
        amount=await wallet.amount_for_transfer(body.transfer_id, body.amount),
        business=business_of(body, key, caller),
    )
    return TransferOut.of(result)


@router.post("/v1/wallet/holds", summary="Freeze an amount until it is captured or released")
async def freeze(
    body: HoldIn, caller: ServiceCaller, wallet: Wallet, key: IdempotencyKey = None
) -> TransferOut:
    if (body.user_id is None) == (body.sponsor_id is None):
        raise OwnerInvalid()
    owner = user_owner(body.user_id) if body.user_id else sponsor_owner(body.sponsor_id or 0)
    result = await wallet.freeze(
        owner=owner,
        asset=body.asset,
        amount=amount_in(body.asset, body.amount),
        business=business_of(body, key, caller),
        expires_in=timedelta(seconds=body.expires_in_seconds),
    )
    return TransferOut.of(result)


@router.post("/v1/wallet/holds/{hold_id}/capture", summary="Capture a hold, all or part")
async def capture(
    hold_id: Id,
    body: Annotated[CaptureIn, optional_body(CaptureIn)],
    caller: ServiceCaller,
    wallet: Wallet,
    key: IdempotencyKey = None,
) -> TransferOut:
    amount = None
    if body.amount is not None:
        amount = amount_in(await wallet.hold_asset(hold_id), body.amount)
    result = await wallet.capture(
        hold_id=hold_id, amount=amount, business=Business(key=key, operator_id=caller)
    )
    return TransferOut.of(result)


@router.post("/v1/wallet/holds/{hold_id}/release", summary="Release a hold")
async def release(
    hold_id: Id, caller: ServiceCaller, wallet: Wallet, key: IdempotencyKey = None
) -> TransferOut:
    result = await wallet.release(hold_id=hold_id, business=Business(key=key, operator_id=caller))
    return TransferOut.of(result)


@router.post("/v1/wallet/vip-purchases", summary="Buy VIP from cash, with its give coins")
async def buy_vip(
    body: VipPurchaseIn, caller: ServiceCaller, wallet: Wallet, key: IdempotencyKey = None
) -> TransferOut:
    result = await wallet.buy_vip(
        user_id=body.user_id,
        price=amount_in("CNY", body.price, "price"),
        days=body.days,
        business=business_of(body, key, caller),
    )
    return TransferOut.of(result)


@router.get("/v1/wallet/users/{user_id}", summary="A user's balances")
async def user_wallet(user_id: Id, _: ServiceCaller, wallet: Wallet) -> WalletOut:
    return await wallet_of(wallet, user_id)


@router.get("/v1/wallet/sponsors/{sponsor_id}", summary="A sponsor account and its balance")
async def get_sponsor(sponsor_id: Id, _: ServiceCaller, wallet: Wallet) -> SponsorOut:
    return SponsorOut.of(*(await wallet.sponsor(sponsor_id)))


@router.post("/v1/wallet/sponsors/{sponsor_id}/fundings", summary="Top up a sponsor account")
async def fund_sponsor(
    sponsor_id: Id,
    body: SponsorFundIn,
    _: ServiceCaller,
    wallet: Wallet,
    key: IdempotencyKey = None,
) -> TransferOut:
    result = await wallet.fund_sponsor(
        sponsor_id=sponsor_id,
        amount=amount_in("CNY", body.amount),
        channel=CHANNELS[body.channel],
        payment_id=body.payment_id,
        key=key,
    )
    return TransferOut.of(result)


@router.post(
    "/v1/wallet/sponsors/{sponsor_id}/charges", summary="Charge a sponsor for a user's consumption"
)
async def charge_sponsor(
    sponsor_id: Id,
    body: SponsorChargeIn,
    caller: ServiceCaller,
    wallet: Wallet,
    key: IdempotencyKey = None,
) -> TransferOut:
    result = await wallet.charge_sponsor(
        sponsor_id=sponsor_id,
        amount=amount_in("CNY", body.amount),
        user_id=body.user_id,
        business=business_of(body, key, caller),
    )
    return TransferOut.of(result)


# --- staff (the admin console) ---------------------------------------------------------------


@router.get("/v1/admin/wallet/users/{user_id}", summary="A user's balances")
async def staff_user_wallet(
    user_id: Id, _: Annotated[StaffActor, StaffWith("wallet:view")], wallet: Wallet
) -> WalletOut:
    return await wallet_of(wallet, user_id)


@router.post(
    "/v1/admin/wallet/sponsors",
    status_code=status.HTTP_201_CREATED,
    summary="Open a sponsor account",
)
async def create_sponsor(
    body: SponsorIn,
    staff: Annotated[StaffActor, StaffWith("wallet:sponsor:manage")],
    wallet: Wallet,
) -> SponsorOut:
    sponsor = await wallet.create_sponsor(
        name=body.name,
        sponsor_type=body.sponsor_type,
        contact=body.contact,
        operator_id=str(staff.id),
    )
    staff.audit.target_type, staff.audit.target_id = "sponsor", str(sponsor.id)
    return SponsorOut.of(*(await wallet.sponsor(sponsor.id)))


@router.get("/v1/admin/wallet/sponsors/{sponsor_id}", summary="A sponsor account and its balance")
async def staff_get_sponsor(
    sponsor_id: Id, _: Annotated[StaffActor, StaffWith("wallet:view")], wallet: Wallet
) -> SponsorOut:
    return SponsorOut.of(*(await wallet.sponsor(sponsor_id)))


@router.post("/v1/admin/wallet/sponsors/{sponsor_id}/status", summary="Suspend, close or reopen")
async def set_sponsor_status(
    sponsor_id: Id,
    body: SponsorStatusIn,
    _: Annotated[StaffActor, StaffWith("wallet:sponsor:manage")],
    wallet: Wallet,
) -> SponsorOut:
    await wallet.set_sponsor_status(sponsor_id=sponsor_id, status=body.status)
    return SponsorOut.of(*(await wallet.sponsor(sponsor_id)))


@router.post(
    "/v1/admin/wallet/adjustments",
    status_code=status.HTTP_201_CREATED,
    summary="File a manual adjustment (moves nothing until another staff member approves)",
)
async def file_adjustment(
    body: AdjustmentIn,
    staff: Annotated[StaffActor, StaffWith("wallet:adjust:apply")],
    wallet: Wallet,
) -> AdjustmentOut:
    adjustment = await wallet.file_adjustment(
        user_id=body.user_id,
        asset=body.asset,
        amount=body.amount,
        adjustment_type=body.adjustment_type,
        reason=body.reason,
        applicant_id=str(staff.id),
    )
    staff.audit.target_type, staff.audit.target_id = "adjustment", str(adjustment.id)
    return AdjustmentOut.of(adjustment)


@router.get("/v1/admin/wallet/adjustments", summary="Adjustments, newest first")
async def list_adjustments(
    _: Annotated[StaffActor, StaffWith("wallet:view")],
    wallet: Wallet,
    status_filter: Annotated[str | None, Query(alias="status", max_length=16)] = None,
) -> list[AdjustmentOut]:
    return [AdjustmentOut.of(a) for a in await wallet.adjustments(status=status_filter)]


@router.post("/v1/admin/wallet/adjustments/{adjustment_id}/approve", summary="Approve and apply")
async def approve_adjustment(
    adjustment_id: Id,
    body: Annotated[DecisionIn, optional_body(DecisionIn)],
    staff: Annotated[StaffActor, StaffWith("wallet:adjust:approve")],
    wallet: Wallet,
) -> AdjustmentOut:
    adjustment = await wallet.approve_adjustment(
        adjustment_id=adjustment_id, approver_id=str(staff.id), remark=body.remark
    )
    return AdjustmentOut.of(adjustment)


@router.post("/v1/admin/wallet/adjustments/{adjustment_id}/reject", summary="Reject")
async def reject_adjustment(
    adjustment_id: Id,
    body: Annotated[DecisionIn, optional_body(DecisionIn)],
    staff: Annotated[StaffActor, StaffWith("wallet:adjust:approve")],
    wallet: Wallet,
) -> AdjustmentOut:
    adjustment = await wallet.reject_adjustment(
        adjustment_id=adjustment_id, approver_id=str(staff.id), remark=body.remark
    )
    return AdjustmentOut.of(adjustment)


@router.post("/v1/admin/wallet/withdrawals/{withdrawal_id}/paid", summary="Mark a withdrawal paid")
async def withdrawal_paid(
    withdrawal_id: Id,
    body: Annotated[SettleIn, optional_body(SettleIn)],
    staff: Annotated[StaffActor, StaffWith("wallet:withdrawal:settle")],
    wallet: Wallet,
) -> WithdrawalOut:
    withdrawal = await wallet.settle_withdrawal(
        withdrawal_id=withdrawal_id, paid=True, handler_id=str(staff.id), remark=body.remark
    )
    return WithdrawalOut.of(withdrawal)


@router.post(
    "/v1/admin/wallet/withdrawals/{withdrawal_id}/failed",
    summary="Mark a withdrawal failed (gives the money back)",
)
async def withdrawal_failed(
    withdrawal_id: Id,
    body: Annotated[SettleIn, optional_body(SettleIn)],
    staff: Annotated[StaffActor, StaffWith("wallet:withdrawal:settle")],
    wallet: Wallet,
) -> WithdrawalOut:
    withdrawal = await wallet.settle_withdrawal(
        withdrawal_id=withdrawal_id, paid=False, handler_id=str(staff.id), remark=body.remark
    )
    return WithdrawalOut.of(withdrawal)


@router.get(
    "/v1/admin/wallet/reconciliation", summary="Recompute every balance and check the ledger"
)
async def reconciliation(
    _: Annotated[StaffActor, StaffWith("wallet:reconcile")], wallet: Wallet
) -> ReconciliationOut:
    return ReconciliationOut.of(await wallet.reconcile())
