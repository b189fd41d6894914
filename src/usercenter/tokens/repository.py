"""Every SQL statement of the tokens module."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from usercenter.kit.client import Device
from usercenter.tokens.models import Session, SigningKey

_sessions = Session.metadata.tables[Session.__tablename__]
_INSERT_SESSION = insert(_sessions)


async def published_signing_keys(
    session: AsyncSession, retired_since: datetime
) -> list[SigningKey]:
    rows = await session.scalars(
        select(SigningKey)
        .where(or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > retired_since))
        .order_by(SigningKey.created_at)
    )
    return list(rows)


async def retire_signing_keys(session: AsyncSession, now: datetime) -> None:
    await session.execute(
        update(SigningKey).where(SigningKey.retired_at.is_(None)).values(retired_at=now)
    )


async def add_session(session: AsyncSession, row: Session) -> None:
    """Insert a new session row (a Core INSERT: the ORM's flush costs more than the insert);
    `row` itself stays out of the ORM session."""
    await session.execute(_INSERT_SESSION, {c.key: getattr(row, c.key) for c in _sessions.c})


async def get_session(session: AsyncSession, session_id: str) -> Session | None:
    return await session.get(Session, session_id, populate_existing=True)


@dataclass(frozen=True, slots=True)
class RotatedSession:
    """What a token pair is issued from, as a rotation left it."""

    id: str
    user_id: int
    subject_type: str
    uid: str
    platform: str
    refresh_hash: str
    rotated_at: datetime | None
    created_at: datetime
    expires_at: datetime
    # The client the session was opened with: a refresh from the same one writes nothing more.
    device_id: str | None
    device_name: str | None
    vendor: str | None
    os_name: str | None
    os_version: str | None
    client_name: str | None
    client_version: str | None

    def device(self) -> Device:
        return Device(
            device_id=self.device_id,
            device_name=self.device_name,
            vendor=self.vendor,
            os_name=self.os_name,
            os_version=self.os_version,
            client_name=self.client_name,
            client_version=self.client_version,
        )


_ROTATED_COLUMNS = [_sessions.c[name] for name in RotatedSession.__slots__]
# Built once, and Core rather than ORM: the refresh hot path then skips building a statement
# and the ORM's bulk-update bookkeeping on every call.
_ROTATE = (
    update(_sessions)
    .where(
        _sessions.c.id == bindparam("b_session_id"),
        _sessions.c.refresh_hash == bindparam("b_presented"),
        _sessions.c.revoked_at.is_(None),
        _sessions.c.expires_at > bindparam("b_now"),
    )
    .values(
        refresh_hash=bindparam("b_new_hash"),
        previous_refresh_hash=bindparam("b_presented"),
        refresh_generation=bindparam("b_generation"),
        rotated_at=bindparam("b_now"),
        last_active_at=bindparam("b_now"),
        expires_at=bindparam("b_expires_at"),
    )
)
_ROTATE_RETURNING = _ROTATE.returning(*_ROTATED_COLUMNS)
_ROTATED = select(*_ROTATED_COLUMNS).where(_sessions.c.id == bindparam("b_session_id"))


async def rotate_refresh_token(
    connection: AsyncConnection,
    *,
    session_id: str,
    presented_hash: str,
    new_hash: str,
    generation: int,
    now: datetime,
    expires_at: datetime,
) -> RotatedSession | None:
    """Compare-and-set: only the request holding the current token moves the session on.
    Returns the moved session (one round trip where UPDATE … RETURNING exists), else None.
    On a connection of its own (`Database.statement_connection`), not the caller's session:
    like an id allocator, it is atomic by itself and commits at once."""
    params = {
        "b_session_id": session_id,
        "b_presented": presented_hash,
        "b_now": now,
        "b_new_hash": new_hash,
        "b_generation": generation,
        "b_expires_at": expires_at,
    }
    if connection.dialect.update_returning:
        row = (await connection.execute(_ROTATE_RETURNING, params)).one_or_none()
    else:
        if not (await connection.execute(_ROTATE, params)).rowcount:
            return None
        row = (await connection.execute(_ROTATED, {"b_session_id": session_id})).one()
    return None if row is None else RotatedSession(*row)


async def revoke_sessions(
    session: AsyncSession,
    *,
    subject_type: str,
    subject_id: int,
    now: datetime,
    reason: str,
    session_ids: list[str] | None = None,
    platform: str | None = None,
    keep: str | None = None,
) -> dict[str, str]:
    """Revoke the subject's live sessions (all, some ids, one platform, all but `keep`); the
    platform of each one revoked, by id. The rows are locked as they are read, so of two
    transactions revoking the same session only one counts it."""
    query = select(Session.id, Session.platform).where(
        Session.user_id == subject_id,
        Session.subject_type == subject_type,
        Session.revoked_at.is_(None),
    )
    if session_ids is not None:
        query = query.where(Session.id.in_(session_ids))
    if platform is not None:
        query = query.where(Session.platform == platform)
    if keep is not None:
        query = query.where(Session.id != keep)
    found = {row.id: row.platform for row in await session.execute(query.with_for_update())}
    if found:
        await session.execute(
            update(Session)
            .where(Session.id.in_(list(found)), Session.revoked_at.is_(None))
            .values(revoked_at=now, revoke_reason=reason)
            .execution_options(synchronize_session=False)
        )
    return found


async def live_sessions(
    session: AsyncSession, subject_type: str, subject_id: int, now: datetime
) -> list[Session]:
    rows = await session.scalars(
        select(Session)
        .where(
            Session.user_id == subject_id,
            Session.subject_type == subject_type,
            Session.revoked_at.is_(None),
            Session.expires_at > now,
        )
        .order_by(Session.last_active_at.desc())
    )
    return list(rows)


async def session_is_live(session: AsyncSession, session_id: str, now: datetime) -> bool:
    found = await session.scalar(
        select(Session.id).where(
            Session.id == session_id, Session.revoked_at.is_(None), Session.expires_at > now
        )
    )
    return found is not None
