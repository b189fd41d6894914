"""How a staff route knows its caller: the staff guard authenticates a staff token, checks the
route's permission and writes the admin-log entry; `StaffWith("wallet:adjust")` and
`CurrentStaff` are what routes declare. Also the access services as typed dependencies, and
the admin-log draft of a staff login (`StaffLoginAudit`), drafted from the request as the
guard drafts the others'."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.access.errors import PermissionDenied, TotpEnrolmentRequired
from usercenter.access.models import SubjectType
from usercenter.access.service.permissions import Effective, PermissionService, Scope, Subject
from usercenter.access.service.rbac import RbacService
from usercenter.access.service.staff import StaffService
from usercenter.access.service.staff_auth import StaffAuthService
from usercenter.access.service.staff_users import StaffUserService
from usercenter.audit import service as audit_service
from usercenter.audit.service import AuditDraft
from usercenter.db import keep_on_error
from usercenter.deps import Client, WriteSession, provided, provided_from
from usercenter.kit.client import ClientInfo
from usercenter.kit.errors import UserCenterError
from usercenter.kit.side_rows import SideRow
from usercenter.openapi import documents
from usercenter.security.masking import masked_copy
from usercenter.tokens.auth import TOKEN_ERRORS, bearer_or_raise
from usercenter.tokens.service import TokenService

Permissions = Annotated[PermissionService, Depends(provided(PermissionService))]
Rbac = Annotated[RbacService, Depends(provided(RbacService))]
StaffAccounts = Annotated[StaffService, Depends(provided(StaffService))]
StaffAuth = Annotated[StaffAuthService, Depends(provided(StaffAuthService))]
StaffUsers = Annotated[StaffUserService, Depends(provided(StaffUserService))]


@dataclass(slots=True)
class StaffActor:
    """The staff member calling a staff route, what they hold, and the log entry the route
    writes (services may name the target)."""

    id: int
    username: str
    session_id: str
    permissions: Effective
    audit: AuditDraft
    client: ClientInfo
    # Proved by the password alone while TOTP is required: only routes without a permission.
    enrolment_only: bool = False

    def audit_row(self) -> SideRow:
        """The call's admin-log entry as a side write of a ledger posting, so that a money move
        and its entry commit together; the guard then writes no second one."""
        row = audit_service.admin_log_row(
            self.audit, staff_id=self.id, username=self.username, client=self.client, result="ok"
        )
        self.audit.is_written = True
        return SideRow(audit_service.ADMIN_LOG_TABLE, row)


async def _request_copy(request: Request) -> dict[str, Any]:
    copy: dict[str, Any] = {}
    if request.query_params:
        copy["query"] = masked_copy(dict(request.query_params))
    body = await request.body()
    if body:
        try:
            copy["body"] = masked_copy(json.loads(body))
        except ValueError:
            copy["body"] = f"<{len(body)} bytes, not JSON>"
    return copy


def _route_path(request: Request) -> str:
    return str(getattr(request.scope.get("route"), "path", request.url.path))


async def _login_draft(request: Request) -> AuditDraft:
    """The admin-log entry of a staff login, drafted from its route; the login fills in the
    username (masked) and what it learns, and writes it whatever the outcome."""
    return AuditDraft("auth.login", "auth", request.method, _route_path(request))


StaffLoginAudit = Annotated[AuditDraft, Depends(_login_draft)]


def _draft(request: Request, permission: str | None) -> AuditDraft:
    route = request.scope.get("route")
    name = getattr(route, "name", "") or "request"
    module = permission.split(":", 1)[0] if permission else "self"
    draft = AuditDraft(
        action=f"{module}.{name}",
        module=module,
        method=request.method,
        path=_route_path(request),
    )
    for param, value in request.path_params.items():
        if param.endswith("_id") or param == "subject":
            draft.target_type = param.removesuffix("_id")
            draft.target_id = str(value)[:64]
    return draft


@documents(*TOKEN_ERRORS, PermissionDenied, security="staffBearer")
class StaffGuard:
    """Authenticates a staff token, checks `permission` (in the scope named by a path or query
    parameter), and writes the admin log entry in the route's own transaction: with the
    route's work when it succeeds; alone, the route's work rolled back, when the call is
    refused or fails (a second write transaction would wait for this one: on SQLite, until
    the busy timeout)."""

    def __init__(self, permission: str | None, scope: tuple[str, str] | None = None) -> None:
        self.permission = permission
        self.scope = scope

    def _scope_of(self, request: Request) -> Scope | None:
        if self.scope is None:
            return None
        scope_type, param = self.scope
        raw = request.path_params.get(param) or request.query_params.get(param)
        return Scope(scope_type, int(raw)) if raw is not None and str(raw).isdigit() else None

    async def __call__(
        self, request: Request, session: WriteSession, client: Client
    ) -> AsyncIterator[StaffActor]:
        access = provided_from(request.app, PermissionService)
        accounts = provided_from(request.app, StaffService)
        tokens = provided_from(request.app, TokenService)
        claims = await tokens.authenticate(bearer_or_raise(request), staff=True)
        subject = Subject(SubjectType.STAFF, claims.user_id)
        permissions = await access.effective(subject)
        username = await accounts.staff_username(claims.user_id)
        draft = _draft(request, self.permission)
        draft.request = await _request_copy(request)
        actor = StaffActor(claims.user_id, username, claims.session_id, permissions, draft, client)
        auth = provided_from(request.app, StaffAuthService)
        actor.enrolment_only = auth.needs_enrolment(claims.raw.get("amr") or ())
        if self.permission is not None and actor.enrolment_only:
            await self._record_refusal(
                session, actor, TotpEnrolmentRequired.code, keeps_changes=False
            )
            raise TotpEnrolmentRequired()
        if self.permission is not None and not permissions.allows(
            self.permission, self._scope_of(request)
        ):
            await self._record_refusal(session, actor, "denied", keeps_changes=False)
            raise PermissionDenied(permission=self.permission)
        try:
            yield actor
        except UserCenterError as exc:
            await self._record_refusal(session, actor, exc.code, keeps_changes=exc.keeps_changes)
            raise
        if not actor.audit.is_written:
            await self._record(session, actor, "ok")

    async def _record(self, session: AsyncSession, actor: StaffActor, result: str) -> None:
        await audit_service.record_admin_action(
            session,
            actor.audit,
            staff_id=actor.id,
            username=actor.username,
            client=actor.client,
            result=result,
        )

    async def _record_refusal(
        self,
        session: AsyncSession,
        actor: StaffActor,
        result: str,
        *,
        keeps_changes: bool,
    ) -> None:
        """The log row of a refused or failed call, in the route's transaction: what the route
        wrote is rolled back first (unless its error keeps it), the row alone is committed."""
        if not keeps_changes:
            await session.rollback()
        await self._record(session, actor, result)
        keep_on_error(session)


def StaffWith(permission: str, *, scope: tuple[str, str] | None = None) -> Any:
    """`Annotated[StaffActor, StaffWith("user:disable")]`: a staff member holding the
    permission (in the scope `(type, parameter)` names, e.g. `("merchant", "merchant_id")`)."""
    return Depends(StaffGuard(permission, scope), scope="function")


# A staff member acting on their own account (TOTP, logout): no permission needed.
CurrentStaff = Annotated[StaffActor, Depends(StaffGuard(None), scope="function")]
