"""Tables of the profile module. Personal data is stored as ciphertext (`security.crypto`),
looked up by blind index; every per-user row carries `user_id` (the sharding key)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Computed, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from usercenter.kit.models import Base, Timestamps

# --- addresses ---


class UserAddress(Timestamps, Base):
    """A delivery address (seed 000 §1.6). Receiver name, phone, street and detail are stored
    only as ciphertext (context `user_addresses.<column>`); the region as its GB/T 2260
    county-level code (province and city are derived). Deleted addresses keep their row
    (`deleted_at`), as the seed's `is_deleted` does."""

    __tablename__ = "user_addresses"
    __table_args__ = (
        Index("ix_user_addresses_user_id_deleted_at", "user_id", "deleted_at"),
        # At most one live default per user, whatever the engine: `default_owner` is the
        # user id on the live default and NULL on every other row, and NULLs never collide.
        Index("uq_user_addresses_default_owner", "default_owner", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger)
    receiver_name_encrypted: Mapped[str] = mapped_column(Text)
    receiver_phone_encrypted: Mapped[str] = mapped_column(Text)
    region_code: Mapped[str] = mapped_column(String(6))
    street_encrypted: Mapped[str | None] = mapped_column(Text)
    detail_encrypted: Mapped[str] = mapped_column(Text)
    postcode: Mapped[str | None] = mapped_column(String(6))
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(10, 7))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(10, 7))
    tag: Mapped[str | None] = mapped_column(String(16))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    default_owner: Mapped[int | None] = mapped_column(
        BigInteger,
        Computed("CASE WHEN is_default AND deleted_at IS NULL THEN user_id END", persisted=True),
    )
    deleted_at: Mapped[datetime | None]
