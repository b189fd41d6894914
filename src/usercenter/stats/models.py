"""Daily statistics (seed 004 §9.7 wdy_stats_daily), the user dimension: one row per China
calendar day with that day's registrations, active users and logins by method in `metrics`.

A row whose `finalized_at` is set was computed after its day had ended (and a grace period for
transactions still committing) and is never computed again: the latest such day is the
rollup's watermark. Rows after it (yesterday within the grace, today) are recomputed by every
rollup."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from usercenter.kit.models import Base, BigInt, Timestamps


class StatType(StrEnum):
    """The seed's dimensions; this service rolls up the user dimension."""

    USER = "user"


# The user dimension has one row per day for the whole business: dimension 0.
ALL_USERS = 0


class StatsDaily(Timestamps, Base):
    __tablename__ = "stats_daily"
    __table_args__ = (
        UniqueConstraint("stat_date", "stat_type", "dimension_id"),
        Index("ix_stats_daily_type_date", "stat_type", "stat_date"),
    )

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    stat_date: Mapped[date]
    stat_type: Mapped[str] = mapped_column(String(30))
    dimension_id: Mapped[int] = mapped_column(BigInteger, default=ALL_USERS)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    finalized_at: Mapped[datetime | None]
