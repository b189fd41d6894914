"""The events of the identity module (see `usercenter.kit.events`): users registered,
changed, disabled; identities bound, unbound, merged. Masked values only."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from usercenter.kit.events import Event


class _UserEvent(Event):
    subject_kind: ClassVar[str] = "users"

    user_id: int
    uid: str = Field(description="The display uid (GD000001)")


class UserRegistered(_UserEvent):
    event_type: ClassVar[str] = "usercenter.user.registered"
    summary: ClassVar[str] = "A new user: the first login by any method created them"

    method: str = Field(description="How they came: sms, password, wechat_miniapp …")
    platform: str | None = Field(default=None, description="MINIAPP, APP, H5, WEB")
    phone_masked: str | None = Field(default=None, description="138****8888, when bound")


class UserProfileChanged(_UserEvent):
    event_type: ClassVar[str] = "usercenter.user.profile_changed"
    summary: ClassVar[str] = "A user's profile changed; `fields` names what (read it from the API)"

    fields: list[str]


class UserIdentityBound(_UserEvent):
    event_type: ClassVar[str] = "usercenter.user.identity_bound"
    summary: ClassVar[str] = "A login identity (phone, e-mail, an app's openid …) was bound"

    identity_type: str
    identifier_masked: str
    app_id: str | None = None


class UserIdentityUnbound(_UserEvent):
    event_type: ClassVar[str] = "usercenter.user.identity_unbound"
    summary: ClassVar[str] = "A login identity was unbound from the user"

    identity_type: str
    identifier_masked: str
    app_id: str | None = None
    by_staff_id: int | None = Field(
        default=None, description="The staff member who unbound it (support); None: the user"
    )


class UserIdentityMerged(_UserEvent):
    event_type: ClassVar[str] = "usercenter.user.identity_merged"
    summary: ClassVar[str] = (
        "A login from another app of the same WeChat open platform landed on this user "
        "through the unionid: the app's openid was added to them"
    )

    identity_type: str
    app_id: str | None = None
    via: str = Field(default="unionid")


class UserPasswordChanged(_UserEvent):
    event_type: ClassVar[str] = "usercenter.user.password_changed"
    summary: ClassVar[str] = "A user's password was set, changed or reset (sessions follow)"

    how: str = Field(description="set, changed or reset")


class UserDisabled(_UserEvent):
    event_type: ClassVar[str] = "usercenter.user.disabled"
    summary: ClassVar[str] = "A user was disabled: they cannot log in, their sessions end"

    by_staff_id: int | None = None
    reason: str | None = None


class UserEnabled(_UserEvent):
    event_type: ClassVar[str] = "usercenter.user.enabled"
    summary: ClassVar[str] = "A disabled user was enabled again"

    by_staff_id: int | None = None
