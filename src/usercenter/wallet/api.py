"""Routes of the wallet: the user's own (`/v1/me/wallet…`, with an access token), the
business's services' (`/v1/wallet/…`, with a service credential) and the staff's
(`/v1/admin/wallet/…`, with a staff token holding the route's permission; logged)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, status

from usercenter.access.auth import StaffActor, StaffWith
from usercenter.deps import ServiceCaller, WriteSession, provided
from usercenter.kit.pagination import MAX_PAGE_SIZE
from usercenter.kit.schemas import Id, optional_body
from usercenter.tokens.auth import CurrentClaims
from usercenter.wallet.models import Kind, SystemAccount, user_owner
from usercenter.wallet.schemas import (
    AdjustmentIn,
    AdjustmentOut,
    AdminWithdrawalOut,
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
    SponsorPage,
    SponsorStatusIn,
    TransferOut,
    VipPurchaseIn,
    WalletOut,
    WithdrawalIn,
    WithdrawalOut,
    WithdrawalPage,
)
from usercenter.wallet.service import (
    AdjustmentService,
    Business,
    HoldService,
    PayoutService,
    PostingService,
    SponsorService,
    StatementService,
    VipService,
    WithdrawalService,
    amount_in,
)

Postings = Annotated[PostingService, Depends(provided(PostingService))]
Holds = Annotated[HoldService, Depends(provided(HoldService))]
Sponsors = Annotated[SponsorService, Depends(provided(SponsorService))]
Vip = Annotated[VipService, Depends(provided(VipService))]
Payouts = Annotated[PayoutService, Depends(provided(PayoutService))]
Withdrawals = Annotated[WithdrawalService, Depends(provided(WithdrawalService))]
Adjustments = Annotated[AdjustmentService, Depends(provided(AdjustmentService))]
Statements = Annotated[StatementService, Depends(provided(StatementService))]

router = APIRouter(tags=["wallet"])

Cursor = Annotated[str | None, Query(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
AssetFilter = Annotated[str | None, Query(max_length=16)]
KindFilter = Annotated[str | None, Query(max_length=24)]
StaffViewer = Annotated[StaffActor, StaffWith("wallet:view")]

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


async def wallet_of(
    statements: StatementService, user_id: int, *, is_known: bool = False
) -> WalletOut:
    """A user's balances and VIP end, as the user, services and staff see them."""
    balances, vip_until = await statements.user_wallet(user_id, is_known=is_known)
    return WalletOut(balances=[BalanceOut.of(b) for b in balances], vip_until=vip_until)


# --- the user's own -----------------------------------------------------------------------


@router.get("/v1/me/wallet", summary="The current user's balances per asset")
async def my_wallet(claims: CurrentClaims, statements: Statements) -> WalletOut:
    return await wallet_of(statements, claims.user_id, is_known=True)


@router.get("/v1/me/wallet/entries", summary="The current user's ledger entries, newest first")
async def my_entries(
    claims: CurrentClaims,
    statements: Statements,
    asset: Annotated[str | None, Query(max_length=16)] = None,
    kind: Annotated[str | None, Query(max_length=24)] = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> EntryPage:
    page = await statements.entries(
        user_owner(claims.user_id), asset=asset, kind=kind, cursor=cursor, limit=limit
    )
    return EntryPage(items=[EntryOut.of(e) for e in page.items], next_cursor=page.next_cursor)


@router.post("/v1/me/wallet/transfers", summary="Give recharge coins to another user")
async def transfer_coins(
    body: CoinTransferIn, claims: CurrentClaims, postings: Postings, key: IdempotencyKey = None
) -> TransferOut:
    result = await postings.transfer_coins_of_user(
        from_user_id=claims.user_id,
        to_user_id=body.to_user_id,
        amount=body.amount,
        asset=body.asset,
        key=key,
        remark=body.remark,
    )
    return TransferOut.of(result)


@router.get("/v1/me/wallet/payout-accounts", summary="The current user's payout accounts")
async def my_payout_accounts(claims: CurrentClaims, payouts: Payouts) -> list[PayoutAccountOut]:
    return [PayoutAccountOut.of(p) for p in await payouts.payout_accounts(claims.user_id)]


@router.post(
    "/v1/me/wallet/payout-accounts",
    status_code=status.HTTP_201_CREATED,
    summary="Save a bank card or Alipay account for withdrawals (shown masked from then on)",
)
async def add_payout_account(
    body: Annotated[BankCardIn | AlipayIn, "discriminated by kind"],
    claims: CurrentClaims,
    payouts: Payouts,
    session: WriteSession,
) -> PayoutAccountOut:
    if isinstance(body, BankCardIn):
        payout = await payouts.add_bank_card(
            session,
            user_id=claims.user_id,
            real_name=body.real_name,
            bank_name=body.bank_name,
            card_number=body.card_number,
            id_card=body.id_card,
        )
    else:
        payout = await payouts.add_alipay_account(
            session, user_id=claims.user_id, real_name=body.real_name, account=body.account
        )
    return PayoutAccountOut.of(payout)


@router.delete(
    "/v1/me/wallet/payout-accounts/{payout_account_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a payout account",
)
async def remove_payout_account(
    payout_account_id: Id, claims: CurrentClaims, payouts: Payouts, session: WriteSession
) -> None:
    await payouts.remove_payout_account(
        session, user_id=claims.user_id, payout_account_id=payout_account_id
    )


@router.post(
    "/v1/me/wallet/withdrawals",
    status_code=status.HTTP_201_CREATED,
    summary="Withdraw cash to a saved payout account (frozen until staff settle it)",
)
async def apply_withdrawal(
    body: WithdrawalIn,
    claims: CurrentClaims,
    withdrawals: Withdrawals,
    key: IdempotencyKey = None,
) -> WithdrawalOut:
    withdrawal = await withdrawals.apply_withdrawal_of_user(
        user_id=claims.user_id,
        payout_account_id=body.payout_account_id,
        amount=body.amount,
        key=key,
    )
    return WithdrawalOut.of(withdrawal)


@router.get("/v1/me/wallet/withdrawals", summary="The current user's withdrawals, newest first")
async def my_withdrawals(claims: CurrentClaims, withdrawals: Withdrawals) -> list[WithdrawalOut]:
    return [WithdrawalOut.of(w) for w in await withdrawals.withdrawals(claims.user_id)]


# --- the business's services --------------------------------------------------------------


@router.post(
    "/v1/wallet/recharges", summary="Credit a payment received through WeChat Pay or Alipay"
)
async def recharge(
    body: RechargeIn, _: ServiceCaller, postings: Postings, key: IdempotencyKey = None
) -> TransferOut:
    result = await postings.recharge(
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
    body: DebitIn, caller: ServiceCaller, postings: Postings, key: IdempotencyKey = None
) -> TransferOut:
    result = await postings.consume(
        user_id=body.user_id,
        asset=body.asset,
        amount=amount_in(body.asset, body.amount),
        business=business_of(body, key, caller),
    )
    return TransferOut.of(result)


@router.post("/v1/wallet/coin-spends", summary="Spend coins: reward, then give, then recharge")
async def spend_coins(
    body: CoinSpendIn, caller: ServiceCaller, postings: Postings, key: IdempotencyKey = None
) -> TransferOut:
    result = await postings.spend_coins(
        user_id=body.user_id, amount=body.amount, business=business_of(body, key, caller)
    )
    return TransferOut.of(result)


@router.post("/v1/wallet/grants", summary="Give coins, reward coins, points or a commission")
async def grant(
    body: GrantIn, caller: ServiceCaller, postings: Postings, key: IdempotencyKey = None
) -> TransferOut:
    result = await postings.grant(
        user_id=body.user_id,
        asset=body.asset,
        amount=amount_in(body.asset, body.amount),
        kind=Kind(body.kind),
        business=business_of(body, key, caller),
    )
    return TransferOut.of(result)


@router.post("/v1/wallet/refunds", summary="Refund (part of) an earlier debit")
async def refund(
    body: RefundIn, caller: ServiceCaller, postings: Postings, key: IdempotencyKey = None
) -> TransferOut:
    result = await postings.refund_as_written(
        transfer_id=body.transfer_id,
        amount=body.amount,
        business=business_of(body, key, caller),
    )
    return TransferOut.of(result)


@router.post("/v1/wallet/holds", summary="Freeze an amount until it is captured or released")
async def freeze(
    body: HoldIn, caller: ServiceCaller, holds: Holds, key: IdempotencyKey = None
) -> TransferOut:
    result = await holds.hold_for(
        user_id=body.user_id,
        sponsor_id=body.sponsor_id,
        asset=body.asset,
        amount=body.amount,
        business=business_of(body, key, caller),
        expires_in=timedelta(seconds=body.expires_in_seconds),
    )
    return TransferOut.of(result)


@router.post("/v1/wallet/holds/{hold_id}/capture", summary="Capture a hold, all or part")
async def capture(
    hold_id: Id,
    body: Annotated[CaptureIn, optional_body(CaptureIn)],
    caller: ServiceCaller,
    holds: Holds,
    key: IdempotencyKey = None,
) -> TransferOut:
    result = await holds.capture_as_written(
        hold_id=hold_id, amount=body.amount, business=Business(key=key, operator_id=caller)
    )
    return TransferOut.of(result)


@router.post("/v1/wallet/holds/{hold_id}/release", summary="Release a hold")
async def release(
    hold_id: Id, caller: ServiceCaller, holds: Holds, key: IdempotencyKey = None
) -> TransferOut:
    result = await holds.release(hold_id=hold_id, business=Business(key=key, operator_id=caller))
    return TransferOut.of(result)


@router.post("/v1/wallet/vip-purchases", summary="Buy VIP from cash, with its give coins")
async def buy_vip(
    body: VipPurchaseIn, caller: ServiceCaller, vip: Vip, key: IdempotencyKey = None
) -> TransferOut:
    result = await vip.buy_vip(
        user_id=body.user_id,
        price=amount_in("CNY", body.price, "price"),
        days=body.days,
        business=business_of(body, key, caller),
    )
    return TransferOut.of(result)


@router.get("/v1/wallet/users/{user_id}", summary="A user's balances")
async def user_wallet(user_id: Id, _: ServiceCaller, statements: Statements) -> WalletOut:
    return await wallet_of(statements, user_id)


@router.get("/v1/wallet/sponsors/{sponsor_id}", summary="A sponsor account and its balance")
async def get_sponsor(sponsor_id: Id, _: ServiceCaller, sponsors: Sponsors) -> SponsorOut:
    return SponsorOut.of(*(await sponsors.sponsor(sponsor_id)))


@router.post("/v1/wallet/sponsors/{sponsor_id}/fundings", summary="Top up a sponsor account")
async def fund_sponsor(
    sponsor_id: Id,
    body: SponsorFundIn,
    _: ServiceCaller,
    sponsors: Sponsors,
    key: IdempotencyKey = None,
) -> TransferOut:
    result = await sponsors.fund_sponsor(
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
    sponsors: Sponsors,
    key: IdempotencyKey = None,
) -> TransferOut:
    result = await sponsors.charge_sponsor(
        sponsor_id=sponsor_id,
        amount=amount_in("CNY", body.amount),
        user_id=body.user_id,
        business=business_of(body, key, caller),
    )
    return TransferOut.of(result)


# --- staff (the admin console) ---------------------------------------------------------------


@router.get("/v1/admin/wallet/users/{user_id}", summary="A user's balances")
async def staff_user_wallet(
    user_id: Id, _: Annotated[StaffActor, StaffWith("wallet:view")], statements: Statements
) -> WalletOut:
    return await wallet_of(statements, user_id)


@router.get("/v1/admin/wallet/users/{user_id}/entries", summary="A user's entries, newest first")
async def staff_user_entries(
    user_id: Id,
    _: StaffViewer,
    statements: Statements,
    asset: AssetFilter = None,
    kind: KindFilter = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> EntryPage:
    page = await statements.user_entries(
        user_id, asset=asset, kind=kind, cursor=cursor, limit=limit
    )
    return EntryPage(items=[EntryOut.of(e) for e in page.items], next_cursor=page.next_cursor)


@router.get("/v1/admin/wallet/sponsors", summary="Sponsor accounts with balances, newest first")
async def list_sponsors(
    _: StaffViewer,
    sponsors: Sponsors,
    status_filter: Annotated[
        Literal["ACTIVE", "SUSPENDED", "CLOSED"] | None, Query(alias="status")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> SponsorPage:
    page = await sponsors.sponsors(status=status_filter, cursor=cursor, limit=limit)
    return SponsorPage(
        items=[SponsorOut.of(*item) for item in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/v1/admin/wallet/sponsors/{sponsor_id}/entries", summary="A sponsor's entries, newest first"
)
async def staff_sponsor_entries(
    sponsor_id: Id,
    _: StaffViewer,
    statements: Statements,
    asset: AssetFilter = None,
    kind: KindFilter = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> EntryPage:
    page = await statements.sponsor_entries(
        sponsor_id, asset=asset, kind=kind, cursor=cursor, limit=limit
    )
    return EntryPage(items=[EntryOut.of(e) for e in page.items], next_cursor=page.next_cursor)


@router.get("/v1/admin/wallet/withdrawals", summary="Withdrawals of every user, newest first")
async def list_withdrawals(
    _: StaffViewer,
    withdrawals: Withdrawals,
    status_filter: Annotated[
        Literal["PENDING", "PAID", "FAILED"] | None, Query(alias="status")
    ] = None,
    user_id: Id | None = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> WithdrawalPage:
    page = await withdrawals.withdrawals_page(
        status=status_filter, user_id=user_id, cursor=cursor, limit=limit
    )
    return WithdrawalPage(
        items=[AdminWithdrawalOut.of(w) for w in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/v1/admin/wallet/sponsors",
    status_code=status.HTTP_201_CREATED,
    summary="Open a sponsor account",
)
async def create_sponsor(
    body: SponsorIn,
    staff: Annotated[StaffActor, StaffWith("wallet:sponsor:manage")],
    sponsors: Sponsors,
    session: WriteSession,
) -> SponsorOut:
    sponsor, balance = await sponsors.create_sponsor(
        session,
        name=body.name,
        sponsor_type=body.sponsor_type,
        contact=body.contact,
        operator_id=str(staff.id),
    )
    staff.audit.target("sponsor", sponsor.id)
    return SponsorOut.of(sponsor, balance)


@router.get("/v1/admin/wallet/sponsors/{sponsor_id}", summary="A sponsor account and its balance")
async def staff_get_sponsor(
    sponsor_id: Id, _: Annotated[StaffActor, StaffWith("wallet:view")], sponsors: Sponsors
) -> SponsorOut:
    return SponsorOut.of(*(await sponsors.sponsor(sponsor_id)))


@router.post("/v1/admin/wallet/sponsors/{sponsor_id}/status", summary="Suspend, close or reopen")
async def set_sponsor_status(
    sponsor_id: Id,
    body: SponsorStatusIn,
    _: Annotated[StaffActor, StaffWith("wallet:sponsor:manage")],
    sponsors: Sponsors,
    session: WriteSession,
) -> SponsorOut:
    return SponsorOut.of(
        *(await sponsors.set_sponsor_status(session, sponsor_id=sponsor_id, status=body.status))
    )


@router.post(
    "/v1/admin/wallet/adjustments",
    status_code=status.HTTP_201_CREATED,
    summary="File a manual adjustment (moves nothing until another staff member approves)",
)
async def file_adjustment(
    body: AdjustmentIn,
    staff: Annotated[StaffActor, StaffWith("wallet:adjust:apply")],
    adjustments: Adjustments,
    session: WriteSession,
) -> AdjustmentOut:
    adjustment = await adjustments.file_adjustment(
        session,
        user_id=body.user_id,
        asset=body.asset,
        amount=body.amount,
        adjustment_type=body.adjustment_type,
        reason=body.reason,
        applicant_id=str(staff.id),
    )
    staff.audit.target("adjustment", adjustment.id)
    return AdjustmentOut.of(adjustment)


@router.get("/v1/admin/wallet/adjustments", summary="Adjustments, newest first")
async def list_adjustments(
    _: Annotated[StaffActor, StaffWith("wallet:view")],
    adjustments: Adjustments,
    status_filter: Annotated[str | None, Query(alias="status", max_length=16)] = None,
) -> list[AdjustmentOut]:
    return [AdjustmentOut.of(a) for a in await adjustments.adjustments(status=status_filter)]


@router.post("/v1/admin/wallet/adjustments/{adjustment_id}/approve", summary="Approve and apply")
async def approve_adjustment(
    adjustment_id: Id,
    body: Annotated[DecisionIn, optional_body(DecisionIn)],
    staff: Annotated[StaffActor, StaffWith("wallet:adjust:approve")],
    adjustments: Adjustments,
) -> AdjustmentOut:
    adjustment = await adjustments.approve_adjustment(
        adjustment_id=adjustment_id,
        approver_id=str(staff.id),
        remark=body.remark,
        side_rows=[staff.audit_row()],
    )
    return AdjustmentOut.of(adjustment)


@router.post("/v1/admin/wallet/adjustments/{adjustment_id}/reject", summary="Reject")
async def reject_adjustment(
    adjustment_id: Id,
    body: Annotated[DecisionIn, optional_body(DecisionIn)],
    staff: Annotated[StaffActor, StaffWith("wallet:adjust:approve")],
    adjustments: Adjustments,
    session: WriteSession,
) -> AdjustmentOut:
    adjustment = await adjustments.reject_adjustment(
        session, adjustment_id=adjustment_id, approver_id=str(staff.id), remark=body.remark
    )
    return AdjustmentOut.of(adjustment)


@router.post("/v1/admin/wallet/withdrawals/{withdrawal_id}/paid", summary="Mark a withdrawal paid")
async def withdrawal_paid(
    withdrawal_id: Id,
    body: Annotated[SettleIn, optional_body(SettleIn)],
    staff: Annotated[StaffActor, StaffWith("wallet:withdrawal:settle")],
    withdrawals: Withdrawals,
) -> WithdrawalOut:
    return await _settle(withdrawals, withdrawal_id, body, staff, paid=True)


@router.post(
    "/v1/admin/wallet/withdrawals/{withdrawal_id}/failed",
    summary="Mark a withdrawal failed (gives the money back)",
)
async def withdrawal_failed(
    withdrawal_id: Id,
    body: Annotated[SettleIn, optional_body(SettleIn)],
    staff: Annotated[StaffActor, StaffWith("wallet:withdrawal:settle")],
    withdrawals: Withdrawals,
) -> WithdrawalOut:
    return await _settle(withdrawals, withdrawal_id, body, staff, paid=False)


async def _settle(
    withdrawals: WithdrawalService,
    withdrawal_id: int,
    body: SettleIn,
    staff: StaffActor,
    *,
    paid: bool,
) -> WithdrawalOut:
    """Either end of a withdrawal, its admin-log entry committed with the money move."""
    withdrawal = await withdrawals.settle_withdrawal(
        withdrawal_id=withdrawal_id,
        paid=paid,
        handler_id=str(staff.id),
        remark=body.remark,
        side_rows=[staff.audit_row()],
    )
    return WithdrawalOut.of(withdrawal)


@router.get(
    "/v1/admin/wallet/reconciliation", summary="Recompute every balance and check the ledger"
)
async def reconciliation(
    _: Annotated[StaffActor, StaffWith("wallet:reconcile")], statements: Statements
) -> ReconciliationOut:
    return ReconciliationOut.of(await statements.reconcile())
