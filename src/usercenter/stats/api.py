"""Routes of the stats module: the dashboard's figures (`/v1/admin/stats/…`, staff tokens
holding `stats:view`; logged like every staff call)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from usercenter.access.auth import StaffActor, StaffWith
from usercenter.deps import WriteSession, provided
from usercenter.stats.schemas import DailyOut, DayOut, OverviewOut
from usercenter.stats.service import MAX_DAYS, StatsService

Stats = Annotated[StatsService, Depends(provided(StatsService))]
StatsViewer = Annotated[StaffActor, StaffWith("stats:view")]

router = APIRouter(tags=["stats"])


@router.get("/v1/admin/stats/daily", summary="Registrations, active users, logins per day")
async def daily_stats(
    _: StatsViewer,
    stats: Stats,
    session: WriteSession,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS, description="How many days up to today")] = 30,
) -> DailyOut:
    return DailyOut(days=[DayOut.of(d) for d in await stats.daily(session, days)])


@router.get("/v1/admin/stats/overview", summary="Pending withdrawals and adjustments, totals")
async def overview(_: StatsViewer, stats: Stats) -> OverviewOut:
    return OverviewOut.of(await stats.overview())
