"""The daily rollup across China calendar days, with the service clock moved (no sleeping):
today counted again by every run, a day final once it has ended (and the grace has passed)
and never counted again, the first run starting at the first user."""

from __future__ import annotations

from datetime import time, timedelta

from fastapi import FastAPI
from sqlalchemy import func, select

from tests.access.conftest import client_for
from tests.conftest import MovableClock
from tests.factories import services_of
from tests.identity.conftest import new_phone, new_username, register, sms_login
from tests.stats.conftest import china_today, set_china_time
from tests.wallet.conftest import make_user
from usercenter.stats.models import StatsDaily
from usercenter.stats.service import DayStats, Rollup


async def rollup(application: FastAPI) -> Rollup:
    services = services_of(application)
    return await services.database.run_in_transaction(services.stats.rollup)


async def days(application: FastAPI, count: int) -> dict[str, DayStats]:
    services = services_of(application)
    async with services.database.unit_of_work() as session:
        found = await services.stats.daily(session, count)
    return {d.day.isoformat(): d for d in found}


async def final_rows(application: FastAPI) -> int:
    async with services_of(application).database.read_session() as session:
        query = select(func.count()).where(StatsDaily.finalized_at.is_not(None))
        return int((await session.execute(query)).scalar_one())


class TestRollup:
    async def test_counts_each_china_day_and_finalizes_it_once(
        self, application: FastAPI, moved_clock: MovableClock
    ) -> None:
        day = china_today() + timedelta(days=1)
        set_china_time(moved_clock, day, time(23, 50))
        async with client_for(application) as http:
            await register(http, new_username())
            await sms_login(application, http, new_phone())
            await sms_login(application, http, new_phone())

            first = await rollup(application)
            assert first.counted == [day]
            assert first.finalized == 0

            # Just past midnight (UTC 16:05): the day before is still open (grace), a new one.
            set_china_time(moved_clock, day + timedelta(days=1), time(0, 5))
            await register(http, new_username())
            second = await rollup(application)
            assert second.counted == [day, day + timedelta(days=1)]
            assert second.finalized == 0

        set_china_time(moved_clock, day + timedelta(days=1), time(0, 30))
        third = await rollup(application)
        assert third.counted == [day, day + timedelta(days=1)]
        assert third.finalized == 1
        # Incremental: the final day is not counted again.
        assert (await rollup(application)).counted == [day + timedelta(days=1)]

        # A user stamped in the final day (a late commit) changes nothing there any more.
        set_china_time(moved_clock, day, time(23, 59))
        await make_user(application)
        set_china_time(moved_clock, day + timedelta(days=1), time(0, 40))
        assert (await rollup(application)).counted == [day + timedelta(days=1)]

        shown = await days(application, 2)
        closed, today = shown[day.isoformat()], shown[(day + timedelta(days=1)).isoformat()]
        assert (closed.registrations, closed.active_users) == (3, 3)
        assert closed.logins == {"password": 1, "sms": 2}
        assert (today.registrations, today.active_users, today.logins) == (1, 1, {"password": 1})
        assert await final_rows(application) == 1

    async def test_active_users_are_distinct(
        self, application: FastAPI, moved_clock: MovableClock
    ) -> None:
        set_china_time(moved_clock, china_today(), time(12, 0))
        phone = new_phone()
        async with client_for(application) as http:
            for _ in range(3):
                await sms_login(application, http, phone)
        await rollup(application)
        [today] = (await days(application, 1)).values()
        assert (today.registrations, today.active_users, today.logins) == (1, 1, {"sms": 3})

    async def test_first_run_starts_at_the_first_user_and_fills_the_gaps(
        self, application: FastAPI, moved_clock: MovableClock
    ) -> None:
        start = china_today()
        set_china_time(moved_clock, start, time(9, 0))
        await make_user(application)
        set_china_time(moved_clock, start + timedelta(days=3), time(9, 0))
        await make_user(application)

        done = await rollup(application)

        assert done.counted == [start + timedelta(days=n) for n in range(4)]
        assert done.finalized == 3
        shown = await days(application, 5)
        assert [d.registrations for d in shown.values()] == [0, 1, 0, 0, 1]
        assert list(shown) == sorted(shown)

    async def test_nothing_to_count_makes_an_empty_today(self, application: FastAPI) -> None:
        done = await rollup(application)
        assert done.counted == [china_today()]
        [today] = (await days(application, 1)).values()
        assert (today.registrations, today.active_users, today.logins) == (0, 0, {})
