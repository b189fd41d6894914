"""Routes of the access module: staff login and TOTP, staff accounts, roles, permissions,
grants, the admin log (`/v1/admin/…`, staff tokens), and permission checks for the other
services of the business (`/v1/authz/…`, service credentials)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from usercenter.access.auth import Access, CurrentStaff, StaffActor, StaffWith
from usercenter.access.errors import ScopeInvalid
from usercenter.access.models import Grant, Role, StaffAccount, Status
from usercenter.access.schemas import (
    AdminIdentityOut,
    AdminLoginEventOut,
    AdminLogOut,
    AdminLogPage,
    AdminSessionOut,
    AdminUserDetailOut,
    AdminUserOut,
    AdminUserPage,
    CheckBatchIn,
    CheckBatchOut,
    CheckOut,
    GrantIn,
    GrantOut,
    Int32Id,
    PermissionCreateIn,
    PermissionOut,
    PermissionUpdateIn,
    RecoveryCodesOut,
    RoleCreateIn,
    RoleOut,
    RoleUpdateIn,
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
from usercenter.access.service import PermissionNode, Scope, Subject
from usercenter.audit import service as audit_service
from usercenter.audit.models import AdminLog
from usercenter.deps import Client, ReadSession, ServiceCaller, WriteSession
from usercenter.identity.api import Accounts
from usercenter.identity.views import UserSummary
from usercenter.kit.errors import ValidationFailed
from usercenter.kit.pagination import MAX_PAGE_SIZE, decode_cursor, encode_cursor
from usercenter.kit.schemas import Id, optional_body

router = APIRouter(tags=["access"])


def _staff_out(staff: StaffAccount) -> StaffOut:
    return StaffOut(
        id=str(staff.id),
        username=staff.username,
        display_name=staff.display_name,
        status=Status(staff.status),
        totp_enabled=staff.totp_enabled_at is not None,
        user_id=str(staff.user_id) if staff.user_id is not None else None,
        related_partner_id=(
            str(staff.related_partner_id) if staff.related_partner_id is not None else None
        ),
        last_login_at=staff.last_login_at,
        last_login_ip=staff.last_login_ip,
        created_at=staff.created_at,
    )


def _node_out(node: PermissionNode) -> PermissionOut:
    return PermissionOut(
        id=node.id,
        code=node.code,
        name=node.name,
        kind=node.kind,
        path=node.path,
        sort_order=node.sort_order,
        status=node.status,
        scopes=node.scopes,
        children=[_node_out(child) for child in node.children],
    )


def _role_out(role: Role, permissions: list[str]) -> RoleOut:
    return RoleOut(
        id=role.id,
        code=role.code,
        name=role.name,
        audience=role.audience,
        description=role.description,
        status=role.status,
        permissions=permissions,
    )


def _grant_out(grant: Grant, role_code: str) -> GrantOut:
    return GrantOut(
        id=str(grant.id),
        subject=f"{grant.subject_type}:{grant.subject_id}",
        role=role_code,
        scope_type=grant.scope_type or None,
        scope_id=str(grant.scope_id) if grant.scope_type else None,
        created_at=grant.created_at,
    )


def _log_out(row: AdminLog) -> AdminLogOut:
    return AdminLogOut(
        id=str(row.id),
        staff_id=str(row.staff_id) if row.staff_id is not None else None,
        username=row.username,
        action=row.action,
        module=row.module,
        method=row.method,
        path=row.path,
        target_type=row.target_type,
        target_id=row.target_id,
        request=row.request,
        result=row.result,
        ip=row.ip,
        user_agent=row.user_agent,
        created_at=row.created_at,
    )


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
    access: Access,
    session: WriteSession,
    client: Client,
) -> StaffLoginOut:
    result = await access.login(
        session,
        username=body.username,
        password=body.password,
        totp_code=body.totp_code,
        recovery_code=body.recovery_code,
        client=client,
    )
    return StaffLoginOut(
        access_token=result.access_token,
        expires_in=result.expires_in,
        session_id=result.session_id,
        staff=_staff_out(result.staff),
        totp_enrolment_required=result.totp_enrolment_required,
    )


@router.post("/v1/admin/auth/logout", status_code=204, summary="End the current staff session")
async def staff_logout(staff: CurrentStaff, access: Access, session: WriteSession) -> None:
    await access.logout(session, staff_id=staff.id, session_id=staff.session_id)


@router.get("/v1/admin/me", summary="The current staff member and the permissions they hold")
async def staff_me(staff: CurrentStaff, access: Access, session: WriteSession) -> StaffMeOut:
    me = _staff_out(await access.get_staff_or_raise(session, staff.id))
    held = staff.permissions.held
    return StaffMeOut(
        **me.model_dump(),
        permissions=sorted(held),
        scopes={code: sorted(scopes) for code, scopes in sorted(held.items())},
        totp_enrolment_required=staff.enrolment_only,
    )


@router.post("/v1/admin/me/totp", summary="Start authenticator set-up: a provisioning URI")
async def begin_totp(
    staff: CurrentStaff, access: Access, session: WriteSession
) -> TotpEnrolmentOut:
    enrolment = await access.begin_totp(session, staff.id)
    return TotpEnrolmentOut(secret=enrolment.secret, provisioning_uri=enrolment.provisioning_uri)


@router.post(
    "/v1/admin/me/totp/confirm", summary="Confirm the authenticator; recovery codes shown once"
)
async def confirm_totp(
    body: TotpConfirmIn, staff: CurrentStaff, access: Access, session: WriteSession
) -> RecoveryCodesOut:
    codes = await access.confirm_totp(session, staff.id, body.code)
    return RecoveryCodesOut(recovery_codes=codes)


# --- staff accounts -----------------------------------------------------------------------


StaffManager = Annotated[StaffActor, StaffWith("staff:manage")]
RoleManager = Annotated[StaffActor, StaffWith("role:manage")]


@router.get("/v1/admin/staff", summary="Staff accounts, newest first")
async def list_staff(
    staff: StaffManager,
    access: Access,
    session: WriteSession,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> StaffPage:
    rows = await access.list_staff(session, before_id=decode_cursor(cursor), limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return StaffPage(
        items=[_staff_out(r) for r in rows],
        next_cursor=encode_cursor(rows[-1].id) if more else None,
    )


@router.post("/v1/admin/staff", status_code=201, summary="Create a staff account")
async def create_staff(
    body: StaffCreateIn, staff: StaffManager, access: Access, session: WriteSession
) -> StaffOut:
    created = await access.create_staff(
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
    staff.audit.target_type, staff.audit.target_id = "staff", str(created.id)
    return _staff_out(created)


@router.post("/v1/admin/staff/{staff_id}/status", summary="Disable (ends sessions) or enable")
async def set_staff_status(
    staff_id: Id, body: StaffStatusIn, staff: StaffManager, access: Access, session: WriteSession
) -> StaffOut:
    return _staff_out(
        await access.set_staff_status(session, staff_id, body.status, ceiling=staff.permissions)
    )


@router.post(
    "/v1/admin/staff/{staff_id}/totp/reset",
    status_code=204,
    summary="Clear a staff member's authenticator (they enrol again)",
)
async def reset_staff_totp(
    staff_id: Id, staff: StaffManager, access: Access, session: WriteSession
) -> None:
    await access.reset_totp(session, staff_id, ceiling=staff.permissions)


# --- permissions, roles, grants -----------------------------------------------------------


@router.get("/v1/admin/permissions", summary="The whole permission tree")
async def list_permissions(
    staff: RoleManager, access: Access, session: WriteSession
) -> list[PermissionOut]:
    return [_node_out(n) for n in await access.list_permissions(session)]


@router.post("/v1/admin/permissions", status_code=201, summary="Add a menu, button or API node")
async def create_permission(
    body: PermissionCreateIn, staff: RoleManager, access: Access, session: WriteSession
) -> PermissionOut:
    row = await access.create_permission(session, **body.model_dump())
    staff.audit.target_type, staff.audit.target_id = "permission", str(row.id)
    return PermissionOut(
        id=row.id,
        code=row.code,
        name=row.name,
        kind=row.kind,
        path=row.path,
        sort_order=row.sort_order,
        status=row.status,
        scopes=[],
        children=[],
    )


@router.patch("/v1/admin/permissions/{permission_id}", summary="Rename, move or disable a node")
async def update_permission(
    permission_id: Int32Id,
    body: Annotated[PermissionUpdateIn, optional_body(PermissionUpdateIn)],
    staff: RoleManager,
    access: Access,
    session: WriteSession,
) -> PermissionOut:
    row = await access.update_permission(
        session, permission_id, body.model_dump(exclude_unset=True), ceiling=staff.permissions
    )
    return PermissionOut(
        id=row.id,
        code=row.code,
        name=row.name,
        kind=row.kind,
        path=row.path,
        sort_order=row.sort_order,
        status=row.status,
        scopes=[],
        children=[],
    )


@router.get("/v1/admin/roles", summary="Roles and the permissions they hold")
async def list_roles(staff: RoleManager, access: Access, session: WriteSession) -> list[RoleOut]:
    return [_role_out(role, held) for role, held in await access.list_roles(session)]


@router.post("/v1/admin/roles", status_code=201, summary="Create a role")
async def create_role(
    body: RoleCreateIn, staff: RoleManager, access: Access, session: WriteSession
) -> RoleOut:
    role, held = await access.create_role(
        session,
        code=body.code,
        name=body.name,
        audience=body.audience,
        description=body.description,
        permissions=body.permissions,
        ceiling=staff.permissions,
    )
    staff.audit.target_type, staff.audit.target_id = "role", str(role.id)
    return _role_out(role, held)


@router.patch("/v1/admin/roles/{role_id}", summary="Rename, disable, or replace permissions")
async def update_role(
    role_id: Int32Id,
    body: Annotated[RoleUpdateIn, optional_body(RoleUpdateIn)],
    staff: RoleManager,
    access: Access,
    session: WriteSession,
) -> RoleOut:
    changes = body.model_dump(exclude_unset=True, exclude={"permissions"})
    role, held = await access.update_role(
        session, role_id, changes, body.permissions, ceiling=staff.permissions
    )
    return _role_out(role, held)


@router.get("/v1/admin/grants", summary="The roles a subject holds")
async def list_grants(
    subject: Annotated[str, Query(pattern=r"^(user|staff):\d+$")],
    staff: RoleManager,
    access: Access,
    session: WriteSession,
) -> list[GrantOut]:
    return [_grant_out(g, code) for g, code in await access.grants_of(session, _subject(subject))]


@router.post("/v1/admin/grants", status_code=201, summary="Give a role, everywhere or in a scope")
async def create_grant(
    body: GrantIn, staff: RoleManager, access: Access, session: WriteSession
) -> GrantOut:
    grant = await access.grant(
        session,
        subject=_subject(body.subject),
        role_code=body.role,
        scope=_scope(body.scope_type, body.scope_id),
        granted_by=staff.id,
        ceiling=staff.permissions,
    )
    staff.audit.target_type, staff.audit.target_id = "grant", str(grant.id)
    return _grant_out(grant, body.role)


@router.delete("/v1/admin/grants/{grant_id}", status_code=204, summary="Revoke a grant")
async def revoke_grant(
    grant_id: Id, staff: RoleManager, access: Access, session: WriteSession
) -> None:
    await access.revoke(session, grant_id, ceiling=staff.permissions)


# --- users -------------------------------------------------------------------------------


def _user_out(user: UserSummary) -> AdminUserOut:
    return AdminUserOut(
        id=str(user.id),
        uid=user.uid,
        nickname=user.nickname,
        status=user.status,
        created_at=user.created_at,
    )


@router.get("/v1/admin/users", summary="Search users by uid, phone (exact), nickname, status")
async def search_users(
    staff: Annotated[StaffActor, StaffWith("user:view")],
    identity: Accounts,
    session: WriteSession,
    uid: Annotated[str | None, Query(max_length=16)] = None,
    phone: Annotated[str | None, Query(max_length=32)] = None,
    nickname: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> AdminUserPage:
    page = await identity.search_users(
        session,
        uid=uid,
        phone=phone,
        nickname=nickname,
        status=status,
        cursor=cursor,
        limit=limit,
    )
    return AdminUserPage(items=[_user_out(u) for u in page.items], next_cursor=page.next_cursor)


@router.get("/v1/admin/users/{user_id}", summary="A user with identities (masked) and sessions")
async def user_detail(
    user_id: Id,
    staff: Annotated[StaffActor, StaffWith("user:view")],
    access: Access,
    identity: Accounts,
    session: WriteSession,
    reveal: Annotated[bool, Query(description="Show identifiers whole (user:pii:view)")] = False,
) -> AdminUserDetailOut:
    shown_ip, shown_device_id = access.shown_ip, access.shown_device_id
    detail = await access.user_detail(
        session,
        identity,
        effective=staff.permissions,
        audit=staff.audit,
        user_id=user_id,
        reveal=reveal,
    )
    return AdminUserDetailOut(
        **_user_out(detail.user).model_dump(),
        identities=[
            AdminIdentityOut(
                id=str(i.id),
                type=i.type,
                provider=i.provider,
                identifier=i.identifier,
                created_at=i.created_at,
            )
            for i in detail.identities
        ],
        live_sessions=len(detail.sessions),
        sessions=[
            AdminSessionOut(
                id=row.id,
                platform=row.platform,
                login_method=row.login_method,
                device_id=shown_device_id(row.device_id, reveal=reveal),
                device_name=row.device_name,
                os_name=row.os_name,
                client_version=row.client_version,
                ip=shown_ip(row.ip, reveal=reveal),
                created_at=row.created_at,
                last_active_at=row.last_active_at,
                expires_at=row.expires_at,
            )
            for row in detail.sessions
        ],
        recent_logins=[
            AdminLoginEventOut(
                id=str(event.id),
                kind=event.kind,
                method=event.method,
                reason=event.reason,
                platform=event.platform,
                device_id=shown_device_id(event.device_id, reveal=reveal),
                os_name=event.os_name,
                ip=shown_ip(event.ip, reveal=reveal),
                created_at=event.created_at,
            )
            for event in detail.logins
        ],
        pii_revealed=reveal,
    )


@router.post(
    "/v1/admin/users/{user_id}/disable", status_code=204, summary="Disable a user (ends sessions)"
)
async def disable_user(
    user_id: Id,
    staff: Annotated[StaffActor, StaffWith("user:disable")],
    identity: Accounts,
    session: WriteSession,
) -> None:
    await identity.disable_user(session, user_id)


@router.post("/v1/admin/users/{user_id}/enable", summary="Enable a disabled user")
async def enable_user(
    user_id: Id,
    staff: Annotated[StaffActor, StaffWith("user:disable")],
    identity: Accounts,
    session: WriteSession,
) -> AdminUserOut:
    return _user_out(await identity.enable_user(session, user_id))


@router.delete(
    "/v1/admin/users/{user_id}/identities/{identity_id}",
    status_code=204,
    summary="Unbind an identity of a user who lost access to it",
)
async def unbind_identity(
    user_id: Id,
    identity_id: Id,
    staff: Annotated[StaffActor, StaffWith("user:identity:unbind")],
    identity: Accounts,
    session: WriteSession,
) -> None:
    await identity.unbind_for_staff(session, user_id, identity_id, staff.client)


# --- the admin log ------------------------------------------------------------------------


@router.get("/v1/admin/audit-log", summary="Staff actions, newest first (read only)")
async def audit_log(
    staff: Annotated[StaffActor, StaffWith("audit:view")],
    session: WriteSession,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    staff_id: Id | None = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    target_type: Annotated[str | None, Query(max_length=32)] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
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
    )
    return AdminLogPage(items=[_log_out(r) for r in page.items], next_cursor=page.next_cursor)


# --- checks for other services ------------------------------------------------------------


@router.post("/v1/authz/check", summary="Allow or deny each (subject, permission, scope)")
async def check(body: CheckBatchIn, _: ServiceCaller, access: Access) -> CheckBatchOut:
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
    subject: str, _: ServiceCaller, access: Access, session: ReadSession
) -> SubjectPermissionsOut:
    parsed = _subject(subject)
    effective = await access.effective(parsed)
    tree = await access.permission_tree(session, parsed)
    return SubjectPermissionsOut(
        subject=parsed.key(),
        codes={code: sorted(scopes) for code, scopes in effective.held.items()},
        tree=[_node_out(n) for n in tree],
    )
