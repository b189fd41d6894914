"""The current user's payment password (`/v1/me/payment-password…`) and its tickets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from usercenter.deps import Client, ReadSession, WriteSession, provided
from usercenter.profile.schemas.payment_password import (
    PaymentPasswordOut,
    PaymentPasswordPut,
    PaymentPasswordResetIn,
    PaymentTicketOut,
    PaymentTicketRequest,
)
from usercenter.profile.service.payment_password import PaymentPasswordService
from usercenter.profile.service.payment_tickets import PaymentTickets
from usercenter.tokens.auth import CurrentClaims

router = APIRouter(tags=["profile"])

PaymentPasswords = Annotated[PaymentPasswordService, Depends(provided(PaymentPasswordService))]
Tickets = Annotated[PaymentTickets, Depends(provided(PaymentTickets))]


@router.get("/v1/me/payment-password", summary="Whether a payment password is set, and locked")
async def payment_password_status(
    claims: CurrentClaims, passwords: PaymentPasswords, session: ReadSession
) -> PaymentPasswordOut:
    found = await passwords.status(session, claims.user_id)
    return PaymentPasswordOut(set=found.is_set, locked_until=found.locked_until)


@router.put(
    "/v1/me/payment-password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set the payment password (with an SMS code) or change it (with the old one)",
)
async def put_payment_password(
    body: PaymentPasswordPut,
    claims: CurrentClaims,
    passwords: PaymentPasswords,
    session: WriteSession,
    client: Client,
) -> None:
    await passwords.save_payment_password(
        session,
        user_id=claims.user_id,
        password=body.password,
        sms_code=body.sms_code,
        old_password=body.old_password,
        client=client,
    )


@router.post(
    "/v1/me/payment-password/reset",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Reset a forgotten payment password with an SMS code (and the ID number's end)",
)
async def reset_payment_password(
    body: PaymentPasswordResetIn,
    claims: CurrentClaims,
    passwords: PaymentPasswords,
    session: WriteSession,
    client: Client,
) -> None:
    await passwords.reset_payment_password(
        session,
        user_id=claims.user_id,
        password=body.password,
        sms_code=body.sms_code,
        id_number_last_six=body.id_number_last_six,
        client=client,
    )


@router.post(
    "/v1/me/payment-password/verify",
    summary="Check the payment password: a single-use ticket for one action and amount",
)
async def verify_payment_password(
    body: PaymentTicketRequest, claims: CurrentClaims, tickets: Tickets, session: WriteSession
) -> PaymentTicketOut:
    issued = await tickets.issue_ticket(
        session,
        user_id=claims.user_id,
        password=body.password,
        action=body.action,
        amount=body.amount,
    )
    return PaymentTicketOut(ticket=issued.ticket, expires_at=issued.expires_at)
