"""The user's own wallet routes (`/v1/me/wallet…`, with an access token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from usercenter.deps import WriteSession
from usercenter.kit.pagination import MAX_PAGE_SIZE
from usercenter.kit.schemas import Id
from usercenter.profile.service.payment_tickets import PaymentAction
from usercenter.tokens.auth import CurrentClaims
from usercenter.wallet.api.common import (
    IdempotencyKey,
    PaymentTicket,
    Payouts,
    Postings,
    Statements,
    Tickets,
    Withdrawals,
    wallet_of,
)
from usercenter.wallet.models import user_owner
from usercenter.wallet.schemas import (
    AlipayIn,
    BankCardIn,
    CoinTransferIn,
    EntryOut,
    EntryPage,
    PayoutAccountOut,
    TransferOut,
    WalletOut,
    WithdrawalIn,
    WithdrawalOut,
)

router = APIRouter(tags=["wallet"])


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
    body: CoinTransferIn,
    claims: CurrentClaims,
    postings: Postings,
    tickets: Tickets,
    key: IdempotencyKey = None,
    ticket: PaymentTicket = None,
) -> TransferOut:
    await tickets.spend_ticket_before_posting(
        user_id=claims.user_id,
        ticket=ticket,
        action=PaymentAction.TRANSFER,
        amount=body.amount,
        key=key,
    )
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
    tickets: Tickets,
    session: WriteSession,
    ticket: PaymentTicket = None,
) -> PayoutAccountOut:
    await tickets.spend_ticket_or_raise(
        session, user_id=claims.user_id, ticket=ticket, action=PaymentAction.PAYOUT_ACCOUNT
    )
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
    payout_account_id: Id,
    claims: CurrentClaims,
    payouts: Payouts,
    tickets: Tickets,
    session: WriteSession,
    ticket: PaymentTicket = None,
) -> None:
    await tickets.spend_ticket_or_raise(
        session, user_id=claims.user_id, ticket=ticket, action=PaymentAction.PAYOUT_ACCOUNT
    )
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
    tickets: Tickets,
    key: IdempotencyKey = None,
    ticket: PaymentTicket = None,
) -> WithdrawalOut:
    await tickets.spend_ticket_before_posting(
        user_id=claims.user_id,
        ticket=ticket,
        action=PaymentAction.WITHDRAWAL,
        amount=body.amount,
        key=key,
    )
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
