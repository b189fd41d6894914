"""Fixtures for profile tests: a started app on a fresh test database (in-process cache, or
Redis where a test of a cached view asks for it), with a business service's credentials.
Users and staff are made by the factories (tests.factories.identity, tests.factories.access).
The identity tests' apps and clients (`make_app`, `app`, `http`) serve here too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from tests.conftest import make_settings, service_url
from tests.factories.platform import basic_auth
from tests.identity.conftest import DEFAULTS, AppFactory, app, http, make_app  # noqa: F401 - fixtures, re-exported
from usercenter.app import create_app

SERVICE_CLIENTS = "orders:orders-secret"
SERVICE = basic_auth(SERVICE_CLIENTS)


@pytest.fixture
async def make_profile_app(database_url: str, db: object) -> AsyncIterator[AppFactory]:
    """Builds started apps on the test database (`redis=True`: the cache in Redis)."""
    async with AsyncExitStack() as stack:

        async def build(*, redis: bool = False, **overrides: Any) -> FastAPI:
            if redis:
                client = Redis.from_url(service_url("redis"))
                await client.flushdb()
                await client.aclose()
                overrides["redis_url"] = service_url("redis")
            values = {**DEFAULTS, "service_clients": SERVICE_CLIENTS, **overrides}
            application = create_app(make_settings(database_url, **values))
            await stack.enter_async_context(application.router.lifespan_context(application))
            return application

        yield build


@pytest.fixture
async def profile_app(make_profile_app: AppFactory) -> FastAPI:
    return await make_profile_app()
