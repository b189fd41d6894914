"""What the wallet's routes share: the services they are given, the query and header
parameters, and the answers more than one audience gets."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query

from usercenter.access.auth import StaffActor, StaffWith
from usercenter.deps import provided
from usercenter.kit.pagination import MAX_PAGE_SIZE
from usercenter.profile.service.payment_tickets import PaymentTickets
from usercenter.wallet.models import SystemAccount
from usercenter.wallet.schemas import (
    BalanceOut,
    BusinessIn,
    WalletOut,
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
)

Postings = Annotated[PostingService, Depends(provided(PostingService))]
Holds = Annotated[HoldService, Depends(provided(HoldService))]
Sponsors = Annotated[SponsorService, Depends(provided(SponsorService))]
Vip = Annotated[VipService, Depends(provided(VipService))]
Payouts = Annotated[PayoutService, Depends(provided(PayoutService))]
Withdrawals = Annotated[WithdrawalService, Depends(provided(WithdrawalService))]
Adjustments = Annotated[AdjustmentService, Depends(provided(AdjustmentService))]
Statements = Annotated[StatementService, Depends(provided(StatementService))]
Tickets = Annotated[PaymentTickets, Depends(provided(PaymentTickets))]

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

PaymentTicket = Annotated[
    str | None,
    Header(
        alias="X-Payment-Ticket",
        max_length=128,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="From POST /v1/me/payment-password/verify, for this action and amount; "
        "required when the user has a payment password (or the service requires one of "
        "everyone). Single use: refused as payment_ticket_required or payment_ticket_invalid "
        "before anything moves",
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
