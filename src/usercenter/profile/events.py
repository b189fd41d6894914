"""The events of the profile module (see `usercenter.kit.events`): masked values only."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from usercenter.kit.events import Event

# --- consents ---


class _ConsentEvent(Event):
    subject_kind: ClassVar[str] = "users"

    user_id: int
    kind: str = Field(description="privacy_policy, terms, location, marketing or real_name")
    version: str | None = Field(default=None, description="The policy's version (policies)")
    platform: str | None = Field(default=None, description="Where it was given: MINIAPP, APP …")


class ConsentGranted(_ConsentEvent):
    event_type: ClassVar[str] = "usercenter.consent.granted"
    summary: ClassVar[str] = "A user gave a consent (a policy version, location, marketing …)"


class ConsentWithdrawn(_ConsentEvent):
    event_type: ClassVar[str] = "usercenter.consent.withdrawn"
    summary: ClassVar[str] = (
        "A user withdrew a consent; what it covered stops (a withdrawn location consent "
        "erases the stored precise location)"
    )
