"""The SQL of consents: the append-only records and the current state per kind."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.profile.models import ConsentRecord, ConsentState
from usercenter.profile.repository.upserts import insert_ignoring_duplicates

_states = ConsentState.metadata.tables[ConsentState.__tablename__]


async def states_of(session: AsyncSession, user_id: int) -> list[ConsentState]:
    rows = await session.scalars(
        select(ConsentState).where(ConsentState.user_id == user_id).order_by(ConsentState.kind)
    )
    return list(rows)


async def ensure_state(session: AsyncSession, user_id: int, kind: str, now: datetime) -> None:
    """The state row of (user, kind), inserted (withdrawn, no version) unless it exists: one
    statement that never fails on a parallel insert of the same row. Inserting before locking
    keeps MariaDB from taking gap locks on a missing row, which deadlock parallel first
    answers."""
    values = {"user_id": user_id, "kind": kind, "granted": False, "version": None}
    values["changed_at"] = now
    await session.execute(insert_ignoring_duplicates(session, _states, values))


async def state_for_update(session: AsyncSession, user_id: int, kind: str) -> ConsentState | None:
    """The current state of one kind, locked: two changes of it in parallel go one after the
    other, so the state is always the last record's."""
    return await session.scalar(
        select(ConsentState)
        .where(ConsentState.user_id == user_id, ConsentState.kind == kind)
        .with_for_update()
    )


async def add_record(session: AsyncSession, record: ConsentRecord) -> None:
    session.add(record)
    await session.flush()


async def records_of(session: AsyncSession, user_id: int, limit: int) -> list[ConsentRecord]:
    """The user's records, newest first."""
    rows = await session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.user_id == user_id)
        .order_by(ConsentRecord.id.desc())
        .limit(limit)
    )
    return list(rows)


async def has_records(session: AsyncSession, user_id: int, kind: str) -> bool:
    found = await session.scalar(
        select(ConsentRecord.id)
        .where(ConsentRecord.user_id == user_id, ConsentRecord.kind == kind)
        .limit(1)
    )
    return found is not None
