"""Fixtures for identity tests: the real app on each database, with the in-process cache and
with Redis, and a client per test from an address of its own. The helpers that make users and
log them in are factories (tests.factories.identity); the names are also importable from here."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from tests.conftest import MovableClock, make_settings, service_url
from tests.factories import services_of as state_of
from tests.factories.identity import (
    bearer,
    last_mail_code,
    last_sms_code,
    new_phone,
    new_username,
    register,
    sms_login,
)
from usercenter.app import create_app

__all__ = [
    "MovableClock",
    "bearer",
    "last_mail_code",
    "last_sms_code",
    "new_phone",
    "new_username",
    "register",
    "sms_login",
    "state_of",
]

# Generous by default; tests of a limit make an app with that limit set low.
DEFAULTS: dict[str, Any] = {
    "log_level": "ERROR",
    "sms_resend_interval_seconds": 0,
    "sms_daily_limit_per_phone": 1000,
    "sms_captcha_after_per_address": 1000,
    "sms_daily_limit_per_address": 1000,
    "login_captcha_after_address_failures": 1000,
}

AppFactory = Callable[..., Awaitable[FastAPI]]


@pytest.fixture(params=["memory", "redis"])
async def make_app(
    request: pytest.FixtureRequest, database_url: str, db: object
) -> AsyncIterator[AppFactory]:
    """Builds started apps on the test database (and the chosen cache); stops them after."""
    cache = request.param
    if cache == "redis":
        # Ids restart with every test's fresh database; counters keyed by them must too.
        client = Redis.from_url(service_url("redis"))
        await client.flushdb()
        await client.aclose()
    async with AsyncExitStack() as stack:

        async def build(**overrides: Any) -> FastAPI:
            if cache == "redis":
                overrides.setdefault("redis_url", service_url("redis"))
            application = create_app(make_settings(database_url, **{**DEFAULTS, **overrides}))
            await stack.enter_async_context(application.router.lifespan_context(application))
            return application

        yield build


@pytest.fixture
async def app(make_app: AppFactory) -> FastAPI:  # type: ignore[override]
    return await make_app()


def client_for(application: FastAPI, ip: str | None = None) -> httpx.AsyncClient:
    """A client calling from an address of its own, so per-address limits stay per test."""
    address = ip or f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
    transport = httpx.ASGITransport(app=application, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://usercenter.test")


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        yield client


def delivered(application: FastAPI, channel: str, result: str) -> float:
    """How many codes the app handed to its vendor on `channel` with `result` (the metric)."""
    value = state_of(application).metrics.registry.get_sample_value(
        "usercenter_code_deliveries_total", {"channel": channel, "result": result}
    )
    return value or 0.0
