"""The dashboard's routes: days oldest first with today last, rows read (and today rolled up
only when its row is older than the interval), the wallet overview, `stats:view`; and the
`usercenter stats rollup` command."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import func, select

from tests.access.conftest import client_for, make_role
from tests.conftest import TEST_KEYS, MovableClock
from tests.factories import services_of
from tests.identity.conftest import new_username, register
from tests.stats.conftest import china_today, day_of, staff_headers
from tests.test_cli import run_cli
from tests.wallet.conftest import make_user, top_up
from usercenter.stats.models import StatsDaily

CARD = "6222020000031234"
ID_CARD = "440101199001031234"


class TestDaily:
    async def test_days_oldest_first_today_refreshed_after_the_interval(
        self, application: FastAPI, moved_clock: MovableClock
    ) -> None:
        headers = await staff_headers(application, "finance")
        async with client_for(application) as http:
            await register(http, new_username())
            first = await http.get("/v1/admin/stats/daily?days=7", headers=headers)
            assert first.status_code == 200, first.text
            shown = first.json()["days"]
            assert [d["date"] for d in shown] == [
                (china_today() - timedelta(days=n)).isoformat() for n in range(6, -1, -1)
            ]
            assert shown[-1] == {
                "date": china_today().isoformat(),
                "registrations": 1,
                "active_users": 1,
                "logins": {"password": 1},
            }
            assert shown[0]["registrations"] == 0

            # Within the interval (300 s) the dashboard reads the row as it is.
            await register(http, new_username())
            moved_clock.advance(60)
            again = await http.get("/v1/admin/stats/daily?days=1", headers=headers)
            assert again.json()["days"][0]["registrations"] == 1

            moved_clock.advance(300)
            later = await http.get("/v1/admin/stats/daily?days=1", headers=headers)
            assert later.json()["days"][0]["registrations"] == 2

    async def test_default_is_thirty_days_and_bounds_are_checked(
        self, application: FastAPI
    ) -> None:
        headers = await staff_headers(application, "operator")
        async with client_for(application) as http:
            default = await http.get("/v1/admin/stats/daily", headers=headers)
            zero = await http.get("/v1/admin/stats/daily?days=0", headers=headers)
            too_many = await http.get("/v1/admin/stats/daily?days=367", headers=headers)
            year = await http.get("/v1/admin/stats/daily?days=366", headers=headers)
        assert default.status_code == 200
        assert len(default.json()["days"]) == 30
        for refused in (zero, too_many):
            assert refused.status_code == 422
            assert refused.json()["errors"][0]["field"] == "days"
        assert len(year.json()["days"]) == 366
        # A year of days is read from rows: only the days with activity or after it have one.
        async with services_of(application).database.read_session() as session:
            rows = (await session.execute(select(func.count()).select_from(StatsDaily))).scalar()
        assert rows == 1

    async def test_needs_stats_view(self, application: FastAPI) -> None:
        support = await staff_headers(application, "customer_service")
        viewer = await staff_headers(application, await make_role(application, "stats:view"))
        async with client_for(application) as http:
            refused = await http.get("/v1/admin/stats/daily", headers=support)
            overview = await http.get("/v1/admin/stats/overview", headers=support)
            allowed = await http.get("/v1/admin/stats/overview", headers=viewer)
        assert (refused.status_code, overview.status_code) == (403, 403)
        assert allowed.status_code == 200


class TestOverview:
    async def test_pending_work_and_what_users_hold(self, application: FastAPI) -> None:
        wallet = services_of(application).wallet
        alice, bob = await make_user(application), await make_user(application)
        await top_up(wallet, alice, "CNY", 10_000)
        await top_up(wallet, bob, "CNY", 2_550)
        await top_up(wallet, bob, "POINTS", 40)
        payout = await wallet.add_bank_card(
            user_id=alice, real_name="张三", bank_name="工商银行", card_number=CARD, id_card=ID_CARD
        )
        for amount in (1_000, 2_050):
            await wallet.apply_withdrawal(
                user_id=alice, payout_account_id=payout.id, amount=amount, key=f"w{amount}"
            )
        await wallet.file_adjustment(
            user_id=bob,
            asset="CNY",
            amount=100,
            adjustment_type="COMPENSATION",
            reason="late delivery",
            applicant_id="1",
        )
        headers = await staff_headers(application, "finance")
        async with client_for(application) as http:
            response = await http.get("/v1/admin/stats/overview", headers=headers)
        assert response.status_code == 200, response.text
        assert response.json() == {
            "pending_withdrawals": {"count": 2, "amount": "30.50"},
            "pending_adjustments": 1,
            # Frozen money is still the user's until the withdrawal is paid.
            "wallet_totals": [{"asset": "CNY", "total": 12_550}, {"asset": "POINTS", "total": 40}],
        }


class TestRollupCommand:
    async def test_counts_today_and_says_so(
        self, application: FastAPI, database_url: str, workdir: Path
    ) -> None:
        await make_user(application)

        result = run_cli(
            "stats",
            "rollup",
            cwd=workdir,
            USERCENTER_DATABASE_URL=database_url,
            USERCENTER_SECRET_KEYS=TEST_KEYS.secret_keys_item,
            USERCENTER_BLIND_INDEX_KEY=TEST_KEYS.blind_index_key_b64,
        )

        assert result.returncode == 0, result.stdout + result.stderr
        today = china_today().isoformat()
        assert result.stdout.strip() == f"rolled up 1 day(s) ({today} to {today}), 0 made final"
        headers = await staff_headers(application, "finance")
        async with client_for(application) as http:
            shown = await http.get("/v1/admin/stats/daily?days=2", headers=headers)
        assert day_of(shown.json()["days"], china_today())["registrations"] == 1
