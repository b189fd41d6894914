"""Every SQL statement of the ids module. Each function runs inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.ids.models import IdSegment, UidReleased, UidSequence
from usercenter.kit import clock


@dataclass(frozen=True, slots=True)
class ReservedSegment:
    max_id: int
    base_step: int


async def advance_segment(
    session: AsyncSession, biz_type: str, step: int | None
) -> ReservedSegment | None:
    """Move `max_id` up by `step` (the row's own step when None); None if no such row.

    The UPDATE takes the row lock first, so the SELECT after it reads our own new bound.
    """
    increment = IdSegment.step if step is None else step
    result = await session.execute(
        update(IdSegment)
        .where(IdSegment.biz_type == biz_type)
        .values(
            max_id=IdSegment.max_id + increment,
            version=IdSegment.version + 1,
            updated_at=clock.now(),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        return None
    row = (
        await session.execute(
            select(IdSegment.max_id, IdSegment.step).where(IdSegment.biz_type == biz_type)
        )
    ).one()
    return ReservedSegment(max_id=row.max_id, base_step=row.step)


async def insert_segment_row(
    session: AsyncSession, biz_type: str, step: int, description: str | None
) -> None:
    now = clock.now()
    await session.execute(
        insert(IdSegment).values(
            biz_type=biz_type,
            max_id=0,
            step=step,
            version=0,
            description=description,
            created_at=now,
            updated_at=now,
        )
    )


async def segment_exists(session: AsyncSession, biz_type: str) -> bool:
    found = await session.scalar(select(IdSegment.biz_type).where(IdSegment.biz_type == biz_type))
    return found is not None


async def lock_uid_sequence(session: AsyncSession, province_code: str) -> UidSequence | None:
    """The province's sequence row, locked until the transaction ends."""
    return await session.scalar(
        select(UidSequence)
        .where(UidSequence.province_code == province_code)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def first_released_run(session: AsyncSession, province_code: str) -> UidReleased | None:
    return await session.scalar(
        select(UidReleased)
        .where(UidReleased.province_code == province_code)
        .order_by(UidReleased.first_seq)
        .limit(1)
    )


async def take_from_released_run(
    session: AsyncSession, run: UidReleased, count: int
) -> tuple[int, int]:
    """Take up to `count` numbers from the bottom of a released run; returns (first, last)."""
    first = run.first_seq
    last = min(run.last_seq, first + count - 1)
    await session.execute(
        delete(UidReleased).where(
            UidReleased.province_code == run.province_code, UidReleased.first_seq == first
        )
    )
    if last < run.last_seq:
        await session.execute(
            insert(UidReleased).values(
                province_code=run.province_code, first_seq=last + 1, last_seq=run.last_seq
            )
        )
    return first, last


async def set_current_sequence(session: AsyncSession, province_code: str, value: int) -> None:
    await session.execute(
        update(UidSequence)
        .where(UidSequence.province_code == province_code)
        .values(
            current_sequence=value,
            version=UidSequence.version + 1,
            last_generated_at=clock.now(),
            updated_at=clock.now(),
        )
        .execution_options(synchronize_session=False)
    )


async def insert_released_run(
    session: AsyncSession, province_code: str, first: int, last: int
) -> None:
    await session.execute(
        insert(UidReleased).values(province_code=province_code, first_seq=first, last_seq=last)
    )


async def province_names(session: AsyncSession) -> dict[str, str]:
    rows = await session.execute(select(UidSequence.province_code, UidSequence.province_name))
    return {code: name for code, name in rows}
