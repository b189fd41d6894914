"""Third-party login and account linking (seed 003's two scenarios).

An external identity is (app type, our app id there, subject). The WeChat family also carries a
unionid shared by the apps of one open-platform account; `identity_unions` holds one row per
unionid naming its user, so two first logins from two apps at the same moment make one user:
the second insert of that row fails, and the second request lands on the first one's user.

Binding never merges two users silently: an identity (or a unionid) that belongs to someone
else is refused with `identity_taken`, naming only its kind. The provider is asked *before* the
transaction writes anything, so a provider that times out leaves no half user behind.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.audit import service as audit
from usercenter.identity import repository
from usercenter.identity.errors import (
    AlreadyBound,
    CodeInvalid,
    FreshProofRequired,
    IdentityTaken,
    LastLoginMethod,
    NotBound,
    StateInvalid,
)
from usercenter.identity.models import Identity, IdentityType, User
from usercenter.identity.service import (
    PROVIDER_SECRET_CONTEXT,
    IdentityService,
    IdentitySpec,
    LoginResult,
    SmsPurpose,
    normalize_phone,
)
from usercenter.kit import clock
from usercenter.kit.cache import Cache
from usercenter.kit.client import ClientInfo
from usercenter.platform.service import ClientApps
from usercenter.providers.base import AppType, ExternalIdentity, LoginProof
from usercenter.providers.errors import ProviderCodeInvalid, ProviderNotConfigured
from usercenter.providers.registry import ProviderRegistry
from usercenter.security.masking import mask_identifier

FRESH_LOGIN = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class BoundIdentity:
    type: str
    provider: str
    app_id: str
    identifier: str  # masked
    bound_at: str


def _spec(external: ExternalIdentity) -> IdentitySpec:
    return IdentitySpec(
        type=external.app_type.value,
        value=external.subject,
        provider=external.provider,
        provider_app=external.app_id,
        union_id=external.union_id,
    )


# Flows that come back through a browser redirect carry a signed, single-use `state`.
REDIRECT_FLOWS = {AppType.WECHAT_OFFICIAL, AppType.WECHAT_WEB, AppType.QQ, AppType.WEIBO}


class LinkingService:
    def __init__(
        self,
        identity: IdentityService,
        apps: ClientApps,
        providers: ProviderRegistry,
        cache: Cache,
        *,
        state_ttl_seconds: int,
    ) -> None:
        self.identity = identity
        self.apps = apps
        self.providers = providers
        self.cache = cache
        self.state_ttl_seconds = state_ttl_seconds
        self._state_key = identity.keyring.blind_index.derive_key("oauth-state")

    # --- web redirect flows ---------------------------------------------------------------

    def _sign(self, body: str) -> str:
        return base64.urlsafe_b64encode(
            hmac.new(self._state_key, body.encode(), hashlib.sha256).digest()[:18]
        ).decode()

    async def authorize(
        self, app_type: AppType, *, redirect_uri: str, app_id: str | None = None
    ) -> tuple[str, str]:
        """The provider URL to send the browser to, and the signed single-use state in it."""
        app = await self.apps.get(app_type, app_id)
        payload = {
            "t": app_type.value,
            "a": app.app_id,
            "r": redirect_uri,
            "e": int(clock.now().timestamp()) + self.state_ttl_seconds,
            "n": secrets.token_urlsafe(8),
        }
        body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
        state = f"{body}.{self._sign(body)}"
        adapter = self.providers.adapter_for(app_type)
        try:
            url = adapter.authorize_url(app, redirect_uri=redirect_uri, state=state)
        except ValueError:
            raise ProviderNotConfigured(field="provider") from None
        return url, state

    async def _check_state(self, app_type: AppType, state: str | None) -> None:
        if state is None:
            raise StateInvalid()
        body, _, mac = state.partition(".")
        if not hmac.compare_digest(mac, self._sign(body)):
            raise StateInvalid()
        try:
            payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            raise StateInvalid() from None
        if payload.get("t") != app_type.value or payload.get("e", 0) < clock.now().timestamp():
            raise StateInvalid()
        if await self.cache.incr(f"oauth:state:used:{mac}", ttl=self.state_ttl_seconds) != 1:
            raise StateInvalid()

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
        """Log in with a provider. The provider is asked first; nothing is written before."""
        if app_type in REDIRECT_FLOWS:
            await self._check_state(app_type, state)
        external = await self.verify(app_type, proof, app_id)
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
        phone = await self.wechat_phone(phone_code, app_id)
        external = (
            await self.verify(AppType.WECHAT_MINIAPP, LoginProof(code=login_code), app_id)
            if login_code
            else None
        )
        return await self.phone_login(
            session, phone=phone, external=external, platform=platform, client=client
        )

    async def bind_provider(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        session_id: str,
        app_type: AppType,
        proof: LoginProof,
        state: str | None,
        app_id: str | None,
        client: ClientInfo,
        old_code: str | None = None,
    ) -> None:
        if app_type in REDIRECT_FLOWS:
            await self._check_state(app_type, state)
        external = await self.verify(app_type, proof, app_id)
        await self.bind_external(
            session,
            user_id=user_id,
            session_id=session_id,
            external=external,
            client=client,
            old_code=old_code,
        )

    async def verify(
        self, app_type: AppType, proof: LoginProof, app_id: str | None = None
    ) -> ExternalIdentity:
        """Ask the provider who this is (no database writes: call before the transaction)."""
        app = await self.apps.get(app_type, app_id)
        return await self.providers.adapter_for(app_type).exchange(app, proof)

    async def _owner(self, session: AsyncSession, external: ExternalIdentity) -> Identity | None:
        return await repository.find_identity(
            session, external.app_type.value, external.subject, provider_app=external.app_id
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
        user, is_new = await self._user_for(session, external, client)
        return await self.identity.login(
            session,
            user,
            method=external.app_type.value,
            platform=platform,
            client=client,
            is_new_user=is_new,
            provider_secret=external.session_key,
        )

    async def _user_for(
        self, session: AsyncSession, external: ExternalIdentity, client: ClientInfo
    ) -> tuple[User, bool]:
        for _attempt in range(2):
            known = await self._owner(session, external)
            if known is not None:
                if external.union_id and not known.union_id:
                    await self._fill_union(session, known, external.union_id)
                return await self.identity.get_user_or_raise(session, known.user_id), False
            if external.union_id:
                owner = await repository.union_owner(session, external.provider, external.union_id)
                if owner is not None:
                    user = await self.identity.get_user_or_raise(session, owner)
                    await self._add(session, user.id, external, client, action="merge")
                    return user, False
            try:
                user = await self.identity.create_user(
                    session,
                    method=external.app_type.value,
                    identities=[_spec(external)],
                    province=None,
                    nickname=external.nickname,
                    avatar_url=external.avatar_url,
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

    async def _add(
        self,
        session: AsyncSession,
        user_id: int,
        external: ExternalIdentity,
        client: ClientInfo,
        *,
        action: str,
    ) -> None:
        try:
            async with session.begin_nested():
                session.add(self.identity.new_identity(user_id, _spec(external)))
                await session.flush()
        except IntegrityError:
            raise IdentityTaken(field=external.app_type.value) from None
        await self.identity.forget_view(user_id)
        await audit.record_profile_change(
            session,
            user_id=user_id,
            action=action,
            attribute=external.app_type.value,
            new_value=mask_identifier("openid", external.subject),
            client=client,
        )

    # --- WeChat mini program phone --------------------------------------------------------

    async def wechat_phone(self, phone_code: str, app_id: str | None) -> str:
        """The phone number WeChat verified for the mini program's phone button code."""
        app = await self.apps.get(AppType.WECHAT_MINIAPP, app_id)
        return await self.providers.wechat.phone_number(app, phone_code)

    async def decrypt_phone(
        self,
        session: AsyncSession,
        *,
        session_id: str,
        encrypted_data: str,
        iv: str,
        app_id: str | None,
    ) -> str:
        """The phone in legacy `encryptedData` from a mini program session's session_key."""
        stored = await self.identity.tokens.provider_secret(session, session_id)
        if stored is None:
            raise ProviderCodeInvalid(field="encrypted_data")
        session_key = self.identity.keyring.cipher.decrypt(stored, context=PROVIDER_SECRET_CONTEXT)
        app = await self.apps.get(AppType.WECHAT_MINIAPP, app_id)
        data = self.providers.wechat.decrypt_legacy(session_key, encrypted_data, iv, app.app_id)
        country = str(data.get("countryCode") or "86")
        number = str(data.get("purePhoneNumber") or data.get("phoneNumber") or "")
        return f"+{country}{number}"

    async def bind_legacy_phone(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        session_id: str,
        encrypted_data: str,
        iv: str,
        app_id: str | None,
        client: ClientInfo,
    ) -> None:
        """Bind the phone from a mini program's legacy encryptedData to the current user."""
        phone = normalize_phone(
            await self.decrypt_phone(
                session, session_id=session_id, encrypted_data=encrypted_data, iv=iv, app_id=app_id
            )
        )
        owner = await self.identity.find(session, IdentityType.PHONE, phone.e164)
        if owner is not None:
            if owner.user_id == user_id:
                return
            raise IdentityTaken(field="phone")
        current = next(
            (i for i in await repository.identities_of(session, user_id) if i.type == "phone"),
            None,
        )
        if current is not None:
            raise AlreadyBound(field="phone")
        await self._bind_phone(session, user_id, phone.e164, client)

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
        number = normalize_phone(phone)
        owner = await self.identity.find(session, IdentityType.PHONE, number.e164)
        is_new = owner is None
        if owner is None:
            if external is not None and await self._owner(session, external) is not None:
                known = await self._owner(session, external)
                assert known is not None
                user = await self.identity.get_user_or_raise(session, known.user_id)
                await self._bind_phone(session, user.id, number.e164, client)
                is_new = False
            else:
                user = await self.identity.create_user(
                    session,
                    method="wechat_phone",
                    identities=[IdentitySpec(IdentityType.PHONE, number.e164)],
                    province=await self.identity.ids.province_code_for(number.region),
                )
        else:
            user = await self.identity.get_user_or_raise(session, owner.user_id)
        if external is not None and await self._owner(session, external) is None:
            mine = await self._bound_of_type(session, user.id, external)
            if mine is None:
                await self._add(session, user.id, external, client, action="bind")
        return await self.identity.login(
            session,
            user,
            method="wechat_phone",
            platform=platform,
            client=client,
            is_new_user=is_new,
            provider_secret=external.session_key if external else None,
        )

    # --- binding --------------------------------------------------------------------------

    async def identities(self, session: AsyncSession, user_id: int) -> list[BoundIdentity]:
        view = []
        for identity in await repository.identities_of(session, user_id):
            shown = identity.identifier_index
            if identity.identifier_encrypted:
                shown = self.identity.keyring.cipher.decrypt(
                    identity.identifier_encrypted, context=f"identity.{identity.type}"
                )
                if identity.type == IdentityType.PHONE:
                    shown = shown.removeprefix("+86")
            kind = identity.type if identity.type in IdentityType._value2member_map_ else "openid"
            view.append(
                BoundIdentity(
                    type=identity.type,
                    provider=identity.provider or identity.type,
                    app_id=identity.provider_app,
                    identifier=mask_identifier(kind, shown),
                    bound_at=identity.created_at.isoformat(),
                )
            )
        return view

    async def _bound_of_type(
        self, session: AsyncSession, user_id: int, external: ExternalIdentity
    ) -> Identity | None:
        for identity in await repository.identities_of(session, user_id):
            if (
                identity.type == external.app_type.value
                and identity.provider_app == external.app_id
            ):
                return identity
        return None

    async def _has_fresh_proof(
        self,
        session: AsyncSession,
        *,
        session_id: str,
        method: str,
        old_code: str | None,
        user_id: int,
    ) -> bool:
        """Fresh proof of what is bound now: a login through it in the last minutes, or an SMS
        code sent to the bound phone (purpose change_phone)."""
        if old_code is not None:
            phone = await self.identity.phone_of(session, user_id)
            return phone is not None and await self.identity.sms_codes.verify(
                phone, SmsPurpose.CHANGE_PHONE, old_code
            )
        current = await self.identity.tokens.session_info(session, session_id)
        return (
            current is not None
            and current.login_method == method
            and clock.now() - current.created_at <= FRESH_LOGIN
        )

    async def bind_external(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        session_id: str,
        external: ExternalIdentity,
        client: ClientInfo,
        old_code: str | None = None,
    ) -> None:
        """Bind a verified external identity to the user (scenario 1), or replace the bound one
        of that app with fresh proof (rebind)."""
        owner = await self._owner(session, external)
        if owner is not None:
            if owner.user_id == user_id:
                return
            raise IdentityTaken(field=external.app_type.value)
        if external.union_id:
            union_owner = await repository.union_owner(
                session, external.provider, external.union_id
            )
            if union_owner not in (None, user_id):
                raise IdentityTaken(field=external.app_type.value)
        current = await self._bound_of_type(session, user_id, external)
        action = "bind"
        if current is not None:
            if not await self._has_fresh_proof(
                session,
                session_id=session_id,
                method=external.app_type.value,
                old_code=old_code,
                user_id=user_id,
            ):
                raise FreshProofRequired() if old_code is None else CodeInvalid(field="old_code")
            await self._remove(session, current)
            action = "rebind"
        await self._add(session, user_id, external, client, action=action)
        if (
            external.union_id
            and await repository.union_owner(session, external.provider, external.union_id) is None
        ):
            await repository.add_union(session, external.provider, external.union_id, user_id)

    async def _bind_phone(
        self, session: AsyncSession, user_id: int, e164: str, client: ClientInfo
    ) -> None:
        try:
            async with session.begin_nested():
                session.add(
                    self.identity.new_identity(user_id, IdentitySpec(IdentityType.PHONE, e164))
                )
                await session.flush()
        except IntegrityError:
            raise IdentityTaken(field="phone") from None
        await self.identity.forget_view(user_id)
        await audit.record_profile_change(
            session,
            user_id=user_id,
            action="bind",
            attribute="phone",
            new_value=mask_identifier("phone", e164.removeprefix("+86")),
            client=client,
        )

    async def bind_phone(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        phone: str,
        code: str,
        client: ClientInfo,
        old_code: str | None = None,
    ) -> None:
        """Bind a phone proven by an SMS code (scenario 2), or replace the bound phone when a
        code sent to the old one comes too (rebind)."""
        number = normalize_phone(phone)
        existing = await self.identity.find(session, IdentityType.PHONE, number.e164)
        if existing is not None and existing.user_id != user_id:
            raise IdentityTaken(field="phone")
        purpose = SmsPurpose.BIND if old_code is None else SmsPurpose.CHANGE_PHONE
        if not await self.identity.sms_codes.verify(number.e164, purpose, code):
            raise CodeInvalid()
        if existing is not None:
            return
        current = next(
            (i for i in await repository.identities_of(session, user_id) if i.type == "phone"),
            None,
        )
        if current is not None:
            if old_code is None:
                raise AlreadyBound(field="phone")
            old_phone = await self.identity.phone_of(session, user_id)
            if old_phone is None or not await self.identity.sms_codes.verify(
                old_phone, SmsPurpose.CHANGE_PHONE, old_code
            ):
                raise CodeInvalid(field="old_code")
            await self._remove(session, current)
            await audit.record_profile_change(
                session,
                user_id=user_id,
                action="rebind",
                attribute="phone",
                old_value=mask_identifier("phone", old_phone.removeprefix("+86")),
                new_value=mask_identifier("phone", number.e164.removeprefix("+86")),
                client=client,
            )
        await self._bind_phone(session, user_id, number.e164, client)

    async def _remove(self, session: AsyncSession, identity: Identity) -> None:
        union = identity.union_id
        await repository.delete_identity(session, identity)
        await self.identity.forget_view(identity.user_id)
        if union:
            await repository.delete_union_if_unused(
                session, identity.provider, union, identity.user_id
            )

    async def unbind(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        identity_type: str,
        app_id: str | None,
        client: ClientInfo,
    ) -> None:
        """Remove a login method; never the last one."""
        mine = await repository.identities_of(session, user_id)
        target = [
            i
            for i in mine
            if i.type == identity_type and (app_id is None or i.provider_app == app_id)
        ]
        if not target:
            raise NotBound(field="type")
        if len(mine) - len(target[:1]) < 1:
            raise LastLoginMethod(field="type")
        await self._remove(session, target[0])
        await audit.record_profile_change(
            session,
            user_id=user_id,
            action="unbind",
            attribute=identity_type,
            client=client,
        )
