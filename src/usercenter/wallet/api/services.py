"""The business's services' wallet routes (`/v1/wallet/…`, with a service credential): every
move of money an order, a payment or a promotion makes."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter

from usercenter.deps import ServiceCaller
from usercenter.kit.schemas import Id, optional_body
from usercenter.wallet.api.common import (
    CHANNELS,
    Holds,
    IdempotencyKey,
    Postings,
    Sponsors,
    Statements,
    Vip,
    business_of,
    wallet_of,
)
from usercenter.wallet.models import Kind
from usercenter.wallet.schemas import (
    CaptureIn,
    CoinSpendIn,
    DebitIn,
    GrantIn,
    HoldIn,
    RechargeIn,
    RefundIn,
    SponsorChargeIn,
    SponsorFundIn,
    SponsorOut,
    TransferOut,
    VipPurchaseIn,
    WalletOut,
)
from usercenter.wallet.service import (
    Business,
    amount_in,
)

router = APIRouter(tags=["wallet"])


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
