"""API shapes of the identity module."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from annotated_types import Ge, Le
from pydantic import Field, StrictInt

from usercenter.identity.views import (
    AuthorizeLink,
    BoundIdentity,
    CodeSent,
    ExtendValue,
    LoginResult,
    UserView,
)
from usercenter.kit.client import UserPlatform
from usercenter.kit.schemas import Birthday, HttpsUrl, Schema
from usercenter.providers.base import LoginProof
from usercenter.tokens.service import IssuedTokens


class CaptchaAnswer(Schema):
    captcha_id: str | None = Field(default=None, max_length=64, description="From GET /v1/captcha")
    captcha_answer: str | None = Field(default=None, max_length=16, description="The characters")


class SmsCodeRequest(CaptchaAnswer):
    phone: str = Field(min_length=5, max_length=32, description="Mobile number, +86 by default")
    purpose: Literal["login", "bind", "reset_password", "change_phone", "payment_password"] = Field(
        description="What the code will be used for"
    )


class EmailCodeRequest(CaptchaAnswer):
    email: str = Field(min_length=3, max_length=254)
    purpose: Literal["register", "bind", "reset_password"]


class CodeSentOut(Schema):
    expires_in: int = Field(description="Seconds the code stays valid")
    resend_after: int = Field(description="Seconds before another code may be sent")

    @classmethod
    def of(cls, sent: CodeSent) -> CodeSentOut:
        return cls(expires_in=sent.expires_in, resend_after=sent.resend_after)


class LoginContext(Schema):
    platform: UserPlatform = Field(
        default=UserPlatform.H5, description="Where the session lives (ADMIN is for staff)"
    )


class SmsLoginRequest(LoginContext):
    phone: str = Field(min_length=5, max_length=32)
    code: str = Field(min_length=1, max_length=8, description="The 6-digit code")


class PasswordLoginRequest(LoginContext, CaptchaAnswer):
    login: str = Field(min_length=1, max_length=254, description="Phone, username or e-mail")
    password: str = Field(min_length=1, max_length=256)


class RegisterRequest(LoginContext):
    username: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=254)
    email_code: str | None = Field(default=None, max_length=8)
    password: str = Field(min_length=1, max_length=256)


class PasswordChangeRequest(Schema):
    new_password: str = Field(min_length=1, max_length=256)
    old_password: str | None = Field(default=None, max_length=256)
    sms_code: str | None = Field(default=None, max_length=8)


class PasswordResetRequest(Schema):
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    code: str = Field(min_length=1, max_length=8)
    new_password: str = Field(min_length=1, max_length=256)


class RefreshRequest(Schema):
    refresh_token: str = Field(min_length=1, max_length=512)


class ProfileUpdate(Schema):
    nickname: str | None = Field(default=None, min_length=1, max_length=64)
    avatar_url: HttpsUrl | None = Field(default=None, description="https:// only")
    # Not nullable: "unknown" is 0 (null was a NOT NULL failure, a 500).
    gender: Annotated[StrictInt, Ge(0), Le(2)] = Field(
        default=0, description="0 unknown, 1 male, 2 female (an integer, not a boolean)"
    )
    birthday: Birthday | None = Field(default=None, description="From 1900-01-01 to today")
    signature: str | None = Field(default=None, max_length=255)
    region_code: str | None = Field(
        default=None,
        pattern=r"^[0-9]{6}$",
        description="GB/T 2260 county-level code (the region picker's last column); null clears",
    )


class RegionPartOut(Schema):
    code: str = Field(description="GB/T 2260 six-digit code")
    name: str


class ResolvedRegionOut(Schema):
    province: RegionPartOut
    city: RegionPartOut = Field(description="For a municipality, the municipality itself")
    district: RegionPartOut = Field(description="For a city without counties, the city itself")


class UserOut(Schema):
    id: str = Field(description="Internal id (a string: it may exceed 2^53)")
    uid: str = Field(description="Display uid, e.g. GD000001")
    nickname: str | None
    avatar_url: str | None
    gender: int
    birthday: date | None
    signature: str | None
    status: str
    phone: str | None = Field(description="Masked, e.g. 138****8888")
    email: str | None = Field(description="Masked, e.g. z***@example.com")
    username: str | None
    has_password: bool
    region: ResolvedRegionOut | None = Field(
        default=None, description="Where the user says they live: province, city, district"
    )
    created_at: datetime
    extends: dict[str, ExtendValue] = Field(
        default_factory=dict,
        description="Extension fields by key (declared by staff): strings, integers, booleans; "
        "decimals and dates as strings",
    )

    @classmethod
    def of(cls, view: UserView) -> UserOut:
        return cls(
            id=str(view.id),
            uid=view.uid,
            nickname=view.nickname,
            avatar_url=view.avatar_url,
            gender=view.gender,
            birthday=view.birthday,
            signature=view.signature,
            status=view.status,
            phone=view.phone,
            email=view.email,
            username=view.username,
            has_password=view.has_password,
            region=ResolvedRegionOut.model_validate(view.region) if view.region else None,
            created_at=view.created_at,
            extends=view.extends,
        )


class TokenPairOut(Schema):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_token: str
    refresh_expires_in: int
    session_id: str

    @classmethod
    def of(cls, tokens: IssuedTokens) -> TokenPairOut:
        return cls(
            access_token=tokens.access_token,
            expires_in=tokens.access_expires_in,
            refresh_token=tokens.refresh_token,
            refresh_expires_in=tokens.refresh_expires_in,
            session_id=tokens.session_id,
        )


class RequiredConsentOut(Schema):
    kind: str = Field(description="privacy_policy or terms")
    version: str = Field(description="The version in force, to accept (POST /v1/me/consents)")


class LoginOut(TokenPairOut):
    user: UserOut
    is_new_user: bool
    consents_required: list[RequiredConsentOut] = Field(
        description="Policy versions in force the user has not accepted yet: ask for them"
    )

    @classmethod
    def of(cls, result: LoginResult) -> LoginOut:  # type: ignore[override]
        pair = TokenPairOut.of(result.tokens)
        return cls(
            **dict(pair),
            user=UserOut.of(result.view),
            is_new_user=result.is_new_user,
            consents_required=[
                RequiredConsentOut(kind=item.kind, version=item.version)
                for item in result.consents_required
            ],
        )


class MiniAppLoginRequest(LoginContext):
    code: str = Field(min_length=1, max_length=256, description="From wx.login()")
    app_id: str | None = Field(default=None, max_length=128, description="Our mini program")
    platform: UserPlatform = Field(default=UserPlatform.MINIAPP)


class MiniAppPhoneLoginRequest(LoginContext):
    phone_code: str = Field(min_length=1, max_length=256, description="From the phone button")
    login_code: str | None = Field(
        default=None, max_length=256, description="From wx.login(), to bind the openid too"
    )
    app_id: str | None = Field(default=None, max_length=128)
    platform: UserPlatform = Field(default=UserPlatform.MINIAPP)


class ProviderProof(Schema):
    code: str | None = Field(default=None, max_length=512, description="OAuth2 code")
    id_token: str | None = Field(default=None, max_length=8192, description="Apple's id_token")
    nonce: str | None = Field(default=None, max_length=256, description="Apple: the raw nonce")
    state: str | None = Field(default=None, max_length=1024, description="From …/authorize")
    redirect_uri: str | None = Field(default=None, max_length=1024)
    app_id: str | None = Field(default=None, max_length=128)

    def login_proof(self) -> LoginProof:
        return LoginProof(
            code=self.code, id_token=self.id_token, nonce=self.nonce, redirect_uri=self.redirect_uri
        )


class ProviderLoginRequest(ProviderProof):
    platform: UserPlatform = Field(default=UserPlatform.H5)


class ProviderBindRequest(ProviderProof):
    old_code: str | None = Field(
        default=None, max_length=8, description="Rebind: SMS code (change_phone) to the bound phone"
    )


class PhoneBindRequest(Schema):
    phone: str = Field(min_length=5, max_length=32)
    code: str = Field(min_length=1, max_length=8, description="SMS code to the new phone")
    old_code: str | None = Field(
        default=None, max_length=8, description="Rebind: SMS code to the phone bound now"
    )


class EmailBindRequest(Schema):
    email: str = Field(min_length=3, max_length=254)
    code: str = Field(min_length=1, max_length=8, description="E-mail code, purpose bind")


class UsernameBindRequest(Schema):
    username: str = Field(
        min_length=1, max_length=64, description="4–32 letters, digits or underscores"
    )


class LegacyPhoneRequest(Schema):
    encrypted_data: str = Field(min_length=1, max_length=8192)
    iv: str = Field(min_length=1, max_length=64)
    app_id: str | None = Field(default=None, max_length=128)


class AuthorizeOut(Schema):
    url: str = Field(description="Send the browser here")
    state: str = Field(description="Comes back with the code; single-use")

    @classmethod
    def of(cls, link: AuthorizeLink) -> AuthorizeOut:
        return cls(url=link.url, state=link.state)


class BoundIdentityOut(Schema):
    type: str
    provider: str
    app_id: str
    identifier: str = Field(description="Masked")
    bound_at: str

    @classmethod
    def of(cls, bound: BoundIdentity) -> BoundIdentityOut:
        return cls(
            type=bound.type,
            provider=bound.provider,
            app_id=bound.app_id,
            identifier=bound.identifier,
            bound_at=bound.bound_at,
        )
