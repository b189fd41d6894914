"""Tables of the profile module. Personal data is stored as ciphertext (`security.crypto`),
looked up by blind index; every per-user row carries `user_id` (the sharding key)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from usercenter.kit import clock
from usercenter.kit.models import Base

# --- payment password ---


class PaymentPassword(Base):
    """A user's six-digit payment password (seed 000 §1.10, 004 §1.3): its argon2id hash and
    the wrong tries counted here, in the row, so parallel tries on many processes share one
    count (a conditional UPDATE, see the repository)."""

    __tablename__ = "payment_passwords"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    password_hash: Mapped[str] = mapped_column(String(255))
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    changed_at: Mapped[datetime] = mapped_column(default=clock.now)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class PaymentTicket(Base):
    """A single-use proof that the user just typed the payment password, for one action and
    amount: only a hash of the ticket is kept. `spent_at` is set once (a conditional UPDATE);
    `spent_key` is the idempotency key of the call that spent it, so a retry of that very call
    may present it again."""

    __tablename__ = "payment_tickets"

    ticket_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    action: Mapped[str] = mapped_column(String(32))
    amount: Mapped[str | None] = mapped_column(String(32))
    expires_at: Mapped[datetime]
    spent_at: Mapped[datetime | None]
    spent_key: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
