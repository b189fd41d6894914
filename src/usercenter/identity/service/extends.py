"""Extension fields (seed 003 users_extends): the keys staff declare (type, length, whether the
user may edit them), and the values of a user, changed all or nothing by the user (their
editable keys) or by staff (any active key). Each change drops the cached view (GET /v1/me
shows the values under `extends`), writes a change-log row per key and one
`user.profile_changed` event naming `extends.<key>`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.audit import service as audit
from usercenter.audit.models import ChangeActor
from usercenter.identity import repository
from usercenter.identity.errors import (
    ExtendKeyNotEditable,
    ExtendKeyNotFound,
    ExtendKeyTaken,
    ExtendKeyUnknown,
    ExtendOptionsInvalid,
    ExtendValueInvalid,
    UserNotFound,
)
from usercenter.identity.events import UserProfileChanged
from usercenter.identity.extend_values import (
    MAX_VALUE_LENGTH,
    KeyRule,
    ValueRejected,
    canonical,
    typed,
)
from usercenter.identity.models import (
    ExtendKey,
    ExtendKeyStatus,
    ExtendType,
    UserExtend,
    UserStatus,
)
from usercenter.identity.service.context import IdentityContext
from usercenter.identity.views import ExtendKeyView, ExtendValue
from usercenter.kit import clock
from usercenter.kit.client import ClientInfo

EXTENDS_PREFIX = "extends."


@dataclass(frozen=True, slots=True)
class ExtendKeyDraft:
    """A key to declare (what staff send)."""

    key: str
    label: str
    type: ExtendType
    options: list[str] | None = None
    max_length: int | None = None
    is_user_editable: bool = False
    sort_order: int = 0


def _view(row: ExtendKey) -> ExtendKeyView:
    return ExtendKeyView(
        key=row.key,
        label=row.label,
        type=row.type,
        options=list(row.options) if row.options is not None else None,
        max_length=row.max_length,
        is_user_editable=row.is_user_editable,
        status=row.status,
        sort_order=row.sort_order,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _rule(row: ExtendKey) -> KeyRule:
    return KeyRule(row.type, tuple(row.options or ()), row.max_length)


def _check_options(type_: str, options: list[str] | None) -> None:
    if (type_ == ExtendType.ENUM) != bool(options):
        raise ExtendOptionsInvalid()
    if options and len(set(options)) != len(options):
        raise ExtendOptionsInvalid()


class ExtendService:
    def __init__(self, context: IdentityContext) -> None:
        self.context = context

    # --- the keys (staff) ---------------------------------------------------------------

    async def list_keys(self, session: AsyncSession) -> list[ExtendKeyView]:
        """Every key, active and disabled, in display order."""
        return [_view(row) for row in await repository.extend_keys(session)]

    async def active_keys(self, session: AsyncSession) -> list[ExtendKeyView]:
        """The active keys, in display order: what a client may show (and, where editable,
        ask for)."""
        return [
            _view(row)
            for row in await repository.extend_keys(session)
            if row.status == ExtendKeyStatus.ACTIVE
        ]

    async def create_key(self, session: AsyncSession, draft: ExtendKeyDraft) -> ExtendKeyView:
        """Declare a key. Raises ExtendKeyTaken, ExtendOptionsInvalid."""
        _check_options(draft.type, draft.options)
        now = clock.now()
        row = ExtendKey(
            key=draft.key,
            label=draft.label,
            type=draft.type.value,
            options=draft.options if draft.type == ExtendType.ENUM else None,
            max_length=draft.max_length,
            is_user_editable=draft.is_user_editable,
            status=ExtendKeyStatus.ACTIVE.value,
            sort_order=draft.sort_order,
            created_at=now,
            updated_at=now,
        )
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
        except IntegrityError:
            raise ExtendKeyTaken() from None
        return _view(row)

    async def update_key(
        self, session: AsyncSession, key: str, changes: Mapping[str, Any]
    ) -> ExtendKeyView:
        """Change a key's label, options, length, editability, status or order (its type is
        fixed: the values held were checked against it). A change of status drops the cached
        views of the users holding a value. Raises ExtendKeyNotFound, ExtendOptionsInvalid."""
        row = await repository.get_extend_key(session, key)
        if row is None:
            raise ExtendKeyNotFound()
        if "options" in changes:
            _check_options(row.type, changes["options"])
        status_changed = changes.get("status") not in (None, row.status)
        # Options and the maximum length may be cleared (null); the others only changed.
        for name in ("options", "max_length"):
            if name in changes:
                setattr(row, name, changes[name])
        for name in ("label", "is_user_editable", "status", "sort_order"):
            if changes.get(name) is not None:
                setattr(row, name, changes[name])
        row.updated_at = clock.now()
        await session.flush()
        if status_changed:
            for user_id in await repository.users_with_extend(session, key):
                await self.context.views.forget(user_id)
        return _view(row)

    # --- the values ---------------------------------------------------------------------

    async def values_of(self, session: AsyncSession, user_id: int) -> dict[str, ExtendValue]:
        """The user's values of active keys, typed. Raises UserNotFound."""
        await self.context.user_or_raise(session, user_id)
        return {
            key: typed(type_, value)
            for key, type_, value in await repository.active_extends_of(session, user_id)
        }

    async def update_mine(
        self,
        session: AsyncSession,
        user_id: int,
        values: Mapping[str, object],
        client: ClientInfo,
    ) -> dict[str, ExtendValue]:
        """The user sets (null: removes) values of keys they may edit, all or nothing. Raises
        ExtendKeyUnknown, ExtendKeyNotEditable (field `extends.<key>`), ExtendValueInvalid,
        UserNotFound."""
        return await self._update(session, user_id, values, client, actor=ChangeActor.USER)

    async def update_for_staff(
        self,
        session: AsyncSession,
        user_id: int,
        values: Mapping[str, object],
        client: ClientInfo,
        *,
        staff_id: int,
    ) -> dict[str, ExtendValue]:
        """Staff set (null: remove) values of any active key, all or nothing. Raises
        ExtendKeyUnknown, ExtendValueInvalid, UserNotFound."""
        return await self._update(
            session, user_id, values, client, actor=ChangeActor.STAFF, actor_id=staff_id
        )

    async def _update(
        self,
        session: AsyncSession,
        user_id: int,
        values: Mapping[str, object],
        client: ClientInfo,
        *,
        actor: ChangeActor,
        actor_id: int | None = None,
    ) -> dict[str, ExtendValue]:
        # Every value is checked before anything is written: all or nothing.
        names = sorted(values)
        keys = await repository.extend_keys_named(session, names) if names else {}
        wanted: dict[str, str | None] = {}
        for name in names:
            field = EXTENDS_PREFIX + name
            row = keys.get(name)
            if row is None or row.status != ExtendKeyStatus.ACTIVE:
                raise ExtendKeyUnknown(field=field)
            if actor == ChangeActor.USER and not row.is_user_editable:
                raise ExtendKeyNotEditable(field=field)
            value = values[name]
            if value is None:
                wanted[name] = None
                continue
            try:
                wanted[name] = canonical(_rule(row), value)
            except ValueRejected:
                raise ExtendValueInvalid(
                    field=field,
                    type=row.type,
                    max_length=min(row.max_length or MAX_VALUE_LENGTH, MAX_VALUE_LENGTH),
                ) from None
        # The user's row is locked first: two changes of one user's values queue, so a first
        # value of a key cannot be inserted twice.
        user = await repository.lock_user(session, user_id)
        if user is None or user.status == UserStatus.DELETED:
            raise UserNotFound()
        held = await repository.extends_for_update(session, user_id, names) if names else {}
        now = clock.now()
        changed: list[str] = []
        for name, new in wanted.items():
            current = held.get(name)
            old = current.value if current is not None else None
            if old == new:
                continue
            if current is None:
                session.add(UserExtend(user_id=user_id, key=name, value=new, updated_at=now))
            elif new is None:
                await repository.delete_extend(session, current)
            else:
                current.value = new
                current.updated_at = now
            changed.append(name)
            action = "set" if old is None else "remove" if new is None else "update"
            await audit.record_profile_change(
                session,
                user_id=user_id,
                action=action,
                attribute=EXTENDS_PREFIX + name,
                client=client,
                old_value=old,
                new_value=new,
                actor=actor,
                actor_id=actor_id,
            )
        await session.flush()
        if changed:
            user.updated_at = now
            await self.context.views.forget(user_id)
            await self.context.outbox.add(
                session,
                UserProfileChanged(
                    user_id=user_id,
                    uid=user.uid,
                    fields=[EXTENDS_PREFIX + name for name in changed],
                ),
            )
        return {
            key: typed(type_, value)
            for key, type_, value in await repository.active_extends_of(session, user_id)
        }
