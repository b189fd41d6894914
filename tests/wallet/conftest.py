"""Fixtures for wallet tests: the wallet service of a started app on each database, users to
own balances, and the reconciliation every test ends with."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI

from tests.conftest import make_settings
from usercenter.app import Services, create_app
from usercenter.wallet.models import SystemAccount
from usercenter.wallet.service import Business, Result, WalletService


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


def state_of(application: FastAPI) -> Services:
    state: Services = application.state.services
    return state


@pytest.fixture
async def wallet(wallet_app: FastAPI) -> WalletService:
    return state_of(wallet_app).wallet


async def make_user(wallet: WalletService) -> int:
    """A new active user (no login identities), for owning balances."""
    async with wallet.database.unit_of_work() as session:
        user = await wallet.identity.create_user(
            session, method="test", identities=[], province=None
        )
        return user.id


_payments = iter(range(1, 10**9))


async def top_up(wallet: WalletService, user_id: int, asset: str, amount: int) -> Result:
    """Put `amount` of `asset` on the user's balance the way money really arrives."""
    if asset in {"CNY", "COIN_RECHARGE"}:
        return await wallet.recharge(
            user_id=user_id,
            asset=asset,
            amount=amount,
            channel=SystemAccount.EXTERNAL_WECHATPAY,
            payment_id=f"wx-{next(_payments)}",
        )
    kinds = {"COIN_GIVE": "GIFT", "COIN_REWARD": "REWARD", "POINTS": "POINTS_EARN"}
    from usercenter.wallet.models import Kind

    return await wallet.grant(
        user_id=user_id,
        asset=asset,
        amount=amount,
        kind=Kind(kinds[asset]),
        business=Business(business_type="test", business_id=f"grant-{next(_payments)}"),
    )


async def balance_of(wallet: WalletService, user_id: int, asset: str) -> tuple[int, int]:
    """(balance, frozen) of the user's account in `asset`."""
    for balance in await wallet.balances(f"user:{user_id}"):
        if balance.asset == asset:
            return balance.balance, balance.frozen
    raise AssertionError(asset)
