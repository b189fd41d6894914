"""Fixtures for events tests: the app on each database (in-process cache and Redis) with the
provider stubs as client apps, and a staff member who reads the events back through
`GET /v1/admin/events`; a started app whose relay the test drives step by step, and readers
of what the outbox holds."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.factories import services_of
from tests.factories.access import make_staff, staff_token
from tests.factories.platform import client_apps_of
from tests.identity.conftest import AppFactory, client_for, make_app, state_of
from tests.providers.conftest import stubs
from tests.wallet.conftest import started
from usercenter.app import Services
from usercenter.events.models import OutboxEvent
from usercenter.providers.stubs import RunningStubs

__all__ = ["make_app", "stubs"]

# H5 keeps one session per user: a second login there ends the first ("replaced").
SINGLE_DEVICE = "H5"


@pytest.fixture
async def app(make_app: AppFactory, stubs: RunningStubs) -> FastAPI:  # type: ignore[override]
    return await make_app(
        client_apps=client_apps_of(stubs),
        single_device_platforms=SINGLE_DEVICE,
        refresh_reuse_grace_seconds=0,
    )


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        yield client


@dataclass
class EventLog:
    """The events as a staff member holding `events:view` reads them (super_admin)."""

    app: FastAPI
    http: httpx.AsyncClient
    headers: dict[str, str]
    staff_id: int

    async def of(self, subject: str) -> list[dict[str, Any]]:
        """The subject's events in their order, checked to be numbered 1, 2, 3 … with no gap."""
        response = await self.http.get(
            "/v1/admin/events", params={"subject": subject, "limit": 100}, headers=self.headers
        )
        assert response.status_code == 200, response.text
        items = sorted(response.json()["items"], key=lambda item: item["subjectseq"])
        assert [item["subjectseq"] for item in items] == list(range(1, len(items) + 1))
        assert all(item["subject"] == subject for item in items)
        return items

    async def types(self, subject: str) -> list[str]:
        return [item["type"] for item in await self.of(subject)]

    async def last(self, subject: str) -> dict[str, Any]:
        events = await self.of(subject)
        assert events, f"no event of {subject}"
        return events[-1]

    async def rows(self, type_: str | None = None) -> list[OutboxEvent]:
        """Every row of the events table (of one type), read from the database."""
        query = select(OutboxEvent).order_by(OutboxEvent.id)
        if type_ is not None:
            query = query.where(OutboxEvent.type == type_)
        async with state_of(self.app).database.read_session() as session:
            return list(await session.scalars(query))

    async def everything(self) -> str:
        """Every event's data as JSON, for what must never be in it."""
        return json.dumps([row.data for row in await self.rows()], ensure_ascii=False)


@pytest.fixture
async def events(app: FastAPI, http: httpx.AsyncClient) -> EventLog:
    staff_id, username = await make_staff(app, "super_admin")
    return EventLog(app, http, await staff_token(http, username), staff_id)


def user_subject(answer: dict[str, Any]) -> str:
    """`users/<id>` of a login answer."""
    return f"users/{answer['user']['id']}"


@pytest.fixture
async def events_app(database_url: str, db: object) -> AsyncIterator[FastAPI]:
    """A started app on a fresh database, without a broker; its ledger reconciles at the end."""
    async for application in started(database_url, service_clients="orders:s3cret"):
        yield application
        report = await services_of(application).wallet.reconcile()
        assert report.is_clean, report.differences


@pytest.fixture
def services(events_app: FastAPI) -> Services:
    return services_of(events_app)


async def stored_events(services: Services, **where: Any) -> list[OutboxEvent]:
    """The outbox's rows in the order they were written, filtered by column values."""
    query = select(OutboxEvent).order_by(OutboxEvent.id)
    for column, value in where.items():
        query = query.where(getattr(OutboxEvent, column) == value)
    async with services.database.read_session() as session:
        return list(await session.scalars(query))


async def relay_catch_up(services: Services) -> None:
    """Run the relay until it has nothing left to do."""
    relay = services.relay
    assert await relay.hold_lease()
    while await relay.step():
        pass
