"""API shapes of the audit module."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from pydantic import Field

from usercenter.audit.service import LoginEventView, ProfileChangeView
from usercenter.kit.schemas import Schema


class AuthEventOut(Schema):
    id: str
    kind: str = Field(description="register, login, login_failed or logout")
    method: str | None
    reason: str | None
    platform: str | None
    client_version: str | None
    device_id: str | None
    os_name: str | None
    os_version: str | None
    ip: str | None
    created_at: datetime

    @classmethod
    def of(cls, event: LoginEventView) -> AuthEventOut:
        return cls.model_validate({**asdict(event), "id": str(event.id)})


class AuthEventPage(Schema):
    items: list[AuthEventOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")


class ProfileChangeOut(Schema):
    id: str
    action: str = Field(description="update, set, bind, unbind, add, remove, submit, grant…")
    attribute: str = Field(
        description="What changed: `nickname`, `address.detail`, `extends.<key>`, "
        "`payment_password`…"
    )
    old_value: str | None = Field(description="Masked where personal; a secret shows none")
    new_value: str | None = Field(description="Masked where personal; a secret shows none")
    actor: str = Field(description="Who made it: user, staff, service or system")
    actor_id: str | None = Field(description="Which staff member or service, when not the user")
    ip: str | None
    created_at: datetime

    @classmethod
    def of(cls, change: ProfileChangeView) -> ProfileChangeOut:
        return cls.model_validate({**asdict(change), "id": str(change.id)})


class ProfileChangePage(Schema):
    items: list[ProfileChangeOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")
