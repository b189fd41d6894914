"""Roles, the permission tree and grants, each change within the privilege ceiling of the
staff member making it (`ceiling`: what they hold; None for a trusted caller, the CLI)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.access import repository
from usercenter.access.errors import (
    GrantExists,
    GrantNotFound,
    PermissionCodeTaken,
    PermissionNotFound,
    RoleAudienceMismatch,
    RoleCodeTaken,
    RoleNotFound,
    ScopeInvalid,
    StaffNotFound,
)
from usercenter.access.models import (
    Grant,
    Permission,
    PermissionKind,
    Role,
    ScopeType,
    Status,
    SubjectType,
)
from usercenter.access.service.changes import AccessChanges
from usercenter.access.service.permissions import (
    Effective,
    PermissionService,
    Scope,
    Subject,
    codes_in,
    within,
)
from usercenter.identity.errors import UserNotFound
from usercenter.identity.service.accounts import UserAccounts
from usercenter.kit import clock
from usercenter.kit.events import EventSink

# The role that holds every permission, those created later included (the migration seeds it
# with all of them; create_permission adds each new one).
SUPER_ADMIN_ROLE = "super_admin"


@dataclass(frozen=True, slots=True)
class PermissionNode:
    id: int
    code: str
    name: str
    kind: str
    path: str | None
    sort_order: int
    status: str
    scopes: list[str]
    children: list[PermissionNode]


@dataclass(frozen=True, slots=True)
class MenuNode:
    """A menu of the console the caller holds, with the menus under it they hold."""

    code: str
    name: str
    path: str | None
    sort_order: int
    children: list[MenuNode]


@dataclass(frozen=True, slots=True)
class RoleView:
    id: int
    code: str
    name: str
    audience: str
    description: str | None
    status: str
    permissions: list[str]

    @classmethod
    def of(cls, role: Role, permissions: list[str]) -> RoleView:
        values = (role.id, role.code, role.name, role.audience, role.description, role.status)
        return cls(*values, permissions)


@dataclass(frozen=True, slots=True)
class GrantView:
    id: int
    subject: Subject
    role: str
    scope: Scope | None
    created_at: datetime

    @classmethod
    def of(cls, grant: Grant, role_code: str) -> GrantView:
        scope = Scope(grant.scope_type, grant.scope_id) if grant.scope_type else None
        subject = Subject(grant.subject_type, grant.subject_id)
        return cls(grant.id, subject, role_code, scope, grant.created_at)


def build_tree(rows: Sequence[Permission], effective: Effective | None) -> list[PermissionNode]:
    """`rows` as a tree (a row whose parent is not among them is a root), siblings by sort
    order; each node's scopes those `effective` holds it in."""
    children: dict[int | None, list[Permission]] = {}
    ids = {row.id for row in rows}
    for row in rows:
        parent = row.parent_id if row.parent_id in ids else None
        children.setdefault(parent, []).append(row)

    def build(parent: int | None) -> list[PermissionNode]:
        return [
            PermissionNode(
                id=row.id,
                code=row.code,
                name=row.name,
                kind=row.kind,
                path=row.path,
                sort_order=row.sort_order,
                status=row.status,
                scopes=sorted(effective.held.get(row.code, ())) if effective else [],
                children=build(row.id),
            )
            for row in sorted(children.get(parent, []), key=lambda r: (r.sort_order, r.id))
        ]

    return build(None)


class RbacService:
    def __init__(
        self,
        permissions: PermissionService,
        identity: UserAccounts | None = None,
        *,
        outbox: EventSink,
    ) -> None:
        self.permissions = permissions
        # Roles are granted to users only where it is wired (the app; not the command line).
        self.identity = identity
        self.changes = AccessChanges(outbox)

    # --- the permission tree ------------------------------------------------------------------

    async def permission_tree(
        self, session: AsyncSession, subject: Subject
    ) -> list[PermissionNode]:
        """The menus, buttons and APIs the subject holds, as a tree (parents of held nodes
        included), for a front end to build its routes."""
        effective = await self.permissions.effective(subject)
        rows = [p for p in await repository.all_permissions(session) if p.status == Status.ACTIVE]
        by_id = {p.id: p for p in rows}
        wanted: set[int] = set()
        for row in rows:
            if row.code in effective.held:
                node: Permission | None = row
                while node is not None and node.id not in wanted:
                    wanted.add(node.id)
                    node = by_id.get(node.parent_id) if node.parent_id else None
        return build_tree([p for p in rows if p.id in wanted], effective)

    async def menus(self, session: AsyncSession, effective: Effective) -> list[MenuNode]:
        """The active menu nodes `effective` holds (anywhere), nested (a menu whose parent
        menu is not held is a root), siblings by sort order: the console's sidebar. The
        super admin holds every node, so sees every menu."""
        rows = [
            p
            for p in await repository.all_permissions(session)
            if p.status == Status.ACTIVE
            and p.kind == PermissionKind.MENU
            and p.code in effective.held
        ]

        def menu(node: PermissionNode) -> MenuNode:
            children = [menu(child) for child in node.children]
            return MenuNode(node.code, node.name, node.path, node.sort_order, children)

        return [menu(node) for node in build_tree(rows, None)]

    async def list_permissions(self, session: AsyncSession) -> list[PermissionNode]:
        return build_tree(await repository.all_permissions(session), None)

    async def create_permission(
        self,
        session: AsyncSession,
        *,
        code: str,
        name: str,
        kind: PermissionKind,
        parent_id: int | None,
        path: str | None,
        sort_order: int,
        description: str | None,
        by_staff_id: int | None = None,
    ) -> PermissionNode:
        """A new node, held by the super admin role (whose `access.role_changed` says so).
        Raises PermissionNotFound (the parent), PermissionCodeTaken."""
        if parent_id is not None and await repository.get_permission(session, parent_id) is None:
            raise PermissionNotFound(field="parent_id")
        if await repository.permissions_by_codes(session, [code]):
            raise PermissionCodeTaken()
        now = clock.now()
        row = Permission(
            code=code,
            name=name,
            kind=kind,
            parent_id=parent_id,
            path=path,
            sort_order=sort_order,
            description=description,
            status=Status.ACTIVE,
            created_at=now,
            updated_at=now,
        )
        try:
            await repository.add(session, row)
        except IntegrityError:
            raise PermissionCodeTaken() from None
        super_admin = await repository.role_by_code(session, SUPER_ADMIN_ROLE)
        if super_admin is not None:
            await repository.add_role_permission(session, super_admin.id, row.id, now)
            await self.changes.role_changed(
                session, "permissions_changed", super_admin, by=by_staff_id
            )
        await self.permissions.changed(session)
        return build_tree([row], None)[0]

    async def update_permission(
        self,
        session: AsyncSession,
        permission_id: int,
        changes: Mapping[str, Any],
        *,
        ceiling: Effective | None,
        by_staff_id: int | None = None,
    ) -> PermissionNode:
        """Rename, move or disable a node (disabling takes it from everyone: each role that
        holds it gets an `access.role_changed`, as does enabling it again). Raises
        PermissionNotFound, or PrivilegeExceeded when `ceiling` does not hold it."""
        row = await repository.get_permission(session, permission_id)
        if row is None:
            raise PermissionNotFound()
        within(ceiling, codes_in([row.code]))
        status_before = row.status
        for key, value in changes.items():
            setattr(row, key, value)
        row.updated_at = clock.now()
        await session.flush()
        if row.status != status_before:
            await self.changes.role_changed(
                session,
                "permissions_changed",
                *await self.changes.roles_holding(session, row.code),
                by=by_staff_id,
            )
        await self.permissions.changed(session)
        return build_tree([row], None)[0]

    # --- roles --------------------------------------------------------------------------------

    async def list_roles(self, session: AsyncSession) -> list[RoleView]:
        roles = await repository.all_roles(session)
        held = await repository.role_permission_codes(session, [r.id for r in roles])
        return [RoleView.of(role, held[role.id]) for role in roles]

    async def role_codes(self, session: AsyncSession, code: str) -> list[str]:
        """The permission codes of the role `code`. Raises RoleNotFound (field `roles`), or
        RoleAudienceMismatch when it is a user role: what a new staff account may be given."""
        role = await repository.role_by_code(session, code)
        if role is None:
            raise RoleNotFound(field="roles")
        if role.audience != SubjectType.STAFF:
            raise RoleAudienceMismatch(field="roles")
        return (await repository.role_permission_codes(session, [role.id]))[role.id]

    async def _permission_ids(self, session: AsyncSession, codes: Sequence[str]) -> list[int]:
        found = await repository.permissions_by_codes(session, codes)
        missing = set(codes) - {p.code for p in found}
        if missing:
            raise PermissionNotFound(field="permissions")
        return [p.id for p in found]

    async def create_role(
        self,
        session: AsyncSession,
        *,
        code: str,
        name: str,
        audience: str,
        description: str | None,
        permissions: Sequence[str],
        ceiling: Effective | None,
        by_staff_id: int | None = None,
    ) -> RoleView:
        """Raises RoleCodeTaken, PermissionNotFound, or PrivilegeExceeded when `ceiling` does
        not hold every permission of the role."""
        if await repository.role_by_code(session, code) is not None:
            raise RoleCodeTaken()
        permission_ids = await self._permission_ids(session, permissions)
        within(ceiling, codes_in(permissions))
        now = clock.now()
        role = Role(
            code=code,
            name=name,
            audience=audience,
            description=description,
            status=Status.ACTIVE,
            created_at=now,
            updated_at=now,
        )
        try:
            await repository.add(session, role)
        except IntegrityError:
            raise RoleCodeTaken() from None
        await repository.replace_role_permissions(session, role.id, permission_ids, now)
        await self.changes.role_changed(session, "created", role, by=by_staff_id)
        await self.permissions.changed(session)
        return RoleView.of(role, sorted(permissions))

    async def update_role(
        self,
        session: AsyncSession,
        role_id: int,
        changes: Mapping[str, Any],
        permissions: Sequence[str] | None,
        *,
        ceiling: Effective | None,
        by_staff_id: int | None = None,
    ) -> RoleView:
        """Rename, enable/disable, or replace the role's permissions; an `access.role_changed`
        event for what changed (`updated`, `permissions_changed`; nothing: none). Raises
        RoleNotFound, PermissionNotFound, or PrivilegeExceeded when `ceiling` does not hold
        every permission the role has or is given."""
        role = await repository.get_role(session, role_id)
        if role is None:
            raise RoleNotFound()
        current = (await repository.role_permission_codes(session, [role.id]))[role.id]
        within(ceiling, codes_in(current))
        is_updated = any(getattr(role, key) != value for key, value in changes.items())
        for key, value in changes.items():
            setattr(role, key, value)
        role.updated_at = clock.now()
        if permissions is not None:
            ids = await self._permission_ids(session, permissions)
            within(ceiling, codes_in(permissions))
            await repository.replace_role_permissions(session, role.id, ids, clock.now())
        await session.flush()
        if is_updated:
            await self.changes.role_changed(session, "updated", role, by=by_staff_id)
        if permissions is not None and set(permissions) != set(current):
            await self.changes.role_changed(session, "permissions_changed", role, by=by_staff_id)
        await self.permissions.changed(session)
        held = await repository.role_permission_codes(session, [role.id])
        return RoleView.of(role, held[role.id])

    # --- grants -------------------------------------------------------------------------------

    async def grants_of(self, session: AsyncSession, subject: Subject) -> list[GrantView]:
        roles = {r.id: r.code for r in await repository.all_roles(session)}
        return [
            GrantView.of(g, roles.get(g.role_id, ""))
            for g in await repository.grants_of(session, subject.type, subject.id)
        ]

    async def grant(
        self,
        session: AsyncSession,
        *,
        subject: Subject,
        role_code: str,
        scope: Scope | None = None,
        granted_by: int | None = None,
        ceiling: Effective | None,
        announce: bool = True,
    ) -> GrantView:
        """Give a role, everywhere or in one scope, to an active user or staff account of the
        role's audience; with its event (`access.grant_changed` for a user,
        `staff.roles_changed` for staff) unless not `announce` (a new staff account's
        `staff.created` names its roles). Raises RoleNotFound, ScopeInvalid, UserNotFound,
        StaffNotFound, RoleAudienceMismatch, GrantExists, or PrivilegeExceeded when `ceiling`
        does not hold the role's permissions there (or, for staff, all the account holds
        already)."""
        role = await repository.role_by_code(session, role_code)
        if role is None:
            raise RoleNotFound(field="role")
        if scope is not None and scope.type not in (ScopeType.AGENCY, ScopeType.MERCHANT):
            raise ScopeInvalid()
        await self._active_subject_or_raise(session, subject)
        if role.audience != subject.type:
            raise RoleAudienceMismatch()
        await self._grant_within(session, ceiling, subject, role.id, scope)
        scope_type, scope_id = (scope.type, scope.id) if scope else ("", 0)
        if await repository.find_grant(
            session, subject.type, subject.id, role.id, scope_type, scope_id
        ):
            raise GrantExists()
        row = Grant(
            subject_type=subject.type,
            subject_id=subject.id,
            role_id=role.id,
            scope_type=scope_type,
            scope_id=scope_id,
            granted_by=granted_by,
            created_at=clock.now(),
        )
        try:
            await repository.add(session, row)
        except IntegrityError:
            raise GrantExists() from None
        if announce:
            await self.changes.grant_changed(
                session, row, role.code, action="granted", by=granted_by
            )
        await self.permissions.changed(session)
        return GrantView.of(row, role.code)

    async def revoke(
        self,
        session: AsyncSession,
        grant_id: int,
        *,
        ceiling: Effective | None,
        revoked_by: int | None = None,
    ) -> None:
        """Take a grant back. Raises GrantNotFound, or PrivilegeExceeded when `ceiling` does
        not hold the role's permissions there (or, for staff, all the account holds)."""
        row = await repository.get_grant(session, grant_id)
        if row is None:
            raise GrantNotFound()
        scope = Scope(row.scope_type, row.scope_id) if row.scope_type else None
        subject = Subject(row.subject_type, row.subject_id)
        await self._grant_within(session, ceiling, subject, row.role_id, scope)
        if not await repository.delete_grant(session, grant_id):
            raise GrantNotFound()
        role = await repository.get_role(session, row.role_id)
        code = role.code if role is not None else ""
        await self.changes.grant_changed(session, row, code, action="revoked", by=revoked_by)
        await self.permissions.changed(session)

    async def _active_subject_or_raise(self, session: AsyncSession, subject: Subject) -> None:
        """UserNotFound or StaffNotFound unless the subject exists and is active."""
        if subject.type == SubjectType.STAFF:
            if await repository.staff_status(session, subject.id) != Status.ACTIVE:
                raise StaffNotFound(field="subject")
            return
        if self.identity is None:
            raise RuntimeError("granting roles to users needs the identity service")
        if not await self.identity.is_active_user(session, subject.id):
            raise UserNotFound(field="subject")

    async def _grant_within(
        self,
        session: AsyncSession,
        ceiling: Effective | None,
        subject: Subject,
        role_id: int,
        scope: Scope | None,
    ) -> None:
        """Granting or revoking a role is giving or taking its permissions (in the scope):
        `ceiling` must hold them, and hold all a staff subject holds already."""
        if ceiling is None:
            return
        codes = (await repository.role_permission_codes(session, [role_id]))[role_id]
        within(ceiling, codes_in(codes, scope))
        if subject.type == SubjectType.STAFF:
            await self.permissions.staff_within(session, subject.id, ceiling)
