"""Routes of the identity module: codes, login, registration, passwords, the profile, third-party
login and the binding of login methods."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status

from usercenter.db import Database
from usercenter.deps import Client, ReadSession, WriteSession, provided, provided_from
from usercenter.identity.schemas import (
    AuthorizeOut,
    BoundIdentityOut,
    CodeSentOut,
    EmailBindRequest,
    EmailCodeRequest,
    LegacyPhoneRequest,
    LoginOut,
    MiniAppLoginRequest,
    MiniAppPhoneLoginRequest,
    PasswordChangeRequest,
    PasswordLoginRequest,
    PasswordResetRequest,
    PhoneBindRequest,
    ProfileUpdate,
    ProviderBindRequest,
    ProviderLoginRequest,
    RefreshRequest,
    RegisterRequest,
    SmsCodeRequest,
    SmsLoginRequest,
    TokenPairOut,
    UsernameBindRequest,
    UserOut,
)
from usercenter.identity.service.accounts import UserAccounts
from usercenter.identity.service.bindings import BindingService
from usercenter.identity.service.codes import CodeService
from usercenter.identity.service.login import LoginService
from usercenter.identity.service.passwords import PasswordService
from usercenter.identity.service.profile import ProfileService
from usercenter.identity.service.provider_login import ProviderLoginService
from usercenter.identity.service.provider_proofs import ProviderProofs
from usercenter.identity.service.registration import RegistrationService
from usercenter.identity.service.sessions import SessionService
from usercenter.kit.schemas import CaptchaOut, optional_body
from usercenter.openapi import documents
from usercenter.providers.base import AppType, LoginProof
from usercenter.security.captcha import CaptchaService
from usercenter.tokens.auth import TOKEN_ERRORS, CurrentClaims, current_claims

Codes = Annotated[CodeService, Depends(provided(CodeService))]
Logins = Annotated[LoginService, Depends(provided(LoginService))]
Registration = Annotated[RegistrationService, Depends(provided(RegistrationService))]
Sessions = Annotated[SessionService, Depends(provided(SessionService))]
Passwords = Annotated[PasswordService, Depends(provided(PasswordService))]
Profile = Annotated[ProfileService, Depends(provided(ProfileService))]
Proofs = Annotated[ProviderProofs, Depends(provided(ProviderProofs))]
ProviderLogins = Annotated[ProviderLoginService, Depends(provided(ProviderLoginService))]
Bindings = Annotated[BindingService, Depends(provided(BindingService))]
Captcha = Annotated[CaptchaService, Depends(provided(CaptchaService))]
# For other modules' routes (access's staff view of users).
Accounts = Annotated[UserAccounts, Depends(provided(UserAccounts))]

router = APIRouter(tags=["identity"])


@dataclass(frozen=True, slots=True)
class _MeCall:
    user_id: int
    profile: ProfileService
    database: Database


# For the busiest route: each dependency FastAPI solves costs about a fifth of a cached
# GET /v1/me, so the caller and the services come from one.
@documents(*TOKEN_ERRORS, security="userBearer")
async def _me_call(request: Request) -> _MeCall:
    claims = await current_claims(request)
    return _MeCall(
        claims.user_id,
        provided_from(request.app, ProfileService),
        provided_from(request.app, Database),
    )


# Routes are matched in the order they are declared: the most requested come first.
@router.get("/v1/me", summary="The current user")
async def get_me(call: Annotated[_MeCall, Depends(_me_call)]) -> UserOut:
    return UserOut.of(await call.profile.profile(call.database, call.user_id))


@router.post("/v1/auth/refresh", summary="Trade a refresh token for a new pair")
async def refresh(
    body: RefreshRequest, sessions: Sessions, session: WriteSession, client: Client
) -> TokenPairOut:
    tokens = await sessions.refresh(session, refresh_token=body.refresh_token, client=client)
    return TokenPairOut.of(tokens)


@router.post("/v1/auth/password-login", summary="Log in with phone, username or e-mail")
async def password_login(
    body: PasswordLoginRequest, logins: Logins, session: WriteSession, client: Client
) -> LoginOut:
    result = await logins.password_login(
        session,
        login=body.login,
        password=body.password,
        platform=body.platform,
        client=client,
        captcha_id=body.captcha_id,
        captcha_answer=body.captcha_answer,
    )
    return LoginOut.of(result)


@router.get("/v1/captcha", summary="A new image captcha")
async def new_captcha(captcha: Captcha) -> CaptchaOut:
    captcha_id, png = await captcha.issue()
    image = "data:image/png;base64," + base64.b64encode(png).decode()
    return CaptchaOut(captcha_id=captcha_id, image=image, expires_in=captcha.ttl_seconds)


@router.post("/v1/sms/codes", status_code=status.HTTP_202_ACCEPTED, summary="Send a code by SMS")
async def send_sms_code(
    body: SmsCodeRequest, codes: Codes, session: ReadSession, client: Client
) -> CodeSentOut:
    sent = await codes.send_sms_code(
        session,
        phone=body.phone,
        purpose=body.purpose,
        client=client,
        captcha_id=body.captcha_id,
        captcha_answer=body.captcha_answer,
    )
    return CodeSentOut.of(sent)


@router.post(
    "/v1/email/codes", status_code=status.HTTP_202_ACCEPTED, summary="Send a code by e-mail"
)
async def send_email_code(
    body: EmailCodeRequest, codes: Codes, session: ReadSession, client: Client
) -> CodeSentOut:
    sent = await codes.send_email_code(
        session,
        email=body.email,
        purpose=body.purpose,
        client=client,
        captcha_id=body.captcha_id,
        captcha_answer=body.captcha_answer,
    )
    return CodeSentOut.of(sent)


@router.post("/v1/auth/sms-login", summary="Log in (or register) with an SMS code")
async def sms_login(
    body: SmsLoginRequest, logins: Logins, session: WriteSession, client: Client
) -> LoginOut:
    result = await logins.sms_login(
        session, phone=body.phone, code=body.code, platform=body.platform, client=client
    )
    return LoginOut.of(result)


@router.post(
    "/v1/auth/register", status_code=status.HTTP_201_CREATED, summary="Register with a password"
)
async def register(
    body: RegisterRequest, registration: Registration, session: WriteSession, client: Client
) -> LoginOut:
    result = await registration.register(
        session,
        username=body.username,
        email=body.email,
        email_code=body.email_code,
        password=body.password,
        platform=body.platform,
        client=client,
    )
    return LoginOut.of(result)


@router.post("/v1/auth/logout", status_code=status.HTTP_204_NO_CONTENT, summary="End this session")
async def logout(
    claims: CurrentClaims, sessions: Sessions, session: WriteSession, client: Client
) -> None:
    await sessions.logout(
        session, user_id=claims.user_id, session_id=claims.session_id, client=client
    )


@router.post(
    "/v1/auth/password-reset",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set a new password with a code sent to the phone or e-mail",
)
async def reset_password(
    body: PasswordResetRequest, passwords: Passwords, session: WriteSession, client: Client
) -> None:
    await passwords.reset_password(
        session,
        phone=body.phone,
        email=body.email,
        code=body.code,
        new_password=body.new_password,
        client=client,
    )


@router.patch("/v1/me", summary="Change the profile (only the fields sent)")
async def update_me(
    body: Annotated[ProfileUpdate, optional_body(ProfileUpdate)],
    claims: CurrentClaims,
    profile: Profile,
    session: WriteSession,
    client: Client,
) -> UserOut:
    view = await profile.update_profile(
        session, claims.user_id, body.model_dump(exclude_unset=True), client
    )
    return UserOut.of(view)


@router.put(
    "/v1/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change the password; every other session ends",
)
async def change_password(
    body: PasswordChangeRequest,
    claims: CurrentClaims,
    passwords: Passwords,
    session: WriteSession,
    client: Client,
) -> None:
    await passwords.change_password(
        session,
        user_id=claims.user_id,
        session_id=claims.session_id,
        new_password=body.new_password,
        old_password=body.old_password,
        sms_code=body.sms_code,
        client=client,
    )


# --- third-party login and linking ---------------------------------------------------------


@router.post("/v1/auth/wechat/miniapp", summary="Log in with a WeChat mini program wx.login code")
async def wechat_miniapp_login(
    body: MiniAppLoginRequest, logins: ProviderLogins, session: WriteSession, client: Client
) -> LoginOut:
    result = await logins.oauth_login(
        session,
        app_type=AppType.WECHAT_MINIAPP,
        proof=LoginProof(code=body.code),
        state=None,
        app_id=body.app_id,
        platform=body.platform,
        client=client,
    )
    return LoginOut.of(result)


@router.post(
    "/v1/auth/wechat/miniapp/phone",
    summary="Log in with the phone the mini program's phone button vouches for",
)
async def wechat_miniapp_phone_login(
    body: MiniAppPhoneLoginRequest,
    logins: ProviderLogins,
    session: WriteSession,
    client: Client,
) -> LoginOut:
    result = await logins.miniapp_phone_login(
        session,
        phone_code=body.phone_code,
        login_code=body.login_code,
        app_id=body.app_id,
        platform=body.platform,
        client=client,
    )
    return LoginOut.of(result)


@router.get(
    "/v1/auth/oauth/{app_type}/authorize",
    summary="Where to send the browser for a web login, with a signed state",
)
async def oauth_authorize(
    app_type: AppType,
    redirect_uri: Annotated[str, Query(max_length=1024, pattern=r"^https?://")],
    proofs: Proofs,
    app_id: Annotated[str | None, Query(max_length=128)] = None,
) -> AuthorizeOut:
    link = await proofs.authorize(app_type, redirect_uri=redirect_uri, app_id=app_id)
    return AuthorizeOut.of(link)


@router.post("/v1/auth/oauth/{app_type}", summary="Log in with a provider's code or id_token")
async def oauth_login(
    app_type: AppType,
    body: Annotated[ProviderLoginRequest, optional_body(ProviderLoginRequest)],
    logins: ProviderLogins,
    session: WriteSession,
    client: Client,
) -> LoginOut:
    result = await logins.oauth_login(
        session,
        app_type=app_type,
        proof=body.login_proof(),
        state=body.state,
        app_id=body.app_id,
        platform=body.platform,
        client=client,
    )
    return LoginOut.of(result)


@router.get("/v1/me/identities", summary="The ways the current user can log in (masked)")
async def list_identities(
    claims: CurrentClaims, bindings: Bindings, session: ReadSession
) -> list[BoundIdentityOut]:
    bound = await bindings.identities(session, claims.user_id)
    return [BoundIdentityOut.of(b) for b in bound]


@router.post(
    "/v1/me/identities/phone",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Bind a phone (SMS code, purpose bind), or replace it (old_code to the old phone)",
)
async def bind_phone(
    body: PhoneBindRequest,
    claims: CurrentClaims,
    bindings: Bindings,
    session: WriteSession,
    client: Client,
) -> None:
    await bindings.bind_phone(
        session,
        user_id=claims.user_id,
        phone=body.phone,
        code=body.code,
        old_code=body.old_code,
        client=client,
    )


@router.post(
    "/v1/me/identities/email",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Bind an e-mail (code, purpose bind), replacing the one bound now",
)
async def bind_email(
    body: EmailBindRequest,
    claims: CurrentClaims,
    bindings: Bindings,
    session: WriteSession,
    client: Client,
) -> None:
    await bindings.bind_email(
        session, user_id=claims.user_id, email=body.email, code=body.code, client=client
    )


@router.post(
    "/v1/me/identities/username",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Take a username, replacing the one held now",
)
async def bind_username(
    body: UsernameBindRequest,
    claims: CurrentClaims,
    bindings: Bindings,
    session: WriteSession,
    client: Client,
) -> None:
    await bindings.bind_username(
        session, user_id=claims.user_id, username=body.username, client=client
    )


@router.post(
    "/v1/me/identities/wechat-phone",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Bind the phone in a mini program's legacy encryptedData",
)
async def bind_legacy_wechat_phone(
    body: LegacyPhoneRequest,
    claims: CurrentClaims,
    bindings: Bindings,
    session: WriteSession,
    client: Client,
) -> None:
    await bindings.bind_legacy_phone(
        session,
        user_id=claims.user_id,
        session_id=claims.session_id,
        encrypted_data=body.encrypted_data,
        iv=body.iv,
        app_id=body.app_id,
        client=client,
    )


# POST and DELETE share one path template (`{kind}`), so the OpenAPI document shows one path
# with both methods rather than two that shadow each other.
@router.post(
    "/v1/me/identities/{kind}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Bind a provider login, or replace it with fresh proof of the bound one",
)
async def bind_provider(
    app_type: Annotated[AppType, Path(alias="kind", description="The provider's app type")],
    body: Annotated[ProviderBindRequest, optional_body(ProviderBindRequest)],
    claims: CurrentClaims,
    bindings: Bindings,
    session: WriteSession,
    client: Client,
) -> None:
    await bindings.bind_provider(
        session,
        user_id=claims.user_id,
        session_id=claims.session_id,
        app_type=app_type,
        proof=body.login_proof(),
        state=body.state,
        app_id=body.app_id,
        old_code=body.old_code,
        client=client,
    )


@router.delete(
    "/v1/me/identities/{kind}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Unbind a login method (never the last one)",
)
async def unbind(
    identity_type: Annotated[
        str, Path(alias="kind", max_length=32, description="phone, email, username or app type")
    ],
    claims: CurrentClaims,
    bindings: Bindings,
    session: WriteSession,
    client: Client,
    app_id: Annotated[str | None, Query(max_length=128)] = None,
) -> None:
    await bindings.unbind(
        session,
        user_id=claims.user_id,
        identity_type=identity_type,
        app_id=app_id,
        client=client,
    )
