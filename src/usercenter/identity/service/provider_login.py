"""Third-party login (seed 003's two scenarios): a provider's code or id_token, or the phone a
WeChat mini program vouches for, logs its owner in or registers a new user.

An external identity is (app type, our app id there, subject). The WeChat family also carries a
unionid shared by the apps of one open-platform account; `identity_unions` holds one row per
unionid naming its user, so two first logins from two apps at the same moment make one user:
the second insert of that row fails, and the second request lands on the first one's user.
The provider is asked *before* the transaction writes anything (`ProviderProofs`).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.identity import repository
from usercenter.identity.errors import IdentityTaken
from usercenter.identity.models import Identity, IdentityType, User
from usercenter.identity.service.accounts import UserAccounts
from usercenter.identity.service.context import IdentityContext, IdentitySpec
from usercenter.identity.service.links import IdentityLinks, external_spec
from usercenter.identity.service.normalize import normalize_phone
from usercenter.identity.service.provider_proofs import ProviderProofs
from usercenter.identity.service.sessions import SessionService
from usercenter.identity.views import LoginResult
from usercenter.kit.client import ClientInfo
from usercenter.providers.base import AppType, ExternalIdentity, LoginProof


class ProviderLoginService:
    def __init__(
        self,
        context: IdentityContext,
        *,
        proofs: ProviderProofs,
        links: IdentityLinks,
        accounts: UserAccounts,
        sessions: SessionService,
    ) -> None:
        self.context = context
        self.proofs = proofs
        self.links = links
        self.accounts = accounts
        self.sessions = sessions

    async def oauth_login(
        self,
        session: AsyncSession,
        *,
        app_type: AppType,
        proof: LoginProof,
        state: str | None,
        app_id: str | None,
        platform: str,
        client: ClientInfo,
    ) -> LoginResult:
        """Log in with a provider. The provider is asked first; nothing is written before.
        Raises StateInvalid (redirect flows), the provider's errors, AccountDisabled."""
        await self.proofs.check_state(app_type, state)
        external = await self.proofs.verify(app_type, proof, app_id)
        return await self.provider_login(session, external, platform=platform, client=client)

    async def miniapp_phone_login(
        self,
        session: AsyncSession,
        *,
        phone_code: str,
        login_code: str | None,
        app_id: str | None,
        platform: str,
        client: ClientInfo,
    ) -> LoginResult:
        """The mini program's phone button: WeChat vouches for the phone; log its owner in."""
        phone = await self.proofs.wechat_phone(phone_code, app_id)
        external = (
            await self.proofs.verify(AppType.WECHAT_MINIAPP, LoginProof(code=login_code), app_id)
            if login_code
            else None
        )
        return await self.phone_login(
            session, phone=phone, external=external, platform=platform, client=client
        )

    async def provider_login(
        self,
        session: AsyncSession,
        external: ExternalIdentity,
        *,
        platform: str,
        client: ClientInfo,
    ) -> LoginResult:
        """Log in the owner of a verified external identity, joining it to the user of its
        unionid when there is one, or register a new user."""
        user, is_new = await self._user_for(session, external, client, platform)
        return await self.sessions.start(
            session,
            user,
            method=external.app_type.value,
            platform=platform,
            client=client,
            is_new_user=is_new,
            provider_secret=external.session_key,
        )

    async def _user_for(
        self, session: AsyncSession, external: ExternalIdentity, client: ClientInfo, platform: str
    ) -> tuple[User, bool]:
        context = self.context
        for _attempt in range(2):
            known = await self.links.owner(session, external)
            if known is not None:
                if external.union_id and not known.union_id:
                    await self._fill_union(session, known, external.union_id)
                return await context.user_or_raise(session, known.user_id), False
            if external.union_id:
                owner = await repository.union_owner(session, external.provider, external.union_id)
                if owner is not None:
                    user = await context.user_or_raise(session, owner)
                    await self.links.add_external(
                        session, user.id, external, client, action="merge"
                    )
                    return user, False
            try:
                user = await self.accounts.insert_user(
                    session,
                    method=external.app_type.value,
                    identities=[external_spec(external)],
                    province=None,
                    nickname=external.nickname,
                    avatar_url=external.avatar_url,
                    platform=platform,
                )
            except IdentityTaken:
                continue  # a parallel first login won: take its user on the next pass
            return user, True
        raise IdentityTaken(field=external.app_type.value)

    async def _fill_union(self, session: AsyncSession, known: Identity, union_id: str) -> None:
        """A known openid whose unionid comes back now: record it (unless another user holds
        that unionid already — then the two stay apart, never merged silently)."""
        owner = await repository.union_owner(session, known.provider, union_id)
        if owner is None:
            await repository.add_union(session, known.provider, union_id, known.user_id)
        if owner in (None, known.user_id):
            known.union_id = union_id
            await session.flush()

    async def phone_login(
        self,
        session: AsyncSession,
        *,
        phone: str,
        external: ExternalIdentity | None,
        platform: str,
        client: ClientInfo,
    ) -> LoginResult:
        """Log in (or register) the owner of a phone WeChat verified; bind the mini program's
        openid to them too when it is free."""
        context = self.context
        number = normalize_phone(phone)
        owner = await context.find(session, IdentityType.PHONE, number.e164)
        is_new = owner is None
        if owner is None:
            known = await self.links.owner(session, external) if external is not None else None
            if known is not None:
                user = await context.user_or_raise(session, known.user_id)
                await self.links.add_phone(session, user.id, number.e164, client)
                is_new = False
            else:
                user = await self.accounts.insert_user(
                    session,
                    method="wechat_phone",
                    identities=[IdentitySpec(IdentityType.PHONE, number.e164)],
                    province=await context.ids.province_code_for(number.region),
                    platform=platform,
                )
        else:
            user = await context.user_or_raise(session, owner.user_id)
        if external is not None and await self.links.owner(session, external) is None:
            mine = await self.links.bound_of_type(session, user.id, external)
            if mine is None:
                await self.links.add_external(session, user.id, external, client, action="bind")
        return await self.sessions.start(
            session,
            user,
            method="wechat_phone",
            platform=platform,
            client=client,
            is_new_user=is_new,
            provider_secret=external.session_key if external else None,
        )
