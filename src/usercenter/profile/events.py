"""The events of the profile module (see `usercenter.kit.events`): masked values only."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from usercenter.kit.events import Event

# --- payment password ---


class PaymentPasswordChanged(Event):
    event_type: ClassVar[str] = "usercenter.payment_password.changed"
    subject_kind: ClassVar[str] = "users"
    summary: ClassVar[str] = "A user's payment password was set, changed or reset (never its value)"

    user_id: int
    uid: str = Field(description="The display uid (GD000001)")
    how: Literal["set", "changed", "reset"] = Field(
        description="set: the first time (SMS code); changed: with the old one; reset: by SMS"
    )
