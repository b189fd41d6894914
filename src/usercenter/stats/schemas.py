"""API shapes of the stats module (the dashboard)."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from usercenter.kit.money import format_amount
from usercenter.kit.schemas import Schema
from usercenter.stats.service import DayStats
from usercenter.wallet.service import WalletOverview


class DayOut(Schema):
    date: dt.date = Field(description="China calendar day (UTC+8), YYYY-MM-DD")
    registrations: int = Field(description="Users created that day")
    active_users: int = Field(description="Distinct users who logged in that day")
    logins: dict[str, int] = Field(description="Logins per method (sms, password, wechat…)")

    @classmethod
    def of(cls, day: DayStats) -> DayOut:
        return cls(
            date=day.day,
            registrations=day.registrations,
            active_users=day.active_users,
            logins=day.logins,
        )


class DailyOut(Schema):
    days: list[DayOut] = Field(description="One entry per day, oldest first, today last")


class PendingWithdrawalsOut(Schema):
    count: int = Field(description="Withdrawals waiting for staff")
    amount: str = Field(description='Their total in yuan, e.g. "1200.50"')


class AssetTotalOut(Schema):
    asset: str = Field(description="CNY, COIN_RECHARGE, COIN_GIVE, COIN_REWARD, POINTS")
    total: int = Field(description="Sum of every user's balance, in smallest units (fen, coins)")


class OverviewOut(Schema):
    pending_withdrawals: PendingWithdrawalsOut = Field(description="The withdrawal queue")
    pending_adjustments: int = Field(description="Manual adjustments waiting for approval")
    wallet_totals: list[AssetTotalOut] = Field(description="What users hold, per asset")

    @classmethod
    def of(cls, overview: WalletOverview) -> OverviewOut:
        return cls(
            pending_withdrawals=PendingWithdrawalsOut(
                count=overview.pending_withdrawals,
                amount=format_amount("CNY", overview.pending_withdrawal_amount),
            ),
            pending_adjustments=overview.pending_adjustments,
            wallet_totals=[AssetTotalOut(asset=a, total=t) for a, t in overview.user_totals],
        )
