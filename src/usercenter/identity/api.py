"""Routes of the identity module: codes, login, registration, passwords, the profile."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status

from usercenter.db import Database
from usercenter.deps import Client, ReadSession, WriteSession, provided, provided_from
from usercenter.identity.linking import LinkingService
from usercenter.identity.schemas import (
    AuthorizeOut,
    BoundIdentityOut,
    CodeSentOut,
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
    ProviderProof,
    RefreshRequest,
    RegisterRequest,
    SmsCodeRequest,
    SmsLoginRequest,
    TokenPairOut,
    UserOut,
)
from usercenter.identity.service import CodeSent, IdentityService, LoginResult, UserView
from usercenter.kit.schemas import CaptchaOut, optional_body
from usercenter.openapi import documents
from usercenter.providers.base import AppType, LoginProof
from usercenter.security.captcha import CaptchaService
from usercenter.tokens.auth import TOKEN_ERRORS, CurrentClaims, current_claims
from usercenter.tokens.service import IssuedTokens

Identity = Annotated[IdentityService, Depends(provided(IdentityService))]
Linking = Annotated[LinkingService, Depends(provided(LinkingService))]
Captcha = Annotated[CaptchaService, Depends(provided(CaptchaService))]

router = APIRouter(tags=["identity"])


@dataclass(frozen=True, slots=True)
class _MeCall:
    user_id: int
    identity: IdentityService
    database: Database


# For the busiest route: each dependency FastAPI solves costs about a fifth of a cached
# GET /v1/me, so the caller and the services come from one.
@documents(*TOKEN_ERRORS, security="userBearer")
async def _me_call(request: Request) -> _MeCall:
    claims = await current_claims(request)
    return _MeCall(
        claims.user_id,
        provided_from(request.app, IdentityService),
        provided_from(request.app, Database),
    )


def user_out(view: UserView) -> UserOut:
    return UserOut(
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
        created_at=view.created_at,
    )


def token_pair_out(tokens: IssuedTokens) -> TokenPairOut:
    return TokenPairOut(
        access_token=tokens.access_token,
        expires_in=tokens.access_expires_in,
        refresh_token=tokens.refresh_token,
        refresh_expires_in=tokens.refresh_expires_in,
        session_id=tokens.session_id,
    )


def login_out(result: LoginResult) -> LoginOut:
    return LoginOut(
        **token_pair_out(result.tokens).model_dump(),
        user=user_out(result.view),
        is_new_user=result.is_new_user,
    )


def code_sent_out(sent: CodeSent) -> CodeSentOut:
    return CodeSentOut(expires_in=sent.expires_in, resend_after=sent.resend_after)


# Routes are matched in the order they are declared: the most requested come first.
@router.get("/v1/me", summary="The current user")
async def get_me(call: Annotated[_MeCall, Depends(_me_call)]) -> UserOut:
    return user_out(await call.identity.profile(call.database, call.user_id))


@router.post("/v1/auth/refresh", summary="Trade a refresh token for a new pair")
async def refresh(
    body: RefreshRequest, identity: Identity, session: WriteSession, client: Client
) -> TokenPairOut:
    tokens = await identity.refresh(session, refresh_token=body.refresh_token, client=client)
    return token_pair_out(tokens)


@router.post("/v1/auth/password-login", summary="Log in with phone, username or e-mail")
async def password_login(
    body: PasswordLoginRequest, identity: Identity, session: WriteSession, client: Client
) -> LoginOut:
    result = await identity.password_login(
        session,
        login=body.login,
        password=body.password,
        platform=body.platform,
        client=client,
        captcha_id=body.captcha_id,
        captcha_answer=body.captcha_answer,
    )
    return login_out(result)


@router.get("/v1/captcha", summary="A new image captcha")
async def new_captcha(captcha: Captcha) -> CaptchaOut:
    captcha_id, png = await captcha.issue()
    image = "data:image/png;base64," + base64.b64encode(png).decode()
    return CaptchaOut(captcha_id=captcha_id, image=image, expires_in=captcha.ttl_seconds)


@router.post("/v1/sms/codes", status_code=status.HTTP_202_ACCEPTED, summary="Send a code by SMS")
async def send_sms_code(
    body: SmsCodeRequest, identity: Identity, session: ReadSession, client: Client
) -> CodeSentOut:
    sent = await identity.send_sms_code(
        session,
        phone=body.phone,
        purpose=body.purpose,
        client=client,
        captcha_id=body.captcha_id,
        captcha_answer=body.captcha_answer,
    )
    return code_sent_out(sent)


@router.post(
    "/v1/email/codes", status_code=status.HTTP_202_ACCEPTED, summary="Send a code by e-mail"
)
async def send_email_code(
    body: EmailCodeRequest, identity: Identity, session: ReadSession, client: Client
) -> CodeSentOut:
    sent = await identity.send_email_code(
        session,
        email=body.email,
        purpose=body.purpose,
        client=client,
        captcha_id=body.captcha_id,
        captcha_answer=body.captcha_answer,
    )
    return code_sent_out(sent)


@router.post("/v1/auth/sms-login", summary="Log in (or register) with an SMS code")
async def sms_login(
    body: SmsLoginRequest, identity: Identity, session: WriteSession, client: Client
) -> LoginOut:
    result = await identity.sms_login(
        session, phone=body.phone, code=body.code, platform=body.platform, client=client
    )
    return login_out(result)


@router.post(
    "/v1/auth/register", status_code=status.HTTP_201_CREATED, summary="Register with a password"
)
async def register(
    body: RegisterRequest, identity: Identity, session: WriteSession, client: Client
) -> LoginOut:
    result = await identity.register(
        session,
        username=body.username,
        email=body.email,
        email_code=body.email_code,
        password=body.password,
        platform=body.platform,
        client=client,
    )
    return login_out(result)


@router.post("/v1/auth/logout", status_code=status.HTTP_204_NO_CONTENT, summary="End this session")
async def logout(
    claims: CurrentClaims, identity: Identity, session: WriteSession, client: Client
) -> None:
    await identity.logout(
        session, user_id=claims.user_id, session_id=claims.session_id, client=client
    )


@router.post(
    "/v1/auth/password-reset",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set a new password with a code sent to the phone or e-mail",
)
async def reset_password(
    body: PasswordResetRequest, identity: Identity, session: WriteSession, client: Client
) -> None:
    await identity.reset_password(
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
    identity: Identity,
    session: WriteSession,
) -> UserOut:
    view = await identity.update_profile(
        session, claims.user_id, body.model_dump(exclude_unset=True)
    )
    return user_out(view)


@router.put(
    "/v1/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change the password; every other session ends",
)
async def change_password(
    body: PasswordChangeRequest,
    claims: CurrentClaims,
    identity: Identity,
    session: WriteSession,
    client: Client,
) -> None:
    await identity.change_password(
        session,
        user_id=claims.user_id,
        session_id=claims.session_id,
        new_password=body.new_password,
        old_password=body.old_password,
        sms_code=body.sms_code,
        client=client,
    )


# --- third-party login and linking ---------------------------------------------------------


def _proof(body: ProviderProof) -> LoginProof:
    return LoginProof(
        code=body.code, id_token=body.id_token, nonce=body.nonce, redirect_uri=body.redirect_uri
    )


@router.post("/v1/auth/wechat/miniapp", summary="Log in with a WeChat mini program wx.login code")
async def wechat_miniapp_login(
    body: MiniAppLoginRequest, linking: Linking, session: WriteSession, client: Client
) -> LoginOut:
    result = await linking.oauth_login(
        session,
        app_type=AppType.WECHAT_MINIAPP,
        proof=LoginProof(code=body.code),
        state=None,
        app_id=body.app_id,
        platform=body.platform,
        client=client,
    )
    return login_out(result)


@router.post(
    "/v1/auth/wechat/miniapp/phone",
    summary="Log in with the phone the mini program's phone button vouches for",
)
async def wechat_miniapp_phone_login(
    body: MiniAppPhoneLoginRequest, linking: Linking, session: WriteSession, client: Client
) -> LoginOut:
    result = await linking.miniapp_phone_login(
        session,
        phone_code=body.phone_code,
        login_code=body.login_code,
        app_id=body.app_id,
        platform=body.platform,
        client=client,
    )
    return login_out(result)


@router.get(
    "/v1/auth/oauth/{app_type}/authorize",
    summary="Where to send the browser for a web login, with a signed state",
)
async def oauth_authorize(
    app_type: AppType,
    redirect_uri: Annotated[str, Query(max_length=1024, pattern=r"^https?://")],
    linking: Linking,
    app_id: Annotated[str | None, Query(max_length=128)] = None,
) -> AuthorizeOut:
    url, signed = await linking.authorize(app_type, redirect_uri=redirect_uri, app_id=app_id)
    return AuthorizeOut(url=url, state=signed)


@router.post("/v1/auth/oauth/{app_type}", summary="Log in with a provider's code or id_token")
async def oauth_login(
    app_type: AppType,
    body: Annotated[ProviderLoginRequest, optional_body(ProviderLoginRequest)],
    linking: Linking,
    session: WriteSession,
    client: Client,
) -> LoginOut:
    result = await linking.oauth_login(
        session,
        app_type=app_type,
        proof=_proof(body),
        state=body.state,
        app_id=body.app_id,
        platform=body.platform,
        client=client,
    )
    return login_out(result)


@router.get("/v1/me/identities", summary="The ways the current user can log in (masked)")
async def list_identities(
    claims: CurrentClaims, linking: Linking, session: ReadSession
) -> list[BoundIdentityOut]:
    bound = await linking.identities(session, claims.user_id)
    return [
        BoundIdentityOut(
            type=b.type,
            provider=b.provider,
            app_id=b.app_id,
            identifier=b.identifier,
            bound_at=b.bound_at,
        )
        for b in bound
    ]


@router.post(
    "/v1/me/identities/phone",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Bind a phone (SMS code, purpose bind), or replace it (old_code to the old phone)",
)
async def bind_phone(
    body: PhoneBindRequest,
    claims: CurrentClaims,
    linking: Linking,
    session: WriteSession,
    client: Client,
) -> None:
    await linking.bind_phone(
        session,
        user_id=claims.user_id,
        phone=body.phone,
        code=body.code,
        old_code=body.old_code,
        client=client,
    )


@router.post(
    "/v1/me/identities/wechat-phone",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Bind the phone in a mini program's legacy encryptedData",
)
async def bind_legacy_wechat_phone(
    body: LegacyPhoneRequest,
    claims: CurrentClaims,
    linking: Linking,
    session: WriteSession,
    client: Client,
) -> None:
    await linking.bind_legacy_phone(
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
    linking: Linking,
    session: WriteSession,
    client: Client,
) -> None:
    await linking.bind_provider(
        session,
        user_id=claims.user_id,
        session_id=claims.session_id,
        app_type=app_type,
        proof=_proof(body),
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
    linking: Linking,
    session: WriteSession,
    client: Client,
    app_id: Annotated[str | None, Query(max_length=128)] = None,
) -> None:
    await linking.unbind(
        session,
        user_id=claims.user_id,
        identity_type=identity_type,
        app_id=app_id,
        client=client,
    )
