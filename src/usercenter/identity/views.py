"""What the identity services hand back: plain dataclasses, never the tables. Other modules
(access, wallet) see users only through these."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from usercenter.identity.models import UserStatus
from usercenter.kit.session_hooks import RequiredConsent
from usercenter.tokens.service import IssuedTokens

# An extension field's value as the API shows it: a string (string, decimal, date, enum), an
# integer or a boolean.
ExtendValue = str | int | bool


@dataclass(frozen=True, slots=True)
class UserView:
    """A user as the API shows it: phone and e-mail masked. Plain values, so it can be cached."""

    id: int
    uid: str
    nickname: str | None
    avatar_url: str | None
    gender: int
    birthday: date | None
    signature: str | None
    status: str
    created_at: datetime
    phone: str | None
    email: str | None
    username: str | None
    has_password: bool
    # {"province"|"city"|"district": {"code", "name"}}; None when not set.
    region: dict[str, Any] | None = None
    # The extension fields of active keys (seed 003 users_extends), typed: `{"level": 3}`.
    extends: dict[str, ExtendValue] = field(default_factory=dict)

    def to_json(self) -> str:
        values = {k: getattr(self, k) for k in self.__slots__}
        values["birthday"] = self.birthday.isoformat() if self.birthday else None
        values["created_at"] = self.created_at.isoformat()
        return json.dumps(values)

    @classmethod
    def from_json(cls, text: str) -> UserView:
        values = json.loads(text)
        values["birthday"] = date.fromisoformat(values["birthday"]) if values["birthday"] else None
        values["created_at"] = datetime.fromisoformat(values["created_at"])
        return cls(**values)


@dataclass(frozen=True, slots=True)
class LoginResult:
    view: UserView
    tokens: IssuedTokens
    is_new_user: bool
    # The policy versions in force the user has still to accept (the profile's consents).
    consents_required: tuple[RequiredConsent, ...] = ()


@dataclass(frozen=True, slots=True)
class CodeSent:
    expires_in: int
    resend_after: int


@dataclass(frozen=True, slots=True)
class UserSummary:
    """A user as staff and other modules see one: no identifiers."""

    id: int
    uid: str
    nickname: str | None
    status: str
    created_at: datetime

    @property
    def is_active(self) -> bool:
        return self.status == UserStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class IdentityRecord:
    """One login identity of a user for staff: its identifier whole or masked, as asked."""

    id: int
    type: str
    provider: str
    identifier: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class BoundIdentity:
    """One login method of the current user, as they see it."""

    type: str
    provider: str
    app_id: str
    identifier: str  # masked
    bound_at: str


@dataclass(frozen=True, slots=True)
class AuthorizeLink:
    """Where to send the browser for a web login, and the signed single-use state in it."""

    url: str
    state: str


@dataclass(frozen=True, slots=True)
class ExtendKeyView:
    """An extension key as staff declared it."""

    key: str
    label: str
    type: str
    options: list[str] | None
    max_length: int | None
    is_user_editable: bool
    status: str
    sort_order: int
    created_at: datetime
    updated_at: datetime
