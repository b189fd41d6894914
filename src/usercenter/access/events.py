"""The events of the access module: a user's grants changed, a role's permissions changed,
staff accounts created and changed."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from usercenter.kit.events import Event


class GrantChanged(Event):
    event_type: ClassVar[str] = "usercenter.access.grant_changed"
    subject_kind: ClassVar[str] = "users"
    summary: ClassVar[str] = "A role was granted to or revoked from a user (check access again)"

    user_id: int
    role_code: str
    action: str = Field(description="granted or revoked")
    scope_type: str | None = Field(default=None, description="agency, merchant; None: global")
    scope_id: int | None = None
    by_staff_id: int | None = None


class RoleChanged(Event):
    event_type: ClassVar[str] = "usercenter.access.role_changed"
    subject_kind: ClassVar[str] = "roles"
    subject_field: ClassVar[str] = "role_id"
    summary: ClassVar[str] = (
        "A role was created, changed, deleted, or its permissions changed: every holder's "
        "access may differ"
    )

    role_id: int
    role_code: str
    change: str = Field(description="created, updated, deleted or permissions_changed")
    by_staff_id: int | None = None


class _StaffEvent(Event):
    subject_kind: ClassVar[str] = "staff"
    subject_field: ClassVar[str] = "staff_id"

    staff_id: int
    by_staff_id: int | None = None


class StaffCreated(_StaffEvent):
    event_type: ClassVar[str] = "usercenter.staff.created"
    summary: ClassVar[str] = "A staff account was created"

    username: str
    role_codes: list[str] = Field(default_factory=list, description="The roles it was given")


class StaffDisabled(_StaffEvent):
    event_type: ClassVar[str] = "usercenter.staff.disabled"
    summary: ClassVar[str] = "A staff account was disabled; its sessions end"


class StaffEnabled(_StaffEvent):
    event_type: ClassVar[str] = "usercenter.staff.enabled"
    summary: ClassVar[str] = "A disabled staff account was enabled again"


class StaffRolesChanged(_StaffEvent):
    event_type: ClassVar[str] = "usercenter.staff.roles_changed"
    summary: ClassVar[str] = "A staff account's roles changed"

    role_codes: list[str] = Field(description="The roles held now")


class StaffCredentialsReset(_StaffEvent):
    event_type: ClassVar[str] = "usercenter.staff.credentials_reset"
    summary: ClassVar[str] = "A staff account's password or TOTP was reset; its sessions end"

    what: str = Field(description="password or totp")
