"""Recording and reading authentication events and the admin log. Rows are written in the
caller's transaction — or, for a staff action that moves money, as a side write of the ledger
posting (`admin_log_row`) — so an entry stands or falls with the change it describes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.audit import repository
from usercenter.audit.models import (
    AdminLog,
    AuthEvent,
    AuthEventKind,
    ChangeActor,
    ProfileChange,
)
from usercenter.kit import clock
from usercenter.kit.client import ClientInfo
from usercenter.kit.pagination import Page, keyset_page


@dataclass(frozen=True, slots=True)
class LoginEventView:
    """A registration, login, failed login or logout, as a user's history shows it."""

    id: int
    kind: str
    method: str | None
    reason: str | None
    platform: str | None
    client_version: str | None
    device_id: str | None
    os_name: str | None
    os_version: str | None
    ip: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: AuthEvent) -> LoginEventView:
        return cls(
            row.id,
            row.kind,
            row.method,
            row.reason,
            row.platform,
            row.client_version,
            row.device_id,
            row.os_name,
            row.os_version,
            row.ip,
            row.created_at,
        )


@dataclass(frozen=True, slots=True)
class AdminLogEntry:
    """One staff action of the admin log, its request already masked (JSON text)."""

    id: int
    staff_id: int | None
    username: str | None
    action: str
    module: str
    method: str
    path: str
    target_type: str | None
    target_id: str | None
    request: str | None
    result: str
    ip: str | None
    user_agent: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: AdminLog) -> AdminLogEntry:
        return cls(*(getattr(row, name) for name in cls.__slots__))


LOGIN_HISTORY_KINDS = (
    AuthEventKind.REGISTER,
    AuthEventKind.LOGIN,
    AuthEventKind.LOGIN_FAILED,
    AuthEventKind.LOGOUT,
)


async def record_auth_event(
    session: AsyncSession,
    kind: AuthEventKind,
    *,
    user_id: int | None,
    client: ClientInfo,
    method: str | None = None,
    reason: str | None = None,
    session_id: str | None = None,
    platform: str | None = None,
) -> None:
    device = client.device
    await repository.add_auth_event(
        session,
        AuthEvent(
            user_id=user_id,
            kind=kind.value,
            method=method,
            reason=reason,
            session_id=session_id,
            platform=platform,
            client_version=device.client_version,
            device_id=device.device_id,
            os_name=device.os_name,
            os_version=device.os_version,
            ip=client.ip,
            user_agent=(client.user_agent or "")[:255] or None,
            created_at=clock.now(),
        ),
    )


async def login_history(
    session: AsyncSession, user_id: int, *, cursor: str | None, limit: int
) -> Page[LoginEventView]:
    """Newest first; `cursor` from the previous page's `next_cursor`."""
    kinds = [k.value for k in LOGIN_HISTORY_KINDS]

    async def fetch(before: int | None, size: int) -> list[LoginEventView]:
        rows = await repository.auth_events_of(session, user_id, kinds, before, size)
        return [LoginEventView.of(row) for row in rows]

    return await keyset_page(fetch, cursor=cursor, limit=limit)


@dataclass(frozen=True, slots=True)
class LoginCounts:
    """The logins of a period: distinct users who logged in, and logins per method."""

    active_users: int
    by_method: dict[str, int]


async def login_counts(session: AsyncSession, start: datetime, end: datetime) -> LoginCounts:
    """Logins recorded in [start, end) (the login history: a refresh records none)."""
    users, by_method = await repository.login_counts(session, AuthEventKind.LOGIN.value, start, end)
    return LoginCounts(users, by_method)


async def first_event_at(session: AsyncSession) -> datetime | None:
    """When the first authentication event was recorded (None: none yet)."""
    return await repository.first_auth_event_at(session)


# The longest value the change log keeps (the column's width); longer ones are cut, marked.
CHANGE_VALUE_MAX = 255


def _kept(value: str | None) -> str | None:
    if value is None or len(value) <= CHANGE_VALUE_MAX:
        return value
    return value[: CHANGE_VALUE_MAX - 1] + "…"


async def record_profile_change(
    session: AsyncSession,
    *,
    user_id: int,
    action: str,
    attribute: str,
    client: ClientInfo,
    old_value: str | None = None,
    new_value: str | None = None,
    actor: ChangeActor | str = ChangeActor.USER,
    actor_id: int | str | None = None,
) -> None:
    """Log one change to a user's profile, addresses, verification, secrets, bindings or
    consents (`attribute`: `nickname`, `address.detail`, `extends.level`…). Callers pass values
    already masked — for a secret, neither (or `"(changed)"`): only that it changed. `actor`
    says who made it: the user (default), a staff member, a service or the system, `actor_id`
    which one (a staff id, a service's client id)."""
    await repository.add_profile_change(
        session,
        ProfileChange(
            user_id=user_id,
            action=action[:32],
            attribute=attribute[:64],
            old_value=_kept(old_value),
            new_value=_kept(new_value),
            ip=client.ip,
            actor=str(actor)[:16],
            actor_id=None if actor_id is None else str(actor_id)[:64],
            created_at=clock.now(),
        ),
    )


@dataclass(frozen=True, slots=True)
class ProfileChangeView:
    """One entry of a user's change log, as the user and staff read it (values masked)."""

    id: int
    action: str
    attribute: str
    old_value: str | None
    new_value: str | None
    actor: str
    actor_id: str | None
    ip: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: ProfileChange) -> ProfileChangeView:
        return cls(
            row.id,
            row.action,
            row.attribute,
            row.old_value,
            row.new_value,
            row.actor or ChangeActor.USER,
            row.actor_id,
            row.ip,
            row.created_at,
        )


async def profile_changes(
    session: AsyncSession,
    user_id: int,
    *,
    cursor: str | None,
    limit: int,
    attribute: str | None = None,
) -> Page[ProfileChangeView]:
    """A user's change log, newest first; `attribute` keeps the attributes that start with it
    (`address` keeps `address.detail`); `cursor` from the previous page.
    Raises ValidationFailed (field `cursor`) for a cursor that is not one of ours."""

    async def fetch(before: int | None, size: int) -> list[ProfileChangeView]:
        rows = await repository.profile_changes_of(session, user_id, attribute, before, size)
        return [ProfileChangeView.of(row) for row in rows]

    return await keyset_page(fetch, cursor=cursor, limit=limit)


# --- the admin log ------------------------------------------------------------------------


@dataclass(slots=True)
class AuditDraft:
    """The admin-log entry of one staff call: the guard drafts it from the route, the service
    that does the work may name the target and add notes."""

    action: str
    module: str
    method: str
    path: str
    target_type: str | None = None
    target_id: str | None = None
    request: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    # Set once the entry is written (by a ledger posting, as a side write): not written again.
    is_written: bool = False

    def target(self, kind: str, target_id: object) -> None:
        self.target_type = kind
        self.target_id = str(target_id)[:64]


ADMIN_LOG_TABLE: Table = repository.ADMIN_LOG


# The action of a read that showed a user's personal data whole (a logged reveal): the log
# keeps it among the changes.
PERSONAL_DATA_VIEWED = "user.pii.view"


def admin_log_row(
    draft: AuditDraft,
    *,
    staff_id: int | None,
    username: str | None,
    client: ClientInfo,
    result: str,
) -> dict[str, Any]:
    """The admin-log row of `draft` as column values (the request already masked)."""
    request = {**draft.request, **({"notes": draft.notes} if draft.notes else {})}
    return {
        "staff_id": staff_id,
        "username": username,
        "action": draft.action[:64],
        "module": draft.module[:32],
        "method": draft.method[:8],
        "path": draft.path[:255],
        "target_type": draft.target_type,
        "target_id": draft.target_id,
        "request": json.dumps(request, ensure_ascii=False, default=str)[:60_000]
        if request
        else None,
        "result": result[:64],
        "ip": client.ip,
        "user_agent": (client.user_agent or "")[:255] or None,
        "created_at": clock.now(),
    }


async def record_admin_action(
    session: AsyncSession,
    draft: AuditDraft,
    *,
    staff_id: int | None,
    username: str | None,
    client: ClientInfo,
    result: str,
) -> None:
    """One row of the admin log in the caller's transaction."""
    await repository.add_admin_log(
        session,
        admin_log_row(draft, staff_id=staff_id, username=username, client=client, result=result),
    )
    draft.is_written = True


async def admin_log(
    session: AsyncSession,
    *,
    cursor: str | None,
    limit: int,
    staff_id: int | None,
    action: str | None,
    target_type: str | None,
    target_id: str | None,
    since: datetime | None,
    until: datetime | None,
    changes_only: bool = False,
) -> Page[AdminLogEntry]:
    """The admin log, newest first, filtered; `cursor` from the previous page. `changes_only`
    leaves out the reads that went through, but for those that showed personal data whole
    (`PERSONAL_DATA_VIEWED`): what changed, what was refused, and who saw what."""

    async def fetch(before: int | None, size: int) -> list[AdminLogEntry]:
        rows = await repository.admin_log_page(
            session,
            before_id=before,
            limit=size,
            staff_id=staff_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            since=since,
            until=until,
            changes_only=changes_only,
            kept_reads=(PERSONAL_DATA_VIEWED,),
        )
        return [AdminLogEntry.of(row) for row in rows]

    return await keyset_page(fetch, cursor=cursor, limit=limit)
