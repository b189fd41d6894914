"""Fixtures for identity tests: the real app on each database, with the in-process cache and
with Redis, a client per test from an address of its own, and helpers to log in."""

from __future__ import annotations

import random
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from tests.conftest import make_settings, service_url
from usercenter.app import Services, create_app
from usercenter.kit import clock
from usercenter.notify.mail import ConsoleMailSender
from usercenter.notify.sms import ConsoleSmsSender

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


def new_phone() -> str:
    """A plausible mainland mobile number no other test uses."""
    return f"139{random.randint(0, 99_999_999):08d}"


def new_username() -> str:
    return f"user_{secrets.token_hex(5)}"


def state_of(application: FastAPI) -> Services:
    state: Services = application.state.services
    return state


async def last_sms_code(application: FastAPI, phone: str) -> str:
    """The last code sent to `phone`, once every delivery under way has finished."""
    await state_of(application).courier.drain()
    sender = state_of(application).codes.sms
    assert isinstance(sender, ConsoleSmsSender)
    digits = phone.replace(" ", "")
    code = sender.last_code(digits if digits.startswith("+") else f"+86{digits}")
    assert code is not None, f"no code was sent to {phone}"
    return code


async def last_mail_code(application: FastAPI, address: str) -> str:
    """The 6-digit code in the last mail sent to `address`, once every delivery under way has
    finished."""
    await state_of(application).courier.drain()
    sender = state_of(application).codes.mail
    assert isinstance(sender, ConsoleMailSender)
    message = sender.last_message(address.lower())
    assert message is not None, f"no mail was sent to {address}"
    found = re.search(r"(?<!\d)\d{6}(?!\d)", message.body)
    assert found is not None, message.body
    return found.group(0)


async def sms_login(
    application: FastAPI, http: httpx.AsyncClient, phone: str, **extra: Any
) -> dict[str, Any]:
    """Send a code to `phone` and log in with it; returns the login answer."""
    sent = await http.post("/v1/sms/codes", json={"phone": phone, "purpose": "login"})
    assert sent.status_code == 202, sent.text
    body = {
        "phone": phone,
        "code": await last_sms_code(application, phone),
        "platform": "APP",
        **extra,
    }
    response = await http.post("/v1/auth/sms-login", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def register(
    http: httpx.AsyncClient, username: str, password: str = "correct horse 42", **extra: Any
) -> dict[str, Any]:
    body = {"username": username, "password": password, "platform": "WEB", **extra}
    response = await http.post("/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


class MovableClock:
    """The service's clock, running with the system's from an offset that a test moves on."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return clock._system_now() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@pytest.fixture
def moved_clock() -> Iterator[MovableClock]:
    movable = MovableClock()
    clock.set_clock(movable.now)
    yield movable
    clock.set_clock(None)


def delivered(application: FastAPI, channel: str, result: str) -> float:
    """How many codes the app handed to its vendor on `channel` with `result` (the metric)."""
    value = state_of(application).metrics.registry.get_sample_value(
        "usercenter_code_deliveries_total", {"channel": channel, "result": result}
    )
    return value or 0.0
