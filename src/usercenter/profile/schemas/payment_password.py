"""API shapes of the payment password and its tickets. Values are never answered back."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from usercenter.kit.schemas import Schema


class PaymentPasswordPut(Schema):
    """First set: `password` + `sms_code`; a change: `old_password` + `password`."""

    password: str = Field(min_length=1, max_length=32, description="The new six digits")
    sms_code: str | None = Field(
        default=None,
        min_length=1,
        max_length=16,
        description="First set: the SMS code (purpose payment_password) sent to the bound phone",
    )
    old_password: str | None = Field(
        default=None, min_length=1, max_length=32, description="A change: the current six digits"
    )


class PaymentPasswordResetIn(Schema):
    password: str = Field(min_length=1, max_length=32, description="The new six digits")
    sms_code: str = Field(
        min_length=1,
        max_length=16,
        description="The SMS code (purpose payment_password) sent to the bound phone",
    )
    id_number_last_six: str | None = Field(
        default=None,
        min_length=6,
        max_length=6,
        description="When the user's ID card is verified: the number's last six characters",
    )


class PaymentPasswordOut(Schema):
    set: bool = Field(description="Whether the user has a payment password")
    locked_until: datetime | None = Field(
        description="Until when too many wrong tries lock it (None: not locked)"
    )


class PaymentTicketRequest(Schema):
    password: str = Field(min_length=1, max_length=32, description="The payment password")
    action: Literal["wallet.transfer", "wallet.withdrawal", "wallet.payout_account"] = Field(
        description="The one call the ticket will allow"
    )
    amount: str | int | None = Field(
        default=None,
        description="The amount that call moves, written as that call writes it (whole coins "
        "for a transfer, yuan for a withdrawal); required for transfers and withdrawals",
    )


class PaymentTicketOut(Schema):
    ticket: str = Field(
        description="Send it once as the X-Payment-Ticket header of the call it is bound to"
    )
    expires_at: datetime = Field(description="After this it is refused")
