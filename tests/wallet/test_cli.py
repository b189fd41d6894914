"""`usercenter reconcile`, run as an operator runs it, against a ledger with money in it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.test_cli import run_cli
from tests.wallet.conftest import make_user, started, state_of, top_up
from usercenter.wallet.service import WalletService


@pytest.fixture
async def wallet(database_url: str, db: object) -> AsyncIterator[WalletService]:
    """The wallet of a started app on a fresh test database. Unlike the shared fixture it does
    not reconcile at the end: these tests break the ledger on purpose."""
    async for application in started(database_url):
        yield state_of(application).wallet


async def user_with_money(wallet: WalletService) -> int:
    user = await make_user(wallet)
    await top_up(wallet, user, "CNY", 1230)
    await top_up(wallet, user, "COIN_GIVE", 50)
    return user


async def add_to_balance(wallet: WalletService, owner: str, asset: str, amount: int) -> None:
    """Change a balance behind the ledger's back, the way a hand-written SQL fix would."""
    async with wallet.database.unit_of_work() as session:
        await session.execute(
            text(
                "UPDATE wallet_accounts SET balance = balance + :amount"
                " WHERE owner = :owner AND asset = :asset"
            ),
            {"amount": amount, "owner": owner, "asset": asset},
        )


class TestReconcile:
    async def test_a_clean_ledger_exits_zero(
        self, wallet: WalletService, database_url: str, workdir: Path
    ) -> None:
        await user_with_money(wallet)

        result = run_cli("reconcile", cwd=workdir, USERCENTER_DATABASE_URL=database_url)

        assert result.returncode == 0, result.stdout + result.stderr
        assert "DIFF" not in result.stdout
        assert result.stdout.strip().endswith(": clean")

    async def test_a_balance_changed_behind_the_ledger_exits_one_naming_it(
        self, wallet: WalletService, database_url: str, workdir: Path
    ) -> None:
        user = await user_with_money(wallet)
        await add_to_balance(wallet, f"user:{user}", "CNY", 1)

        result = run_cli("reconcile", cwd=workdir, USERCENTER_DATABASE_URL=database_url)

        assert result.returncode == 1, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        differences = [line for line in result.stdout.splitlines() if line.startswith("DIFF")]
        assert differences == [
            f"DIFF balance_equals_entries: user:{user}/CNY: expected 1230, found 1231"
        ]
        assert result.stdout.strip().endswith("1 difference(s)")

    async def test_json_report_lists_the_difference(
        self, wallet: WalletService, database_url: str, workdir: Path
    ) -> None:
        user = await user_with_money(wallet)
        await add_to_balance(wallet, f"user:{user}", "COIN_GIVE", -10)

        result = run_cli("reconcile", "--json", cwd=workdir, USERCENTER_DATABASE_URL=database_url)

        assert result.returncode == 1, result.stdout + result.stderr
        report = json.loads(result.stdout.strip().splitlines()[-1])
        assert report["clean"] is False
        assert {
            "check": "balance_equals_entries",
            "subject": f"user:{user}/COIN_GIVE",
            "expected": "50",
            "found": "40",
        } in report["differences"]

    async def test_a_clean_ledger_as_json(
        self, wallet: WalletService, database_url: str, workdir: Path
    ) -> None:
        await user_with_money(wallet)

        result = run_cli("reconcile", "--json", cwd=workdir, USERCENTER_DATABASE_URL=database_url)

        assert result.returncode == 0, result.stdout + result.stderr
        report = json.loads(result.stdout.strip().splitlines()[-1])
        assert report["clean"] is True
        assert report["differences"] == []
        assert report["transfers"] >= 2
