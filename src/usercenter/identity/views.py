"""What the identity services hand back: plain dataclasses, never the tables. Other modules
(access, wallet) see users only through these."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from usercenter.identity.models import UserStatus
from usercenter.kit.session_hooks import RequiredConsent
from usercenter.tokens.service import IssuedTokens


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
