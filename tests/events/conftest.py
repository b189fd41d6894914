"""Fixtures for events tests: a started app whose relay the test drives step by step, and
readers of what the outbox holds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.factories import services_of
from tests.wallet.conftest import started
from usercenter.app import Services
from usercenter.events.models import OutboxEvent


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
