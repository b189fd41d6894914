"""Every SQL statement of the access module."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.access.models import (
    AccessVersion,
    Grant,
    Permission,
    RecoveryCode,
    Role,
    RolePermission,
    StaffAccount,
    Status,
)

# --- the version cached permissions are keyed by --------------------------------------------


async def access_version(session: AsyncSession) -> int:
    return int(
        (await session.scalar(select(AccessVersion.version).where(AccessVersion.id == 1))) or 0
    )


async def bump_access_version(session: AsyncSession) -> None:
    await session.execute(
        update(AccessVersion).where(AccessVersion.id == 1).values(version=AccessVersion.version + 1)
    )


async def held_permissions(
    session: AsyncSession, subject_type: str, subject_id: int
) -> list[tuple[str, str, int]]:
    """(permission code, scope type, scope id) for every active permission of every active
    role the subject holds."""
    rows = await session.execute(
        select(Permission.code, Grant.scope_type, Grant.scope_id)
        .select_from(Grant)
        .join(Role, Role.id == Grant.role_id)
        .join(RolePermission, RolePermission.role_id == Role.id)
        .join(Permission, Permission.id == RolePermission.permission_id)
        .where(
            Grant.subject_type == subject_type,
            Grant.subject_id == subject_id,
            Role.status == Status.ACTIVE,
            Permission.status == Status.ACTIVE,
        )
    )
    return [(code, scope_type, scope_id) for code, scope_type, scope_id in rows]


# --- permissions ------------------------------------------------------------------------------


async def all_permissions(session: AsyncSession) -> list[Permission]:
    rows = await session.scalars(select(Permission).order_by(Permission.sort_order, Permission.id))
    return list(rows)


async def get_permission(session: AsyncSession, permission_id: int) -> Permission | None:
    return await session.get(Permission, permission_id, populate_existing=True)


async def permissions_by_codes(session: AsyncSession, codes: Sequence[str]) -> list[Permission]:
    if not codes:
        return []
    return list(await session.scalars(select(Permission).where(Permission.code.in_(codes))))


async def add(session: AsyncSession, row: object) -> None:
    session.add(row)
    await session.flush()


# --- roles ------------------------------------------------------------------------------------


async def all_roles(session: AsyncSession) -> list[Role]:
    return list(await session.scalars(select(Role).order_by(Role.id)))


async def get_role(session: AsyncSession, role_id: int) -> Role | None:
    return await session.get(Role, role_id, populate_existing=True)


async def role_by_code(session: AsyncSession, code: str) -> Role | None:
    return await session.scalar(select(Role).where(Role.code == code))


async def role_permission_codes(
    session: AsyncSession, role_ids: Sequence[int]
) -> dict[int, list[str]]:
    held: dict[int, list[str]] = {role_id: [] for role_id in role_ids}
    if not role_ids:
        return held
    rows = await session.execute(
        select(RolePermission.role_id, Permission.code)
        .join(Permission, Permission.id == RolePermission.permission_id)
        .where(RolePermission.role_id.in_(role_ids))
        .order_by(Permission.code)
    )
    for role_id, code in rows:
        held[role_id].append(code)
    return held


async def replace_role_permissions(
    session: AsyncSession, role_id: int, permission_ids: Sequence[int], now: datetime
) -> None:
    await session.execute(delete(RolePermission).where(RolePermission.role_id == role_id))
    if permission_ids:
        await session.execute(
            insert(RolePermission),
            [
                {"role_id": role_id, "permission_id": pid, "created_at": now}
                for pid in sorted(set(permission_ids))
            ],
        )


async def add_role_permission(
    session: AsyncSession, role_id: int, permission_id: int, now: datetime
) -> None:
    await session.execute(
        insert(RolePermission),
        [{"role_id": role_id, "permission_id": permission_id, "created_at": now}],
    )


# --- grants -----------------------------------------------------------------------------------


async def get_grant(session: AsyncSession, grant_id: int) -> Grant | None:
    return await session.get(Grant, grant_id, populate_existing=True)


async def grants_of(session: AsyncSession, subject_type: str, subject_id: int) -> list[Grant]:
    rows = await session.scalars(
        select(Grant)
        .where(Grant.subject_type == subject_type, Grant.subject_id == subject_id)
        .order_by(Grant.id)
    )
    return list(rows)


async def find_grant(
    session: AsyncSession,
    subject_type: str,
    subject_id: int,
    role_id: int,
    scope_type: str,
    scope_id: int,
) -> Grant | None:
    return await session.scalar(
        select(Grant).where(
            Grant.subject_type == subject_type,
            Grant.subject_id == subject_id,
            Grant.role_id == role_id,
            Grant.scope_type == scope_type,
            Grant.scope_id == scope_id,
        )
    )


async def delete_grant(session: AsyncSession, grant_id: int) -> bool:
    result = await session.execute(delete(Grant).where(Grant.id == grant_id))
    return bool(getattr(result, "rowcount", 0))


# --- staff accounts ---------------------------------------------------------------------------


async def get_staff(session: AsyncSession, staff_id: int) -> StaffAccount | None:
    return await session.get(StaffAccount, staff_id, populate_existing=True)


async def lock_staff(session: AsyncSession, staff_id: int) -> StaffAccount | None:
    return await session.scalar(
        select(StaffAccount)
        .where(StaffAccount.id == staff_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def staff_by_username(session: AsyncSession, username: str) -> StaffAccount | None:
    return await session.scalar(select(StaffAccount).where(StaffAccount.username == username))


async def staff_status(session: AsyncSession, staff_id: int) -> str | None:
    return await session.scalar(select(StaffAccount.status).where(StaffAccount.id == staff_id))


async def list_staff(
    session: AsyncSession, before_id: int | None, limit: int
) -> list[StaffAccount]:
    query = select(StaffAccount)
    if before_id is not None:
        query = query.where(StaffAccount.id < before_id)
    return list(await session.scalars(query.order_by(StaffAccount.id.desc()).limit(limit)))


async def claim_totp_step(session: AsyncSession, staff_id: int, step: int) -> bool:
    """Record `step` as used unless it (or a later one) already was: of two requests with the
    same code, one wins."""
    result = await session.execute(
        update(StaffAccount)
        .where(StaffAccount.id == staff_id, StaffAccount.totp_last_step < step)
        .values(totp_last_step=step)
    )
    return bool(getattr(result, "rowcount", 0))


async def use_recovery_code(
    session: AsyncSession, staff_id: int, code_hash: str, now: datetime
) -> bool:
    result = await session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.staff_id == staff_id,
            RecoveryCode.code_hash == code_hash,
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


async def replace_recovery_codes(
    session: AsyncSession, staff_id: int, hashes: Sequence[str], now: datetime
) -> None:
    await session.execute(delete(RecoveryCode).where(RecoveryCode.staff_id == staff_id))
    if hashes:
        await session.execute(
            insert(RecoveryCode),
            [
                {"staff_id": staff_id, "code_hash": h, "created_at": now, "used_at": None}
                for h in hashes
            ],
        )


# --- the admin log ----------------------------------------------------------------------------
