"""Fixtures for the dashboard's statistics: a started app on each database (staff log in with a
password alone: the login is tested elsewhere), and the service clock put on a China calendar
day's clock face."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from fastapi import FastAPI

from tests.access.conftest import client_for, make_staff, staff_login
from tests.conftest import MovableClock
from tests.identity.conftest import DEFAULTS
from tests.wallet.conftest import started
from usercenter.kit import clock


@pytest.fixture
async def application(database_url: str, db: object) -> AsyncIterator[FastAPI]:
    settings = {**DEFAULTS, "staff_totp_required": False}
    async for started_app in started(database_url, **settings):
        yield started_app


async def staff_headers(application: FastAPI, role: str) -> dict[str, str]:
    _, username = await make_staff(application, role)
    async with client_for(application) as http:
        response = await staff_login(http, username)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def china_today() -> date:
    return clock.now().astimezone(clock.CHINA_TIME).date()


def set_china_time(moved: MovableClock, day: date, at: time) -> None:
    """Put the service's wall clock on `day` at `at`, China time (the monotonic one moves on
    by the same step when it goes forward)."""
    target = datetime.combine(day, at, clock.CHINA_TIME)
    step = (target - moved.now()).total_seconds()
    if step > 0:
        moved.advance(step)
    else:
        moved.offset += timedelta(seconds=step)


def day_of(days: list[dict[str, Any]], day: date) -> dict[str, Any]:
    return next(d for d in days if d["date"] == day.isoformat())
