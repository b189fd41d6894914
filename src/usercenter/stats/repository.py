"""Every SQL statement of the stats module: the daily rows and the rollup's watermark."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.stats.models import StatsDaily


async def last_finalized_day(
    session: AsyncSession, stat_type: str, dimension_id: int
) -> date | None:
    """The rollup's watermark: the latest day whose row is final (an index range)."""
    query = select(func.max(StatsDaily.stat_date)).where(
        StatsDaily.stat_type == stat_type,
        StatsDaily.dimension_id == dimension_id,
        StatsDaily.finalized_at.is_not(None),
    )
    return (await session.execute(query)).scalar_one_or_none()


async def days_between(
    session: AsyncSession, stat_type: str, dimension_id: int, first: date, last: date
) -> Sequence[StatsDaily]:
    query = (
        select(StatsDaily)
        .where(
            StatsDaily.stat_type == stat_type,
            StatsDaily.dimension_id == dimension_id,
            StatsDaily.stat_date >= first,
            StatsDaily.stat_date <= last,
        )
        .order_by(StatsDaily.stat_date)
        # Read again after a rollup in the same session: the rows as now written.
        .execution_options(populate_existing=True)
    )
    return (await session.execute(query)).scalars().all()


async def save_day(
    session: AsyncSession,
    *,
    stat_date: date,
    stat_type: str,
    dimension_id: int,
    metrics: dict[str, Any],
    finalized_at: datetime | None,
    now: datetime,
) -> None:
    """Write a day's row unless it is final already: update it, or insert it. A row another
    process inserted meanwhile (the same figures, counted from the same rows) wins; its
    insert is tried in a savepoint so the caller's transaction goes on."""
    key = (
        StatsDaily.stat_date == stat_date,
        StatsDaily.stat_type == stat_type,
        StatsDaily.dimension_id == dimension_id,
    )
    result = await session.execute(
        update(StatsDaily)
        .where(*key, StatsDaily.finalized_at.is_(None))
        .values(metrics=metrics, finalized_at=finalized_at, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:  # type: ignore[attr-defined]
        return
    if (await session.execute(select(StatsDaily.id).where(*key))).first() is not None:
        return  # final already
    try:
        async with session.begin_nested():
            await session.execute(
                insert(StatsDaily).values(
                    stat_date=stat_date,
                    stat_type=stat_type,
                    dimension_id=dimension_id,
                    metrics=metrics,
                    finalized_at=finalized_at,
                    created_at=now,
                    updated_at=now,
                )
            )
    except IntegrityError:
        pass
