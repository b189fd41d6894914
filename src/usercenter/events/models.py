"""The outbox (`events`), the subjects' sequence counters and the relay's one state row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from usercenter.kit.models import Base, BigInt

RELAY_NAME = "default"


class OutboxEvent(Base):
    """One event. `id` orders the rows as they were written: within one subject that is its
    sequence order, because a subject's events are written under its counter's lock.
    `position` is the place in the feed, given by the relay once the row has committed."""

    __tablename__ = "events"
    __table_args__ = (
        # The feed reads by position; the relay finds the unsequenced rows (position NULL) in
        # id order. Positions are unique: one fenced relay gives them (`service.relay`).
        Index("ix_events_position_id", "position", "id"),
        # What the relay looks for every poll, kept small: on PostgreSQL an index of the rows
        # still without a position (dead entries of sequenced rows are skipped once seen,
        # where the composite index's bitmap scan steps over them until a vacuum). A plain
        # index on MariaDB/MySQL, which have no partial indexes.
        Index(
            "ix_events_unsequenced",
            "id",
            postgresql_where=text("position IS NULL"),
            sqlite_where=text("position IS NULL"),
        ),
        Index("ix_events_subject_seq", "subject", "subject_seq", unique=True),
        Index("ix_events_type_position", "type", "position"),
    )

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(80))
    subject: Mapped[str] = mapped_column(String(80))
    subject_seq: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime]
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    position: Mapped[int | None] = mapped_column(BigInteger)


class EventSubject(Base):
    """The last sequence number given to a subject's events. Taking the next one locks the row
    until the change commits, so the numbers of one subject follow commit order."""

    __tablename__ = "event_subjects"

    subject: Mapped[str] = mapped_column(String(80), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)


class RelayState(Base):
    """The relay's lease and marks: who holds it (`holder`, until `lease_until`; `epoch`
    grows at every take-over, so a holder that lost the lease cannot move the marks), the
    last position given (`sequenced_through`), the last one the broker confirmed
    (`published_through`), the last one deleted by retention (`trimmed_through`)."""

    __tablename__ = "event_relay"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(120))
    epoch: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    sequenced_through: Mapped[int] = mapped_column(BigInteger, default=0)
    published_through: Mapped[int] = mapped_column(BigInteger, default=0)
    trimmed_through: Mapped[int] = mapped_column(BigInteger, default=0)
    # The last few failures ({"at", "message"}), newest first: the console shows them.
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
