"""API shapes of the access module."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, TypeVar

from annotated_types import Ge, Le
from pydantic import AfterValidator, Field

from usercenter.access.models import PermissionKind, RoleAudience, ScopeType, Status
from usercenter.kit.schemas import MAX_INT64, Id, Schema

if TYPE_CHECKING:
    from usercenter.access.models import StaffAccount
    from usercenter.access.service.rbac import GrantView, MenuNode, PermissionNode, RoleView
    from usercenter.access.service.staff_users import StaffUserDetail
    from usercenter.audit.service import AdminLogEntry, LoginEventView
    from usercenter.identity.views import IdentityRecord, UserSummary
    from usercenter.tokens.service import SessionView

# Roles and permissions have INTEGER ids and sort orders (a larger number is a 422, not an
# overflow inside the driver).
MAX_INT32 = 2**31 - 1
Int32Id = Annotated[int, Ge(1), Le(MAX_INT32)]
SortOrder = Annotated[int, Ge(-MAX_INT32), Le(MAX_INT32)]


M = TypeVar("M", bound=Schema)


def from_view(model: type[M], view: object, *ids: str) -> M:
    """`model` from the like-named attributes of a service's view, the attributes named in
    `ids` (BIGINT ids) as strings, as the API shows every such id."""
    values = {name: getattr(view, name) for name in model.model_fields if hasattr(view, name)}
    for name in ids:
        if values.get(name) is not None:
            values[name] = str(values[name])
    return model.model_validate(values)


def _subject_id_in_range(text: str) -> str:
    if not 1 <= int(text.rpartition(":")[2]) <= MAX_INT64:
        raise ValueError(f"the id must be between 1 and {MAX_INT64}")
    return text


# `user:<id>` or `staff:<id>` (a bare id is a user in checks), the id a BIGINT.
GrantSubject = Annotated[
    str,
    Field(pattern=r"^(user|staff):\d{1,19}$", description="user:<id> or staff:<id>"),
    AfterValidator(_subject_id_in_range),
]
CheckSubject = Annotated[
    str,
    Field(pattern=r"^((user|staff):)?\d{1,19}$", description="user:<id>, staff:<id>"),
    AfterValidator(_subject_id_in_range),
]


class StaffLoginIn(Schema):
    # Optional on purpose: an empty login is a 401 like a wrong one, not a 422.
    username: str = Field(default="", max_length=64, description="Staff username")
    password: str = Field(default="", max_length=128, description="Password")
    totp_code: str | None = Field(default=None, max_length=6, description="Authenticator code")
    recovery_code: str | None = Field(
        default=None, max_length=32, description="A one-time recovery code instead of the code"
    )


class StaffOut(Schema):
    id: str = Field(description="Staff id")
    username: str = Field(description="Login name")
    display_name: str | None = Field(description="Shown name")
    status: Status = Field(description="active or disabled")
    totp_enabled: bool = Field(description="Whether a second factor is set up")
    user_id: str | None = Field(description="The linked user, if any")
    related_partner_id: str | None = Field(description="The partner this account belongs to")
    last_login_at: datetime | None = Field(description="Last successful login")
    last_login_ip: str | None = Field(description="Address of the last login")
    created_at: datetime = Field(description="When the account was made")

    @classmethod
    def of(cls, staff: StaffAccount) -> StaffOut:
        return cls(
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


class MenuOut(Schema):
    code: str = Field(description="Menu permission code, e.g. menu:user")
    name: str = Field(description="Shown name (the console translates by code)")
    path: str | None = Field(description="Front-end route, e.g. /users")
    sort: int = Field(description="Order among siblings (ascending)")
    children: list[MenuOut] = Field(description="Menus under this one the caller holds")

    @classmethod
    def of(cls, node: MenuNode) -> MenuOut:
        return cls(
            code=node.code,
            name=node.name,
            path=node.path,
            sort=node.sort_order,
            children=[cls.of(child) for child in node.children],
        )


class StaffMeOut(StaffOut):
    permissions: list[str] = Field(description="Permission codes the caller holds")
    menus: list[MenuOut] = Field(
        description="The menus of the permission tree the caller holds, nested, sorted"
    )
    scopes: dict[str, list[str]] = Field(
        description="Where each is held: `*` everywhere, else `merchant:7`, `agency:3`…"
    )
    totp_enrolment_required: bool = Field(
        description="This session proved only the password: it may set up the authenticator "
        "(/v1/admin/me/totp), then log in again with a code; other routes answer 403"
    )


class StaffLoginOut(Schema):
    access_token: str = Field(description="Bearer token for /v1/admin routes")
    token_type: str = Field(default="Bearer", description="Always Bearer")
    expires_in: int = Field(description="Seconds the session lasts (no refresh)")
    session_id: str = Field(description="The session, for logout")
    staff: StaffOut = Field(description="Who logged in")
    totp_enrolment_required: bool = Field(
        description="true: set up the authenticator (/v1/admin/me/totp, then …/confirm) and "
        "log in again with its code; until then other staff routes answer 403"
    )


class TotpEnrolmentOut(Schema):
    secret: str = Field(description="Base32 secret, for typing in by hand")
    provisioning_uri: str = Field(description="otpauth:// URI to show as a QR code")


class TotpConfirmIn(Schema):
    code: str = Field(min_length=6, max_length=6, description="The code the app shows now")


class RecoveryCodesOut(Schema):
    recovery_codes: list[str] = Field(description="One-time codes, shown this once")


class StaffCreateIn(Schema):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=1, max_length=128, description="Initial password")
    display_name: str | None = Field(default=None, max_length=64, description="Shown name")
    user_id: Id | None = Field(default=None, description="Link to a user")
    related_partner_id: Id | None = Field(default=None, description="Link to a partner")
    roles: list[str] = Field(default_factory=list, description="Role codes held everywhere")


class StaffStatusIn(Schema):
    status: Status = Field(description="active or disabled (ends every session)")


class StaffPage(Schema):
    items: list[StaffOut] = Field(description="Staff accounts, newest first")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")


class PermissionOut(Schema):
    id: int = Field(description="Permission id")
    code: str = Field(description="Unique code, e.g. user:view")
    name: str = Field(description="Shown name")
    kind: str = Field(description="menu, button or api")
    path: str | None = Field(description="Front-end route of a menu")
    sort_order: int = Field(description="Order among siblings")
    status: str = Field(description="active or disabled")
    scopes: list[str] = Field(description="Where the subject holds it: * or merchant:7")
    children: list[PermissionOut] = Field(description="Nodes under this one")

    @classmethod
    def of(cls, node: PermissionNode) -> PermissionOut:
        return cls(
            id=node.id,
            code=node.code,
            name=node.name,
            kind=node.kind,
            path=node.path,
            sort_order=node.sort_order,
            status=node.status,
            scopes=node.scopes,
            children=[cls.of(child) for child in node.children],
        )


class PermissionCreateIn(Schema):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_:.-]+$")
    name: str = Field(min_length=1, max_length=64, description="Shown name")
    kind: PermissionKind = Field(description="menu, button or api")
    parent_id: Int32Id | None = Field(default=None, description="Parent node")
    path: str | None = Field(default=None, max_length=200, description="Front-end route")
    sort_order: SortOrder = Field(default=0, description="Order among siblings")
    description: str | None = Field(default=None, max_length=200, description="What it allows")


class PermissionUpdateIn(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=64, description="Name")
    path: str | None = Field(default=None, max_length=200, description="Front-end route")
    sort_order: SortOrder | None = Field(default=None, description="Order among siblings")
    status: Status | None = Field(default=None, description="active or disabled")


class RoleOut(Schema):
    id: int = Field(description="Role id")
    code: str = Field(description="Unique code")
    name: str = Field(description="Shown name")
    audience: str = Field(description="user or staff")
    description: str | None = Field(description="What the role is for")
    status: str = Field(description="active or disabled")
    permissions: list[str] = Field(description="Permission codes the role holds")

    @classmethod
    def of(cls, role: RoleView) -> RoleOut:
        return from_view(cls, role)


class RoleCreateIn(Schema):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    name: str = Field(min_length=1, max_length=64, description="Shown name")
    audience: RoleAudience = Field(default=RoleAudience.STAFF, description="user or staff")
    description: str | None = Field(default=None, max_length=200, description="What it is for")
    permissions: list[str] = Field(default_factory=list, description="Permission codes")


class RoleUpdateIn(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=64, description="Name")
    description: str | None = Field(default=None, max_length=200, description="Description")
    status: Status | None = Field(default=None, description="active or disabled")
    permissions: list[str] | None = Field(default=None, description="Replace the permissions")


class GrantIn(Schema):
    subject: GrantSubject
    role: str = Field(min_length=1, max_length=64, description="Role code")
    scope_type: ScopeType | None = Field(default=None, description="agency or merchant")
    scope_id: Id | None = Field(default=None, description="The agency or merchant id")


class GrantOut(Schema):
    id: str = Field(description="Grant id")
    subject: str = Field(description="user:<id> or staff:<id>")
    role: str = Field(description="Role code")
    scope_type: str | None = Field(description="agency, merchant or none (everywhere)")
    scope_id: str | None = Field(description="The scope's id")
    created_at: datetime = Field(description="When it was given")

    @classmethod
    def of(cls, grant: GrantView) -> GrantOut:
        return cls(
            id=str(grant.id),
            subject=grant.subject.key(),
            role=grant.role,
            scope_type=grant.scope.type if grant.scope else None,
            scope_id=str(grant.scope.id) if grant.scope else None,
            created_at=grant.created_at,
        )


class CheckIn(Schema):
    subject: CheckSubject
    permission: str = Field(min_length=1, max_length=64, description="Permission code")
    scope_type: ScopeType | None = Field(default=None, description="agency or merchant")
    scope_id: Id | None = Field(default=None, description="The object's agency/merchant id")


class CheckBatchIn(Schema):
    checks: list[CheckIn] = Field(min_length=1, max_length=200, description="Up to 200 checks")


class CheckOut(Schema):
    allowed: bool = Field(description="Whether the subject may")


class CheckBatchOut(Schema):
    results: list[CheckOut] = Field(description="One answer per check, in order")


class SubjectPermissionsOut(Schema):
    subject: str = Field(description="user:<id> or staff:<id>")
    codes: dict[str, list[str]] = Field(description="Code -> scopes (* or merchant:7)")
    tree: list[PermissionOut] = Field(description="Menus and buttons, for dynamic routes")


class AdminLogOut(Schema):
    id: str = Field(description="Entry id")
    staff_id: str | None = Field(description="Who")
    username: str | None = Field(description="Their username")
    action: str = Field(description="What, e.g. user.disable_user")
    module: str = Field(description="Area")
    method: str = Field(description="HTTP method")
    path: str = Field(description="Route template")
    target_type: str | None = Field(description="Kind of object acted on")
    target_id: str | None = Field(description="Its id")
    request: str | None = Field(description="Masked copy of the request (JSON)")
    result: str = Field(description="ok, denied, failed or an error code")
    ip: str | None = Field(description="Caller address")
    user_agent: str | None = Field(description="Caller user agent")
    created_at: datetime = Field(description="When")

    @classmethod
    def of(cls, entry: AdminLogEntry) -> AdminLogOut:
        return from_view(cls, entry, "id", "staff_id")


class AdminLogPage(Schema):
    items: list[AdminLogOut] = Field(description="Entries, newest first")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")


class AdminIdentityOut(Schema):
    id: str = Field(description="Identity id (for unbinding)")
    type: str = Field(description="phone, email, username, wechat_miniapp…")
    provider: str = Field(description="Who issued it")
    identifier: str = Field(description="Masked unless the caller holds user:pii:view and asked")
    created_at: datetime = Field(description="When it was bound")

    @classmethod
    def of(cls, identity: IdentityRecord) -> AdminIdentityOut:
        return from_view(cls, identity, "id")


class AdminUserOut(Schema):
    id: str = Field(description="Internal user id")
    uid: str = Field(description="Display uid")
    nickname: str | None = Field(description="Nickname")
    status: str = Field(description="active, disabled or deleted")
    created_at: datetime = Field(description="Registration time")

    @classmethod
    def of(cls, user: UserSummary) -> AdminUserOut:
        return from_view(cls, user, "id")


class AdminUserPage(Schema):
    items: list[AdminUserOut] = Field(description="Users, newest first")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")


class AdminSessionOut(Schema):
    id: str = Field(description="Session id")
    platform: str = Field(description="APP, WEB, MINI_PROGRAM…")
    login_method: str = Field(description="How the session was opened")
    device_id: str | None = Field(description="Device id, masked unless revealed")
    device_name: str | None = Field(description="Device name the client sent")
    os_name: str | None = Field(description="Operating system")
    client_version: str | None = Field(description="Client version")
    ip: str | None = Field(description="Address of the login, masked unless revealed")
    created_at: datetime = Field(description="When the session began")
    last_active_at: datetime = Field(description="Last use")
    expires_at: datetime = Field(description="When it ends by itself")

    @classmethod
    def of(cls, session: SessionView) -> AdminSessionOut:
        return from_view(cls, session)


class AdminLoginEventOut(Schema):
    id: str = Field(description="Event id")
    kind: str = Field(description="register, login, login_failed or logout")
    method: str | None = Field(description="Login method")
    reason: str | None = Field(description="Why a login failed")
    platform: str | None = Field(description="Platform")
    device_id: str | None = Field(description="Device id, masked unless revealed")
    os_name: str | None = Field(description="Operating system")
    ip: str | None = Field(description="Address, masked unless revealed")
    created_at: datetime = Field(description="When it happened")

    @classmethod
    def of(cls, event: LoginEventView) -> AdminLoginEventOut:
        return from_view(cls, event, "id")


class AdminLoginEventPage(Schema):
    items: list[AdminLoginEventOut] = Field(description="Events, newest first")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")


class SessionsRevokedOut(Schema):
    revoked: int = Field(description="How many live sessions were ended")


class AdminUserDetailOut(AdminUserOut):
    identities: list[AdminIdentityOut] = Field(description="Ways to log in")
    live_sessions: int = Field(description="Sessions not ended")
    sessions: list[AdminSessionOut] = Field(description="The live sessions, newest first")
    recent_logins: list[AdminLoginEventOut] = Field(
        description="The latest registrations, logins, failed logins and logouts, newest first"
    )
    pii_revealed: bool = Field(description="Whether identifiers are shown whole (logged)")

    @classmethod
    def of_detail(cls, detail: StaffUserDetail) -> AdminUserDetailOut:
        return cls(
            **AdminUserOut.of(detail.user).model_dump(),
            identities=[AdminIdentityOut.of(i) for i in detail.identities],
            live_sessions=len(detail.sessions),
            sessions=[AdminSessionOut.of(s) for s in detail.sessions],
            recent_logins=[AdminLoginEventOut.of(e) for e in detail.logins],
            pii_revealed=detail.pii_revealed,
        )
