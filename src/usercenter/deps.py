"""FastAPI dependencies every module's routes use: the unit of work, the caller, the user."""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.access.errors import PermissionDenied, TotpEnrolmentRequired
from usercenter.access.models import SubjectType
from usercenter.access.service import AuditDraft, Effective, Scope, Subject, masked_copy
from usercenter.db import keep_on_error
from usercenter.errors import ServiceUnauthorized, UserCenterError
from usercenter.kit.client import ClientInfo, Device, client_address
from usercenter.openapi import documents
from usercenter.state import AppState
from usercenter.tokens.errors import SessionRevoked, TokenExpired, TokenInvalid, TokenMissing
from usercenter.tokens.service import AccessClaims


# Dependencies are `async def` even where they do not await: FastAPI runs plain functions in
# a thread pool, which costs more than the work itself on every request.
async def app_state(request: Request) -> AppState:
    return AppState.of(request)


State = Annotated[AppState, Depends(app_state)]


async def _write_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work, committed before the response is sent."""
    async with AppState.of(request).database.unit_of_work() as session:
        yield session


async def _read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with AppState.of(request).database.read_session() as session:
        yield session


WriteSession = Annotated[AsyncSession, Depends(_write_session, scope="function")]
ReadSession = Annotated[AsyncSession, Depends(_read_session, scope="function")]


# Device headers and the lengths they are kept to (longer values are cut, not refused).
_DEVICE_HEADERS = {
    "device_id": ("x-device-id", 128),
    "device_name": ("x-device-name", 64),
    "vendor": ("x-device-vendor", 64),
    "os_name": ("x-os", 32),
    "os_version": ("x-os-version", 32),
    "client_name": ("x-client-name", 64),
    "client_version": ("x-client-version", 32),
}


async def _client_info(request: Request) -> ClientInfo:
    """The caller: address (X-Forwarded-For only from USERCENTER_TRUSTED_PROXIES), user agent
    and the device headers (X-Device-Id, X-Device-Name, X-Device-Vendor, X-OS, X-OS-Version,
    X-Client-Name, X-Client-Version)."""
    headers = request.headers
    device = {
        field: (value[:limit] if (value := headers.get(name)) else None)
        for field, (name, limit) in _DEVICE_HEADERS.items()
    }
    return ClientInfo(
        ip=client_address(
            request.client.host if request.client else None,
            headers.getlist("x-forwarded-for"),
            AppState.of(request).settings.trusted_proxies,
        ),
        user_agent=headers.get("user-agent"),
        device=Device(**device),
    )


Client = Annotated[ClientInfo, Depends(_client_info)]


# What a bearer token can be refused for (documented on every route that needs one).
TOKEN_ERRORS = (TokenMissing, TokenInvalid, TokenExpired, SessionRevoked)


@documents(*TOKEN_ERRORS, security="userBearer")
async def _current_claims(request: Request) -> AccessClaims:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenMissing()
    return await AppState.of(request).tokens.authenticate(token.strip())


CurrentClaims = Annotated[AccessClaims, Depends(_current_claims)]


@dataclass(frozen=True, slots=True)
class Caller:
    """The caller's claims and the app's state, from one dependency."""

    claims: AccessClaims
    state: AppState


@documents(*TOKEN_ERRORS, security="userBearer")
async def _caller(request: Request) -> Caller:
    return Caller(claims=await _current_claims(request), state=AppState.of(request))


# For the busiest routes: each dependency FastAPI solves costs about a fifth of a cached
# GET /v1/me, so `Authenticated` does the work of `CurrentClaims` and `State` in one.
Authenticated = Annotated[Caller, Depends(_caller)]


def basic_client(authorization: str | None, clients: Mapping[str, SecretStr]) -> str | None:
    """The client id of an HTTP Basic `Authorization` header whose secret matches the one
    configured for it (compared in constant time); None otherwise."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    expected = clients.get(client_id)
    if expected is None or not hmac.compare_digest(
        expected.get_secret_value().encode(), secret.encode()
    ):
        return None
    return client_id


@documents(ServiceUnauthorized, security="serviceBasic")
async def _service_caller(request: Request) -> str:
    """A service of the business (orders, payments, the admin console until staff accounts
    exist), by its Basic credentials from USERCENTER_SERVICE_CLIENTS."""
    clients = AppState.of(request).settings.service_clients
    client_id = basic_client(request.headers.get("authorization"), clients)
    if client_id is None:
        raise ServiceUnauthorized()
    return client_id


ServiceCaller = Annotated[str, Depends(_service_caller)]


# --- staff routes -------------------------------------------------------------------------


@dataclass(slots=True)
class StaffActor:
    """The staff member calling a staff route, what they hold, and the log entry the route
    writes (services may name the target)."""

    id: int
    session_id: str
    permissions: Effective
    audit: AuditDraft
    client: ClientInfo
    # Proved by the password alone while TOTP is required: only routes without a permission.
    enrolment_only: bool = False


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenMissing()
    return token.strip()


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


def _draft(request: Request, permission: str | None) -> AuditDraft:
    route = request.scope.get("route")
    name = getattr(route, "name", "") or "request"
    module = permission.split(":", 1)[0] if permission else "self"
    draft = AuditDraft(
        action=f"{module}.{name}",
        module=module,
        method=request.method,
        path=getattr(route, "path", request.url.path),
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
        state = AppState.of(request)
        claims = await state.tokens.authenticate(_bearer(request), staff=True)
        subject = Subject(SubjectType.STAFF, claims.user_id)
        permissions = await state.access.effective(subject)
        draft = _draft(request, self.permission)
        draft.request = await _request_copy(request)
        actor = StaffActor(claims.user_id, claims.session_id, permissions, draft, client)
        actor.enrolment_only = state.access.needs_enrolment(claims.raw.get("amr") or ())
        if self.permission is not None and actor.enrolment_only:
            await self._record_refusal(
                state, session, actor, TotpEnrolmentRequired.code, keeps_changes=False
            )
            raise TotpEnrolmentRequired()
        if self.permission is not None and not permissions.allows(
            self.permission, self._scope_of(request)
        ):
            await self._record_refusal(state, session, actor, "denied", keeps_changes=False)
            raise PermissionDenied(permission=self.permission)
        try:
            yield actor
        except UserCenterError as exc:
            await self._record_refusal(
                state, session, actor, exc.code, keeps_changes=exc.keeps_changes
            )
            raise
        await self._record(state, session, actor, "ok")

    async def _record(
        self, state: AppState, session: AsyncSession, actor: StaffActor, result: str
    ) -> None:
        staff = await state.access.get_staff_or_raise(session, actor.id)
        await state.access.record(
            session,
            actor.audit,
            staff_id=actor.id,
            username=staff.username,
            client=actor.client,
            result=result,
        )

    async def _record_refusal(
        self,
        state: AppState,
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
        await self._record(state, session, actor, result)
        keep_on_error(session)


def StaffWith(permission: str, *, scope: tuple[str, str] | None = None) -> Any:
    """`Annotated[StaffActor, StaffWith("user:disable")]`: a staff member holding the
    permission (in the scope `(type, parameter)` names, e.g. `("merchant", "merchant_id")`)."""
    return Depends(StaffGuard(permission, scope), scope="function")


# A staff member acting on their own account (TOTP, logout): no permission needed.
CurrentStaff = Annotated[StaffActor, Depends(StaffGuard(None), scope="function")]
