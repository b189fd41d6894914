"""A user's sessions from identity's side: opening one once the user proved who they are (the
login record, the view), trading a refresh token, logging out."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.audit import service as audit
from usercenter.audit.models import AuthEventKind
from usercenter.identity import repository
from usercenter.identity.errors import AccountDisabled, UserNotFound
from usercenter.identity.models import User, UserStatus
from usercenter.identity.service.context import PROVIDER_SECRET_CONTEXT, IdentityContext
from usercenter.identity.views import LoginResult
from usercenter.kit.client import ClientInfo
from usercenter.tokens.service import IssuedTokens


class SessionService:
    def __init__(self, context: IdentityContext) -> None:
        self.context = context

    async def start(
        self,
        session: AsyncSession,
        user: User,
        *,
        method: str,
        platform: str,
        client: ClientInfo,
        is_new_user: bool,
        provider_secret: str | None = None,
    ) -> LoginResult:
        """Open a session for a user who proved who they are, and log it (a registration too,
        for a new user). Raises AccountDisabled."""
        if user.status != UserStatus.ACTIVE:
            raise AccountDisabled()
        context = self.context
        tokens = await context.tokens.start_session(
            session,
            user_id=user.id,
            uid=user.uid,
            platform=platform,
            method=method,
            client=client,
            provider_secret_encrypted=(
                context.keyring.cipher.encrypt(provider_secret, context=PROVIDER_SECRET_CONTEXT)
                if provider_secret
                else None
            ),
        )
        if is_new_user:
            await audit.record_auth_event(
                session,
                AuthEventKind.REGISTER,
                user_id=user.id,
                client=client,
                method=method,
                platform=platform,
            )
        await audit.record_auth_event(
            session,
            AuthEventKind.LOGIN,
            user_id=user.id,
            client=client,
            method=method,
            session_id=tokens.session_id,
            platform=platform,
        )
        required = (
            await context.consents.required_consents(session, user.id)
            if context.consents is not None
            else []
        )
        return LoginResult(
            view=await context.views.of(session, user),
            tokens=tokens,
            is_new_user=is_new_user,
            consents_required=tuple(required),
        )

    async def uid_of(self, session: AsyncSession, user_id: int) -> str:
        uid = await repository.uid_of(session, user_id)
        if uid is None:
            raise UserNotFound()
        return uid

    async def refresh(
        self, session: AsyncSession, *, refresh_token: str, client: ClientInfo
    ) -> IssuedTokens:
        """Rotate a refresh token (see TokenService.refresh: the rotation is atomic on its
        own, what else it writes goes in `session`)."""
        return await self.context.tokens.refresh(
            session, refresh_token, uid_of=self.uid_of, client=client
        )

    async def logout(
        self, session: AsyncSession, *, user_id: int, session_id: str, client: ClientInfo
    ) -> None:
        """End this session, and log it."""
        await self.context.tokens.end_session(
            session, user_id=user_id, session_id=session_id, reason="logout"
        )
        await audit.record_auth_event(
            session, AuthEventKind.LOGOUT, user_id=user_id, client=client, session_id=session_id
        )
