"""Every SQL statement of the identity module."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.identity.models import (
    Credential,
    ExtendKey,
    ExtendKeyStatus,
    Identity,
    IdentityUnion,
    User,
    UserExtend,
)
from usercenter.kit import clock


async def find_identity(
    session: AsyncSession, type_: str, identifier_index: str, provider_app: str = ""
) -> Identity | None:
    return await session.scalar(
        select(Identity).where(
            Identity.type == type_,
            Identity.provider_app == provider_app,
            Identity.identifier_index == identifier_index,
        )
    )


# Built once: on every password login, building the statement cost as much as running it.
_USER_WITH_PASSWORD_HASH = (
    select(User, Credential.password_hash)
    .join(Identity, Identity.user_id == User.id)
    .outerjoin(Credential, Credential.user_id == User.id)
    .where(
        Identity.type == bindparam("b_type"),
        Identity.provider_app == "",
        Identity.identifier_index == bindparam("b_index"),
    )
)


async def user_with_password_hash(
    session: AsyncSession, type_: str, identifier_index: str
) -> tuple[User, str | None] | None:
    """The owner of an identity and their password hash (None: no password), in one query."""
    params = {"b_type": type_, "b_index": identifier_index}
    row = (await session.execute(_USER_WITH_PASSWORD_HASH, params)).one_or_none()
    return None if row is None else (row[0], row[1])


async def identities_of(session: AsyncSession, user_id: int) -> list[Identity]:
    rows = await session.scalars(
        select(Identity).where(Identity.user_id == user_id).order_by(Identity.id)
    )
    return list(rows)


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def user_status(session: AsyncSession, user_id: int) -> str | None:
    return await session.scalar(select(User.status).where(User.id == user_id))


async def lock_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.scalar(
        select(User)
        .where(User.id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def uid_of(session: AsyncSession, user_id: int) -> str | None:
    return await session.scalar(select(User.uid).where(User.id == user_id))


async def get_credential(session: AsyncSession, user_id: int) -> Credential | None:
    return await session.get(Credential, user_id)


async def set_password_hash(
    session: AsyncSession, user_id: int, password_hash: str, now: datetime
) -> None:
    credential = await session.get(Credential, user_id)
    if credential is None:
        session.add(
            Credential(
                user_id=user_id,
                password_hash=password_hash,
                password_changed_at=now,
                created_at=now,
                updated_at=now,
            )
        )
    else:
        credential.password_hash = password_hash
        credential.password_changed_at = now
    await session.flush()


async def rehash_password(session: AsyncSession, user_id: int, old: str, new: str) -> None:
    """Replace the hash only if it is still the one that was verified."""
    await session.execute(
        update(Credential)
        .where(Credential.user_id == user_id, Credential.password_hash == old)
        .values(password_hash=new)
        .execution_options(synchronize_session=False)
    )


async def add_union(session: AsyncSession, provider: str, union_id: str, user_id: int) -> None:
    session.add(
        IdentityUnion(provider=provider, union_id=union_id, user_id=user_id, created_at=clock.now())
    )
    await session.flush()


async def union_owner(session: AsyncSession, provider: str, union_id: str) -> int | None:
    return await session.scalar(
        select(IdentityUnion.user_id).where(
            IdentityUnion.provider == provider, IdentityUnion.union_id == union_id
        )
    )


async def delete_identity(session: AsyncSession, identity: Identity) -> None:
    await session.delete(identity)
    await session.flush()


async def delete_union_if_unused(
    session: AsyncSession, provider: str, union_id: str, user_id: int
) -> None:
    """Drop the unionid's owner row once no identity of the user carries it any more."""
    still = await session.scalar(
        select(Identity.id).where(
            Identity.user_id == user_id,
            Identity.provider == provider,
            Identity.union_id == union_id,
        )
    )
    if still is None:
        await session.execute(
            delete(IdentityUnion).where(
                IdentityUnion.provider == provider, IdentityUnion.union_id == union_id
            )
        )


async def search_users(
    session: AsyncSession,
    *,
    user_id: int | None,
    uid: str | None,
    nickname: str | None,
    status: str | None,
    before_id: int | None,
    limit: int,
) -> list[User]:
    """Users matching every filter given, newest id first (staff search)."""
    query = select(User)
    if user_id is not None:
        query = query.where(User.id == user_id)
    if uid:
        query = query.where(User.uid == uid.upper())
    if nickname:
        escaped = nickname.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(User.nickname.like(f"%{escaped}%", escape="\\"))
    if status:
        query = query.where(User.status == status)
    if before_id is not None:
        query = query.where(User.id < before_id)
    return list(await session.scalars(query.order_by(User.id.desc()).limit(limit)))


async def get_identity(session: AsyncSession, identity_id: int) -> Identity | None:
    return await session.get(Identity, identity_id)


async def count_users_created(session: AsyncSession, start: datetime, end: datetime) -> int:
    """Users created in [start, end) (an index range on users.created_at)."""
    query = select(func.count()).where(User.created_at >= start, User.created_at < end)
    return int((await session.execute(query)).scalar_one())


async def first_user_created_at(session: AsyncSession) -> datetime | None:
    return (await session.execute(select(func.min(User.created_at)))).scalar_one_or_none()


# --- extension fields ---


async def active_extends_of(session: AsyncSession, user_id: int) -> list[tuple[str, str, str]]:
    """The user's values of active keys as (key, type, value), in the keys' order."""
    rows = await session.execute(
        select(UserExtend.key, ExtendKey.type, UserExtend.value)
        .join(ExtendKey, ExtendKey.key == UserExtend.key)
        .where(UserExtend.user_id == user_id, ExtendKey.status == ExtendKeyStatus.ACTIVE)
        .order_by(ExtendKey.sort_order, ExtendKey.key)
    )
    return [(key, type_, value) for key, type_, value in rows.all()]


async def extend_keys(session: AsyncSession) -> list[ExtendKey]:
    rows = await session.scalars(select(ExtendKey).order_by(ExtendKey.sort_order, ExtendKey.key))
    return list(rows)


async def extend_keys_named(session: AsyncSession, keys: list[str]) -> dict[str, ExtendKey]:
    rows = await session.scalars(select(ExtendKey).where(ExtendKey.key.in_(keys)))
    return {row.key: row for row in rows}


async def get_extend_key(session: AsyncSession, key: str) -> ExtendKey | None:
    return await session.get(ExtendKey, key)


async def extends_for_update(
    session: AsyncSession, user_id: int, keys: list[str]
) -> dict[str, UserExtend]:
    """The user's rows of `keys`, locked for the change."""
    rows = await session.scalars(
        select(UserExtend)
        .where(UserExtend.user_id == user_id, UserExtend.key.in_(keys))
        .with_for_update()
    )
    return {row.key: row for row in rows}


async def delete_extend(session: AsyncSession, row: UserExtend) -> None:
    await session.delete(row)


async def users_with_extend(session: AsyncSession, key: str) -> list[int]:
    rows = await session.scalars(select(UserExtend.user_id).where(UserExtend.key == key))
    return list(rows)
