"""Routes of the access module: staff login and TOTP, staff accounts, roles, permissions,
grants, the staff view of users, the admin log (`/v1/admin/…`, staff tokens), and permission
checks for the other services of the business (`/v1/authz/…`, service credentials)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from usercenter.access.auth import (
    CurrentStaff,
    Permissions,
    Rbac,
    StaffAccounts,
    StaffActor,
    StaffAuth,
    StaffLoginAudit,
    StaffUsers,
    StaffWith,
)
from usercenter.access.errors import ScopeInvalid
from usercenter.access.schemas import (
    AdminLoginEventOut,
    AdminLoginEventPage,
    AdminLogOut,
    AdminLogPage,
    AdminUserDetailOut,
    AdminUserOut,
    AdminUserPage,
    CheckBatchIn,
    CheckBatchOut,
    CheckOut,
    GrantIn,
    GrantOut,
    Int32Id,
    MenuOut,
    PermissionCreateIn,
    PermissionOut,
    PermissionUpdateIn,
    RecoveryCodesOut,
    RoleCreateIn,
    RoleOut,
    RoleUpdateIn,
    SessionsRevokedOut,
    StaffCreateIn,
    StaffLoginIn,
    StaffLoginOut,
    StaffMeOut,
    StaffOut,
    StaffPage,
    StaffStatusIn,
    SubjectPermissionsOut,
    TotpConfirmIn,
    TotpEnrolmentOut,
)
from usercenter.access.service.permissions import Scope, Subject
from usercenter.audit import service as audit_service
from usercenter.audit.schemas import ProfileChangeOut, ProfileChangePage
from usercenter.deps import Client, ReadSession, ServiceCaller, WriteSession
from usercenter.kit.errors import ValidationFailed
from usercenter.kit.pagination import MAX_PAGE_SIZE
from usercenter.kit.schemas import Id, optional_body

router = APIRouter(tags=["access"])

Cursor = Annotated[str | None, Query(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]


def _scope(scope_type: str | None, scope_id: int | None) -> Scope | None:
    if scope_type is None and scope_id is None:
        return None
    if scope_type is None or scope_id is None:
        raise ScopeInvalid()
    return Scope(scope_type, scope_id)


def _subject(text: str, field: str = "subject") -> Subject:
    subject = Subject.parse(text)
    if subject is None:
        raise ValidationFailed(field=field)
    return subject


# --- staff login and the staff member's own account -------------------------------------------


@router.post("/v1/admin/auth/login", summary="Staff login: password, then TOTP or a recovery code")
async def staff_login(
    body: Annotated[StaffLoginIn, optional_body(StaffLoginIn)],
    auth: StaffAuth,
    audit: StaffLoginAudit,
    session: WriteSession,
    client: Client,
) -> StaffLoginOut:
    result = await auth.login(
        session,
        username=body.username,
        password=body.password,
        totp_code=body.totp_code,
        recovery_code=body.recovery_code,
        client=client,
        audit=audit,
    )
    return StaffLoginOut(
        access_token=result.access_token,
        expires_in=result.expires_in,
        session_id=result.session_id,
        staff=StaffOut.of(result.staff),
        totp_enrolment_required=result.totp_enrolment_required,
    )


@router.post("/v1/admin/auth/logout", status_code=204, summary="End the current staff session")
async def staff_logout(staff: CurrentStaff, auth: StaffAuth, session: WriteSession) -> None:
    await auth.logout(session, staff_id=staff.id, session_id=staff.session_id)


@router.get("/v1/admin/me", summary="The current staff member and the permissions they hold")
async def staff_me(
    staff: CurrentStaff, accounts: StaffAccounts, rbac: Rbac, session: WriteSession
) -> StaffMeOut:
    me = StaffOut.of(await accounts.get_staff_or_raise(session, staff.id))
    held = staff.permissions.held
    menus = await rbac.menus(session, staff.permissions)
    return StaffMeOut(
        **me.model_dump(),
        permissions=sorted(held),
        menus=[MenuOut.of(m) for m in menus],
        scopes={code: sorted(scopes) for code, scopes in sorted(held.items())},
        totp_enrolment_required=staff.enrolment_only,
    )


@router.post("/v1/admin/me/totp", summary="Start authenticator set-up: a provisioning URI")
async def begin_totp(
    staff: CurrentStaff, auth: StaffAuth, session: WriteSession
) -> TotpEnrolmentOut:
    enrolment = await auth.begin_totp(session, staff.id)
    return TotpEnrolmentOut(secret=enrolment.secret, provisioning_uri=enrolment.provisioning_uri)


@router.post(
    "/v1/admin/me/totp/confirm", summary="Confirm the authenticator; recovery codes shown once"
)
async def confirm_totp(
    body: TotpConfirmIn, staff: CurrentStaff, auth: StaffAuth, session: WriteSession
) -> RecoveryCodesOut:
    return RecoveryCodesOut(recovery_codes=await auth.confirm_totp(session, staff.id, body.code))


# --- staff accounts -----------------------------------------------------------------------


StaffManager = Annotated[StaffActor, StaffWith("staff:manage")]
RoleManager = Annotated[StaffActor, StaffWith("role:manage")]


@router.get("/v1/admin/staff", summary="Staff accounts, newest first")
async def list_staff(
    staff: StaffManager,
    accounts: StaffAccounts,
    session: WriteSession,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> StaffPage:
    page = await accounts.list_staff(session, cursor=cursor, limit=limit)
    return StaffPage(items=[StaffOut.of(r) for r in page.items], next_cursor=page.next_cursor)


@router.post("/v1/admin/staff", status_code=201, summary="Create a staff account")
async def create_staff(
    body: StaffCreateIn, staff: StaffManager, accounts: StaffAccounts, session: WriteSession
) -> StaffOut:
    created = await accounts.create_staff(
        session,
        username=body.username,
        password=body.password,
        display_name=body.display_name,
        user_id=body.user_id,
        related_partner_id=body.related_partner_id,
        roles=body.roles,
        created_by=staff.id,
        ceiling=staff.permissions,
    )
    staff.audit.target("staff", created.id)
    return StaffOut.of(created)


@router.post("/v1/admin/staff/{staff_id}/status", summary="Disable (ends sessions) or enable")
async def set_staff_status(
    staff_id: Id,
    body: StaffStatusIn,
    staff: StaffManager,
    accounts: StaffAccounts,
    session: WriteSession,
) -> StaffOut:
    changed = await accounts.set_staff_status(
        session, staff_id, body.status, ceiling=staff.permissions, by_staff_id=staff.id
    )
    return StaffOut.of(changed)


@router.post(
    "/v1/admin/staff/{staff_id}/totp/reset",
    status_code=204,
    summary="Clear a staff member's authenticator (they enrol again)",
)
async def reset_staff_totp(
    staff_id: Id, staff: StaffManager, auth: StaffAuth, session: WriteSession
) -> None:
    await auth.reset_totp(session, staff_id, ceiling=staff.permissions, by_staff_id=staff.id)


# --- permissions, roles, grants -----------------------------------------------------------


@router.get("/v1/admin/permissions", summary="The whole permission tree")
async def list_permissions(
    staff: RoleManager, rbac: Rbac, session: WriteSession
) -> list[PermissionOut]:
    return [PermissionOut.of(n) for n in await rbac.list_permissions(session)]


@router.post("/v1/admin/permissions", status_code=201, summary="Add a menu, button or API node")
async def create_permission(
    body: PermissionCreateIn, staff: RoleManager, rbac: Rbac, session: WriteSession
) -> PermissionOut:
    node = await rbac.create_permission(session, **body.model_dump(), by_staff_id=staff.id)
    staff.audit.target("permission", node.id)
    return PermissionOut.of(node)


@router.patch("/v1/admin/permissions/{permission_id}", summary="Rename, move or disable a node")
async def update_permission(
    permission_id: Int32Id,
    body: Annotated[PermissionUpdateIn, optional_body(PermissionUpdateIn)],
    staff: RoleManager,
    rbac: Rbac,
    session: WriteSession,
) -> PermissionOut:
    node = await rbac.update_permission(
        session,
        permission_id,
        body.model_dump(exclude_unset=True),
        ceiling=staff.permissions,
        by_staff_id=staff.id,
    )
    return PermissionOut.of(node)


@router.get("/v1/admin/roles", summary="Roles and the permissions they hold")
async def list_roles(staff: RoleManager, rbac: Rbac, session: WriteSession) -> list[RoleOut]:
    return [RoleOut.of(role) for role in await rbac.list_roles(session)]


@router.post("/v1/admin/roles", status_code=201, summary="Create a role")
async def create_role(
    body: RoleCreateIn, staff: RoleManager, rbac: Rbac, session: WriteSession
) -> RoleOut:
    role = await rbac.create_role(
        session,
        code=body.code,
        name=body.name,
        audience=body.audience,
        description=body.description,
        permissions=body.permissions,
        ceiling=staff.permissions,
        by_staff_id=staff.id,
    )
    staff.audit.target("role", role.id)
    return RoleOut.of(role)


@router.patch("/v1/admin/roles/{role_id}", summary="Rename, disable, or replace permissions")
async def update_role(
    role_id: Int32Id,
    body: Annotated[RoleUpdateIn, optional_body(RoleUpdateIn)],
    staff: RoleManager,
    rbac: Rbac,
    session: WriteSession,
) -> RoleOut:
    changes = body.model_dump(exclude_unset=True, exclude={"permissions"})
    role = await rbac.update_role(
        session, role_id, changes, body.permissions, ceiling=staff.permissions, by_staff_id=staff.id
    )
    return RoleOut.of(role)


@router.get("/v1/admin/grants", summary="The roles a subject holds")
async def list_grants(
    subject: Annotated[str, Query(pattern=r"^(user|staff):\d+$")],
    staff: RoleManager,
    rbac: Rbac,
    session: WriteSession,
) -> list[GrantOut]:
    return [GrantOut.of(g) for g in await rbac.grants_of(session, _subject(subject))]


@router.post("/v1/admin/grants", status_code=201, summary="Give a role, everywhere or in a scope")
async def create_grant(
    body: GrantIn, staff: RoleManager, rbac: Rbac, session: WriteSession
) -> GrantOut:
    grant = await rbac.grant(
        session,
        subject=_subject(body.subject),
        role_code=body.role,
        scope=_scope(body.scope_type, body.scope_id),
        granted_by=staff.id,
        ceiling=staff.permissions,
    )
    staff.audit.target("grant", grant.id)
    return GrantOut.of(grant)


@router.delete("/v1/admin/grants/{grant_id}", status_code=204, summary="Revoke a grant")
async def revoke_grant(grant_id: Id, staff: RoleManager, rbac: Rbac, session: WriteSession) -> None:
    await rbac.revoke(session, grant_id, ceiling=staff.permissions, revoked_by=staff.id)


# --- users -------------------------------------------------------------------------------


@router.get("/v1/admin/users", summary="Search users by uid, phone (exact), nickname, status")
async def search_users(
    staff: Annotated[StaffActor, StaffWith("user:view")],
    users: StaffUsers,
    session: WriteSession,
    uid: Annotated[str | None, Query(max_length=16)] = None,
    phone: Annotated[str | None, Query(max_length=32)] = None,
    nickname: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> AdminUserPage:
    page = await users.search_users(
        session,
        uid=uid,
        phone=phone,
        nickname=nickname,
        status=status,
        cursor=cursor,
        limit=limit,
    )
    return AdminUserPage(
        items=[AdminUserOut.of(u) for u in page.items], next_cursor=page.next_cursor
    )


@router.get("/v1/admin/users/{user_id}", summary="A user with identities (masked) and sessions")
async def user_detail(
    user_id: Id,
    staff: Annotated[StaffActor, StaffWith("user:view")],
    users: StaffUsers,
    session: WriteSession,
    reveal: Annotated[bool, Query(description="Show identifiers whole (user:pii:view)")] = False,
) -> AdminUserDetailOut:
    detail = await users.user_detail(
        session, effective=staff.permissions, audit=staff.audit, user_id=user_id, reveal=reveal
    )
    return AdminUserDetailOut.of_detail(detail)


@router.get("/v1/admin/users/{user_id}/logins", summary="A user's login history, newest first")
async def user_logins(
    user_id: Id,
    staff: Annotated[StaffActor, StaffWith("user:view")],
    users: StaffUsers,
    session: WriteSession,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> AdminLoginEventPage:
    page = await users.login_history(session, user_id, cursor=cursor, limit=limit)
    return AdminLoginEventPage(
        items=[AdminLoginEventOut.of(e) for e in page.items], next_cursor=page.next_cursor
    )


@router.get("/v1/admin/users/{user_id}/changes", summary="A user's profile changes, newest first")
async def user_changes(
    user_id: Id,
    staff: Annotated[StaffActor, StaffWith("user:view")],
    session: WriteSession,
    cursor: Cursor = None,
    limit: Limit = 20,
    attribute: Annotated[
        str | None,
        Query(max_length=64, description="Only attributes starting with this (`extends.`)"),
    ] = None,
) -> ProfileChangePage:
    staff.audit.target("user", user_id)
    page = await audit_service.profile_changes(
        session, user_id, cursor=cursor, limit=limit, attribute=attribute
    )
    return ProfileChangePage(
        items=[ProfileChangeOut.of(change) for change in page.items],
        next_cursor=page.next_cursor,
    )


@router.post(
    "/v1/admin/users/{user_id}/sessions/revoke", summary="End every session of a user (logged)"
)
async def revoke_user_sessions(
    user_id: Id,
    staff: Annotated[StaffActor, StaffWith("user:disable")],
    users: StaffUsers,
    session: WriteSession,
) -> SessionsRevokedOut:
    ended = await users.end_sessions(session, user_id)
    staff.audit.notes["sessions_ended"] = ended
    return SessionsRevokedOut(revoked=ended)


@router.post(
    "/v1/admin/users/{user_id}/disable", status_code=204, summary="Disable a user (ends sessions)"
)
async def disable_user(
    user_id: Id,
    staff: Annotated[StaffActor, StaffWith("user:disable")],
    users: StaffUsers,
    session: WriteSession,
) -> None:
    await users.disable_user(session, user_id, by_staff_id=staff.id)


@router.post("/v1/admin/users/{user_id}/enable", summary="Enable a disabled user")
async def enable_user(
    user_id: Id,
    staff: Annotated[StaffActor, StaffWith("user:disable")],
    users: StaffUsers,
    session: WriteSession,
) -> AdminUserOut:
    return AdminUserOut.of(await users.enable_user(session, user_id, by_staff_id=staff.id))


@router.delete(
    "/v1/admin/users/{user_id}/identities/{identity_id}",
    status_code=204,
    summary="Unbind an identity of a user who lost access to it",
)
async def unbind_identity(
    user_id: Id,
    identity_id: Id,
    staff: Annotated[StaffActor, StaffWith("user:identity:unbind")],
    users: StaffUsers,
    session: WriteSession,
) -> None:
    await users.unbind_identity(session, user_id, identity_id, staff.client, by_staff_id=staff.id)


# --- the admin log ------------------------------------------------------------------------


@router.get("/v1/admin/audit-log", summary="Staff actions, newest first (read only)")
async def audit_log(
    staff: Annotated[StaffActor, StaffWith("audit:view")],
    session: WriteSession,
    cursor: Cursor = None,
    limit: Limit = 20,
    staff_id: Id | None = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    target_type: Annotated[str | None, Query(max_length=32)] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    changes_only: Annotated[
        bool,
        Query(
            description="Leave out the reads that went through (not the reveals of personal "
            "data): what changed, what was refused, who saw what"
        ),
    ] = False,
) -> AdminLogPage:
    page = await audit_service.admin_log(
        session,
        cursor=cursor,
        limit=limit,
        staff_id=staff_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        since=since,
        until=until,
        changes_only=changes_only,
    )
    return AdminLogPage(items=[AdminLogOut.of(e) for e in page.items], next_cursor=page.next_cursor)


# --- checks for other services ------------------------------------------------------------


@router.post("/v1/authz/check", summary="Allow or deny each (subject, permission, scope)")
async def check(body: CheckBatchIn, _: ServiceCaller, access: Permissions) -> CheckBatchOut:
    subjects = [_subject(item.subject) for item in body.checks]
    effective = await access.effective_many(subjects)
    return CheckBatchOut(
        results=[
            CheckOut(
                allowed=effective[subject.key()].allows(
                    item.permission, _scope(item.scope_type, item.scope_id)
                )
            )
            for subject, item in zip(subjects, body.checks, strict=True)
        ]
    )


@router.get(
    "/v1/authz/subjects/{subject}/permissions",
    summary="A subject's permission codes and menu/button tree (dynamic routes)",
)
async def subject_permissions(
    subject: str, _: ServiceCaller, access: Permissions, rbac: Rbac, session: ReadSession
) -> SubjectPermissionsOut:
    parsed = _subject(subject)
    effective = await access.effective(parsed)
    tree = await rbac.permission_tree(session, parsed)
    return SubjectPermissionsOut(
        subject=parsed.key(),
        codes={code: sorted(scopes) for code, scopes in effective.held.items()},
        tree=[PermissionOut.of(n) for n in tree],
    )
