"""Payment tickets: what typing the payment password buys — a single-use proof, bound to the
user, one action and (when the action has one) its amount, valid for a few minutes.

Where they live, and why: a row in the database (`payment_tickets`), only a SHA-256 of the
ticket kept. Spending is one conditional UPDATE (`spent_at IS NULL AND expires_at > now`), so
of two parallel spends one wins, on every supported database and across any number of
processes — also in the embedded set-up, whose cache is per process and could not promise
that. The wrong-try count lives in the same database for the same reason.

The wallet posts money through a group-commit ledger, in transactions of its own: a transfer
or withdrawal spends its ticket in a short transaction first, *before* the posting. A ticket
spent by a call that then fails (insufficient balance, a refused payee) is gone: the user
verifies again. A retry of that same call with the same `Idempotency-Key` may present the
spent ticket again while it is unexpired (the ledger answers a done call from its first
result and moves nothing twice). Payout-account changes spend the ticket inside their own unit
of work, with the change.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.config import Settings
from usercenter.db import Database
from usercenter.kit import clock
from usercenter.kit.errors import UserCenterError
from usercenter.profile.errors import (
    PaymentActionInvalid,
    PaymentAmountInvalid,
    PaymentAmountRequired,
    PaymentTicketInvalid,
    PaymentTicketRequired,
)
from usercenter.profile.models import PaymentTicket
from usercenter.profile.repository import payment_password as repository
from usercenter.profile.service.payment_password import PaymentPasswordService
from usercenter.security.crypto import hash_secret


class PaymentAction:
    TRANSFER = "wallet.transfer"
    WITHDRAWAL = "wallet.withdrawal"
    PAYOUT_ACCOUNT = "wallet.payout_account"


# Each action, and whether its ticket is bound to an amount.
ACTIONS = {
    PaymentAction.TRANSFER: True,
    PaymentAction.WITHDRAWAL: True,
    PaymentAction.PAYOUT_ACCOUNT: False,
}
MAX_AMOUNT_DIGITS = 18


def canonical_amount(value: str | int | None) -> str | None:
    """An amount as the ticket binds it, written the way the call writes it (whole coins for
    a transfer, yuan for a withdrawal) and compared by value: `12.30`, `12.3` and `12.300`
    are one amount. Raises PaymentAmountInvalid."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise PaymentAmountInvalid()
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise PaymentAmountInvalid() from None
    if not number.is_finite() or number <= 0 or number != number.quantize(Decimal("0.01")):
        raise PaymentAmountInvalid()
    text = format(number.normalize(), "f")
    if len(text.replace(".", "")) > MAX_AMOUNT_DIGITS:
        raise PaymentAmountInvalid()
    return text


def _amount_for(action: str, amount: str | int | None) -> str | None:
    if action not in ACTIONS:
        raise PaymentActionInvalid()
    if not ACTIONS[action]:
        return None
    if amount is None:
        raise PaymentAmountRequired()
    return canonical_amount(amount)


@dataclass(frozen=True, slots=True)
class IssuedTicket:
    ticket: str
    expires_at: datetime


class PaymentTickets:
    def __init__(
        self, database: Database, passwords: PaymentPasswordService, *, settings: Settings
    ) -> None:
        self.database = database
        self.passwords = passwords
        self.ttl = timedelta(seconds=settings.profile_payment_ticket_ttl_seconds)
        # Read on every call, so a test (or an operator's reload) may turn it on.
        self.required_for_everyone = settings.profile_payment_password_required

    async def issue_ticket(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        password: str,
        action: str,
        amount: str | int | None = None,
    ) -> IssuedTicket:
        """Check the payment password (counted as `verify_or_raise` does) and answer a new
        ticket for `action` (and `amount`, when the action moves one). Raises
        PaymentAmountInvalid, PaymentAmountRequired and what `verify_or_raise` raises."""
        bound_amount = _amount_for(action, amount)
        await self.passwords.verify_or_raise(session, user_id, password)
        now = clock.now()
        await repository.delete_stale_tickets(session, user_id, now - self.ttl)
        ticket = secrets.token_urlsafe(32)
        expires_at = now + self.ttl
        await repository.add_ticket(
            session,
            PaymentTicket(
                ticket_hash=hash_secret(ticket),
                user_id=user_id,
                action=action,
                amount=bound_amount,
                expires_at=expires_at,
                created_at=now,
            ),
        )
        return IssuedTicket(ticket=ticket, expires_at=expires_at)

    async def is_ticket_required(self, session: AsyncSession, user_id: int) -> bool:
        """Whether the user's money calls need a ticket: when they have a payment password,
        or for everyone when USERCENTER_PROFILE_PAYMENT_PASSWORD_REQUIRED is on."""
        if self.required_for_everyone:
            return True
        return await self.passwords.has_payment_password(session, user_id)

    async def spend_ticket_or_raise(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        ticket: str | None,
        action: str,
        amount: str | int | None = None,
        key: str | None = None,
    ) -> None:
        """Spend the ticket for this call, in `session` — or nothing when the user needs
        none. Raises PaymentTicketRequired (no ticket), PaymentTicketInvalid (unknown,
        another user's, another action or amount, spent, expired)."""
        if not await self.is_ticket_required(session, user_id):
            return
        if not ticket:
            raise PaymentTicketRequired()
        try:
            bound_amount = _amount_for(action, amount)
        except UserCenterError:
            raise PaymentTicketInvalid() from None
        ticket_hash = hash_secret(ticket)
        now = clock.now()
        if await repository.spend_ticket(
            session,
            ticket_hash=ticket_hash,
            user_id=user_id,
            action=action,
            amount=bound_amount,
            now=now,
            key=key,
        ):
            return
        if key is not None and await repository.spent_by_key(
            session,
            ticket_hash=ticket_hash,
            user_id=user_id,
            action=action,
            amount=bound_amount,
            key=key,
            now=now,
        ):
            return
        raise PaymentTicketInvalid()

    async def spend_ticket_before_posting(
        self,
        *,
        user_id: int,
        ticket: str | None,
        action: str,
        amount: str | int | None = None,
        key: str | None = None,
    ) -> None:
        """`spend_ticket_or_raise` in a transaction of its own, committed before the caller
        posts to the ledger (see the module's docstring for what that means)."""
        async with self.database.unit_of_work() as session:
            await self.spend_ticket_or_raise(
                session, user_id=user_id, ticket=ticket, action=action, amount=amount, key=key
            )
