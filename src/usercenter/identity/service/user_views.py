"""The cached view of a user: built from the rows, kept in the shared cache and for seconds in
a memo of the process, dropped by every change the identity services make."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.identity import repository
from usercenter.identity.extend_values import typed
from usercenter.identity.models import IdentityType, User
from usercenter.identity.views import UserView
from usercenter.kit.cache import Cache, LocalMemo
from usercenter.kit.regions import RegionDirectory
from usercenter.security.keys import Keyring
from usercenter.security.masking import mask_email, mask_phone

# A cached view is dropped by every change the services make; the TTL bounds what a change
# committed elsewhere meanwhile (another process, a rolled-back race) can leave stale.
USER_VIEW_TTL_SECONDS = 60
LOCAL_MEMO_SECONDS = 2.0


def _view_key(user_id: int) -> str:
    return f"user:view:{user_id}"


class UserViews:
    def __init__(self, keyring: Keyring, cache: Cache, regions: RegionDirectory) -> None:
        self.keyring = keyring
        self.cache = cache
        self.regions = regions
        self._memo = LocalMemo(ttl=LOCAL_MEMO_SECONDS)

    async def build(self, session: AsyncSession, user: User) -> UserView:
        """The view of a user read now, phone and e-mail masked; cached for the next read."""
        found: dict[str, str] = {}
        for identity in await repository.identities_of(session, user.id):
            if identity.identifier_encrypted:
                plain = self.keyring.cipher.decrypt(
                    identity.identifier_encrypted, context=f"identity.{identity.type}"
                )
                found[identity.type] = (
                    mask_phone(plain.removeprefix("+86"))
                    if identity.type == IdentityType.PHONE
                    else mask_email(plain)
                )
            elif identity.type == IdentityType.USERNAME:
                found[identity.type] = identity.identifier_index
        credential = await repository.get_credential(session, user.id)
        region = self.regions.find(user.region_code)
        extends = {
            key: typed(type_, value)
            for key, type_, value in await repository.active_extends_of(session, user.id)
        }
        view = UserView(
            id=user.id,
            uid=user.uid,
            nickname=user.nickname,
            avatar_url=user.avatar_url,
            gender=user.gender,
            birthday=user.birthday,
            signature=user.signature,
            status=user.status,
            created_at=user.created_at,
            phone=found.get(IdentityType.PHONE),
            email=found.get(IdentityType.EMAIL),
            username=found.get(IdentityType.USERNAME),
            has_password=bool(credential and credential.password_hash),
            region=region.as_dict() if region else None,
            extends=extends,
        )
        await self.cache.set(_view_key(user.id), view.to_json(), ttl=USER_VIEW_TTL_SECONDS)
        self._memo.drop(_view_key(user.id))
        return view

    async def cached(self, user_id: int) -> UserView | None:
        """The cached view, None when there is none."""
        key = _view_key(user_id)
        cached = self._memo.get(key)
        if cached is None:
            # Memoised only when fetched anew, so the entry expires however busy the user.
            cached = await self.cache.get(key)
            if cached is None:
                return None
            self._memo.put(key, cached)
        return UserView.from_json(cached)

    async def of(self, session: AsyncSession, user: User) -> UserView:
        """The view of a user already loaded: from the cache when there, else built."""
        return await self.cached(user.id) or await self.build(session, user)

    async def forget(self, user_id: int) -> None:
        """Drop the cached view after a change to the user or their identities."""
        self._memo.drop(_view_key(user_id))
        await self.cache.delete(_view_key(user_id))
