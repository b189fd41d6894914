"""The daily statistics of the dashboard: a rollup per China calendar day of registrations
(users created), active users (distinct users who logged in, as the login history records it:
a refresh records nothing there) and logins by method, stored in `stats_daily`.

The rollup is incremental. Its watermark is the latest final day; a run counts only the days
after it, up to today — each an index range of one day over users.created_at and
auth_events.created_at, never a scan of the whole tables. A day becomes final once it has
ended and `FINALIZE_GRACE` has passed (a transaction that stamped its rows just before
midnight may commit just after it); a final row is never counted again. So a run normally
counts today (and yesterday, just after midnight); the first run backfills at most
`BACKFILL_DAYS` from the first user or login.

The background task (`start_rollups`, every USERCENTER_STATS_ROLLUP_SECONDS) keeps today's
row fresh; the dashboard reads rows only — and when today's row is missing or older than the
interval, rolls up first (the same bounded run), so it never shows a stale today."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.audit import service as audit_service
from usercenter.db import Database
from usercenter.identity.service.accounts import UserAccounts
from usercenter.kit import clock
from usercenter.kit.log import get_logger
from usercenter.stats import repository
from usercenter.stats.models import ALL_USERS, StatsDaily, StatType
from usercenter.wallet.service import StatementService, WalletOverview

log = get_logger("usercenter.stats")

FINALIZE_GRACE = timedelta(minutes=10)
BACKFILL_DAYS = 400
MAX_DAYS = 366


def china_day(moment: datetime) -> date:
    """The China calendar day (UTC+8) an instant falls on."""
    return moment.astimezone(clock.CHINA_TIME).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The instants [start, end) of a China calendar day."""
    start = datetime.combine(day, time(0), clock.CHINA_TIME)
    return start, start + timedelta(days=1)


@dataclass(frozen=True, slots=True)
class DayStats:
    """One day of the user dimension."""

    day: date
    registrations: int
    active_users: int
    logins: dict[str, int]

    def metrics(self) -> dict[str, object]:
        return {
            "registrations": self.registrations,
            "active_users": self.active_users,
            "logins": dict(sorted(self.logins.items())),
        }

    @classmethod
    def of_row(cls, row: StatsDaily) -> DayStats:
        metrics = row.metrics or {}
        return cls(
            row.stat_date,
            int(metrics.get("registrations", 0)),
            int(metrics.get("active_users", 0)),
            {str(k): int(v) for k, v in (metrics.get("logins") or {}).items()},
        )

    @classmethod
    def empty(cls, day: date) -> DayStats:
        return cls(day, 0, 0, {})


@dataclass(frozen=True, slots=True)
class Rollup:
    """What a rollup run did: the days it counted, and how many of them it made final."""

    counted: list[date]
    finalized: int


class StatsService:
    def __init__(
        self,
        *,
        database: Database,
        identity: UserAccounts,
        statements: StatementService,
        rollup_seconds: float,
    ) -> None:
        self.database = database
        self.identity = identity
        self.statements = statements
        self.rollup_seconds = rollup_seconds
        self._task: asyncio.Task[None] | None = None

    # --- the rollup ---------------------------------------------------------------------------

    async def rollup(self, session: AsyncSession) -> Rollup:
        """Count the days after the watermark up to today and save them, in `session`; the
        ended ones (past the grace) become final. See the module's docstring."""
        now = clock.now()
        today = china_day(now)
        watermark = await repository.last_finalized_day(session, StatType.USER, ALL_USERS)
        if watermark is not None:
            first = watermark + timedelta(days=1)
        else:
            first_active = await self._first_active_day(session, today)
            first = max(first_active, today - timedelta(days=BACKFILL_DAYS))
        counted: list[date] = []
        finalized = 0
        day = first
        while day <= today:
            stats = await self._count(session, day)
            is_final = now >= day_bounds(day)[1] + FINALIZE_GRACE
            await repository.save_day(
                session,
                stat_date=day,
                stat_type=StatType.USER,
                dimension_id=ALL_USERS,
                metrics=stats.metrics(),
                finalized_at=now if is_final else None,
                now=now,
            )
            counted.append(day)
            finalized += is_final
            day += timedelta(days=1)
        return Rollup(counted, finalized)

    async def _first_active_day(self, session: AsyncSession, today: date) -> date:
        """The day of the first user or login (today when there is none): where a first
        rollup starts."""
        found = [
            moment
            for moment in (
                await self.identity.first_registration(session),
                await audit_service.first_event_at(session),
            )
            if moment is not None
        ]
        return china_day(min(found)) if found else today

    async def _count(self, session: AsyncSession, day: date) -> DayStats:
        start, end = day_bounds(day)
        registrations = await self.identity.registrations_between(session, start, end)
        logins = await audit_service.login_counts(session, start, end)
        return DayStats(day, registrations, logins.active_users, logins.by_method)

    # --- what the dashboard reads -------------------------------------------------------------

    async def daily(self, session: AsyncSession, days: int) -> list[DayStats]:
        """The last `days` China calendar days up to today, oldest first (a day without a
        row: zeros). Rolls up first when today's row is missing or older than the interval."""
        now = clock.now()
        today = china_day(now)
        first = today - timedelta(days=days - 1)
        rows = await repository.days_between(session, StatType.USER, ALL_USERS, first, today)
        current = next((r for r in rows if r.stat_date == today), None)
        stale_after = timedelta(seconds=max(self.rollup_seconds, 1))
        if current is None or current.updated_at < now - stale_after:
            await self.rollup(session)
            rows = await repository.days_between(session, StatType.USER, ALL_USERS, first, today)
        found = {r.stat_date: DayStats.of_row(r) for r in rows}
        return [
            found.get(day, DayStats.empty(day))
            for day in (first + timedelta(days=n) for n in range(days))
        ]

    async def overview(self) -> WalletOverview:
        """Pending withdrawals and adjustments, and what users hold per asset."""
        return await self.statements.overview()

    # --- the background task ------------------------------------------------------------------

    def start_rollups(self) -> asyncio.Task[None] | None:
        """Roll up every `rollup_seconds` in the background (0: never), each run in a unit of
        work of its own; `close` stops it."""
        if self.rollup_seconds <= 0:
            return None

        async def run() -> None:
            while True:
                await asyncio.sleep(self.rollup_seconds)
                try:
                    done = await self.database.run_in_transaction(self.rollup)
                    log.debug("stats_rolled_up", days=len(done.counted), final=done.finalized)
                except Exception:  # the next round tries again
                    log.exception("stats_rollup_failed")

        self._task = asyncio.create_task(run(), name="stats-rollup")
        return self._task

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
