"""The events of the tokens module: a session ended (gateways drop the tokens they cached)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from usercenter.kit.events import Event


class SessionRevoked(Event):
    event_type: ClassVar[str] = "usercenter.session.revoked"
    subject_kind: ClassVar[str] = "users"
    summary: ClassVar[str] = (
        "A user's session ended before its time: drop any token cached for `session_id`"
    )

    user_id: int
    session_id: str
    platform: str | None = None
    reason: str = Field(
        description="logout, revoked, password_changed, user_disabled, refresh_reuse, "
        "replaced (a new login on a one-device platform) …"
    )
