"""The current user's profile: read (the cached view: GET /v1/me's hot path) and changed."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.audit import service as audit
from usercenter.db import Database
from usercenter.identity.events import UserProfileChanged
from usercenter.identity.service.context import IdentityContext
from usercenter.identity.views import UserView
from usercenter.kit import clock
from usercenter.kit.client import ClientInfo
from usercenter.kit.regions import RegionDirectory, ResolvedRegion
from usercenter.security.masking import mask_text

PROFILE_FIELDS = frozenset({"nickname", "avatar_url", "gender", "birthday", "signature"})


def _region_text(region: ResolvedRegion | None, code: str | None) -> str | None:
    """How the change log shows a region: the code and its names (`440106 广东省/广州市/天河区`)."""
    if region is None:
        return code
    names = "/".join(r.name for r in (region.province, region.city, region.district))
    return f"{region.code} {names}"[:255]


def logged_value(name: str, value: object) -> str | None:
    """A profile field's value as the change log keeps it: a birthday without its month and
    day (`1990-**-**`), free text with any phone, e-mail or ID number in it masked."""
    if value is None:
        return None
    if isinstance(value, date):
        return f"{value.year:04d}-**-**"
    text = str(value)
    return mask_text(text) if name in ("nickname", "signature") else text


class ProfileService:
    def __init__(self, context: IdentityContext, *, regions: RegionDirectory) -> None:
        self.context = context
        self.regions = regions

    async def profile(self, database: Database, user_id: int) -> UserView:
        """The user as the API shows it, from the cache when it is there (the hot path of
        GET /v1/me: no database round trip, not even a session); read on a miss. Raises
        UserNotFound."""
        views = self.context.views
        cached = await views.cached(user_id)
        if cached is not None:
            return cached
        async with database.read_session() as session:
            return await views.build(session, await self.context.user_or_raise(session, user_id))

    async def update_profile(
        self,
        session: AsyncSession,
        user_id: int,
        changes: dict[str, Any],
        client: ClientInfo | None = None,
    ) -> UserView:
        """Change nickname, avatar, gender, birthday, signature or region (only the fields
        given); a `user.profile_changed` event names those whose value changed (none: no
        event). `region_code` is a GB/T 2260 county-level code (None clears it); a change of it
        is written to the change log, as is each other field, old and new, masked. Raises
        RegionInvalid (field `region_code`)."""
        new_region = None
        if changes.get("region_code") is not None:
            new_region = self.regions.resolve(changes["region_code"], field="region_code")
        user = await self.context.user_or_raise(session, user_id)
        changed = sorted(
            name
            for name, value in changes.items()
            if name in PROFILE_FIELDS and getattr(user, name) != value
        )
        for name in changed:
            await audit.record_profile_change(
                session,
                user_id=user.id,
                action="update",
                attribute=name,
                client=client or ClientInfo(),
                old_value=logged_value(name, getattr(user, name)),
                new_value=logged_value(name, changes[name]),
            )
            setattr(user, name, changes[name])
        if "region_code" in changes and user.region_code != changes["region_code"]:
            old_code = user.region_code
            user.region_code = changes["region_code"]
            changed = sorted([*changed, "region"])
            await audit.record_profile_change(
                session,
                user_id=user.id,
                action="update",
                attribute="region",
                old_value=_region_text(self.regions.find(old_code), old_code),
                new_value=_region_text(new_region, user.region_code),
                client=client or ClientInfo(),
            )
        user.updated_at = clock.now()
        await session.flush()
        await self.context.views.forget(user_id)
        if changed:
            await self.context.outbox.add(
                session, UserProfileChanged(user_id=user.id, uid=user.uid, fields=changed)
            )
        return await self.context.views.build(session, user)
