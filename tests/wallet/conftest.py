"""Fixtures for wallet tests: the wallet service of a started app on each database, and the
reconciliation every test ends with. Users and funded accounts are made by the factories
(tests.factories.identity, tests.factories.wallet); the names are also importable from here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI

from tests.conftest import make_settings
from tests.factories import services_of as state_of
from tests.factories.identity import make_user
from tests.factories.wallet import balance_of, top_up
from usercenter.app import create_app
from usercenter.wallet.service import WalletService

__all__ = ["balance_of", "make_user", "state_of", "top_up"]


async def started(database_url: str, **overrides: Any) -> AsyncIterator[FastAPI]:
    settings = make_settings(
        database_url, **{"log_level": "ERROR", "wallet_hold_sweep_seconds": 0, **overrides}
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def wallet_app(database_url: str, db: object) -> AsyncIterator[FastAPI]:
    """A started app on a fresh test database; its ledger must reconcile when the test ends."""
    async for application in started(database_url, service_clients="orders:s3cret"):
        yield application
        report = await state_of(application).wallet.reconcile()
        assert report.is_clean, report.differences


@pytest.fixture
async def wallet(wallet_app: FastAPI) -> WalletService:
    return state_of(wallet_app).wallet
