"""The events of access changes (`usercenter.access.events`), written by the services in the
transaction of the change: a user's grants, a role, a staff account and its roles."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.access import repository
from usercenter.access.events import GrantChanged, RoleChanged, StaffRolesChanged
from usercenter.access.models import Grant, Role, SubjectType
from usercenter.kit.events import Event, EventSink


class AccessChanges:
    def __init__(self, outbox: EventSink) -> None:
        self.outbox = outbox

    async def add(self, session: AsyncSession, *events: Event) -> None:
        await self.outbox.add(session, *events)

    async def grant_changed(
        self, session: AsyncSession, grant: Grant, role_code: str, *, action: str, by: int | None
    ) -> None:
        """A grant given or taken back (`action`: granted or revoked): `access.grant_changed`
        for a user, `staff.roles_changed` (the roles held now) for a staff account."""
        if grant.subject_type == SubjectType.STAFF:
            await self.staff_roles_changed(session, grant.subject_id, by=by)
            return
        await self.outbox.add(
            session,
            GrantChanged(
                user_id=grant.subject_id,
                role_code=role_code,
                action=action,
                scope_type=grant.scope_type or None,
                scope_id=grant.scope_id if grant.scope_type else None,
                by_staff_id=by,
            ),
        )

    async def staff_roles_changed(
        self, session: AsyncSession, staff_id: int, *, by: int | None
    ) -> None:
        await self.outbox.add(
            session,
            StaffRolesChanged(
                staff_id=staff_id,
                by_staff_id=by,
                role_codes=await self.staff_role_codes(session, staff_id),
            ),
        )

    async def staff_role_codes(self, session: AsyncSession, staff_id: int) -> list[str]:
        """The codes of the roles the staff account holds (anywhere), sorted."""
        grants = await repository.grants_of(session, SubjectType.STAFF, staff_id)
        if not grants:
            return []
        codes = {role.id: role.code for role in await repository.all_roles(session)}
        return sorted({codes[g.role_id] for g in grants if g.role_id in codes})

    async def role_changed(
        self, session: AsyncSession, change: str, *roles: Role, by: int | None
    ) -> None:
        """`access.role_changed` for each role (`change`: created, updated, permissions_changed,
        deleted)."""
        await self.outbox.add(
            session,
            *(
                RoleChanged(role_id=role.id, role_code=role.code, change=change, by_staff_id=by)
                for role in roles
            ),
        )

    async def roles_holding(self, session: AsyncSession, code: str) -> list[Role]:
        """The roles that hold the permission `code`."""
        roles = await repository.all_roles(session)
        held = await repository.role_permission_codes(session, [role.id for role in roles])
        return [role for role in roles if code in held[role.id]]
