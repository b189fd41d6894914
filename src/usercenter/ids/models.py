"""Id tables: id segments (seed 004 §9.8) and province uid sequences (seed 004 §1.1)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from usercenter.kit.models import Base, Timestamps


class IdSegment(Timestamps, Base):
    """The upper bound of ids handed out so far for one business type."""

    __tablename__ = "id_segment"

    biz_type: Mapped[str] = mapped_column(String(50), primary_key=True)
    max_id: Mapped[int] = mapped_column(BigInteger, default=0)
    step: Mapped[int] = mapped_column(default=1000)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    description: Mapped[str | None] = mapped_column(String(255))


class UidSequence(Timestamps, Base):
    """The last sequence number reserved for one province's display uids."""

    __tablename__ = "uid_sequence"

    province_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    province_name: Mapped[str] = mapped_column(String(50))
    current_sequence: Mapped[int] = mapped_column(BigInteger, default=0)
    # None: bounded only by the configured width (10**width - 1).
    max_sequence: Mapped[int | None] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    last_generated_at: Mapped[datetime | None]


class UidReleased(Base):
    """A run of numbers a process reserved and gave back unused; handed out again first."""

    __tablename__ = "uid_released"

    province_code: Mapped[str] = mapped_column(
        String(2), ForeignKey("uid_sequence.province_code"), primary_key=True
    )
    first_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
