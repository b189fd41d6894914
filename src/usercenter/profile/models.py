"""Tables of the profile module. Personal data is stored as ciphertext (`security.crypto`),
looked up by blind index; every per-user row carries `user_id` (the sharding key)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from usercenter.kit.models import Base, BigInt

# --- consents, devices and location ---


class ConsentRecord(Base):
    """One grant or withdrawal of a consent (PIPL): what, which version, when, from which client.
    Append-only: never changed, never deleted."""

    __tablename__ = "consent_records"
    __table_args__ = (Index("ix_consent_records_user_id_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    version: Mapped[str | None] = mapped_column(String(32))
    granted: Mapped[bool] = mapped_column(Boolean)
    platform: Mapped[str | None] = mapped_column(String(16))
    client_name: Mapped[str | None] = mapped_column(String(64))
    client_version: Mapped[str | None] = mapped_column(String(32))
    ip_masked: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class ConsentState(Base):
    """The current state of one kind of consent of one user: the last record's."""

    __tablename__ = "consent_states"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[str | None] = mapped_column(String(32))
    granted: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime]


class UserDevice(Base):
    """The latest client of a user on one platform (seed 001 user_extra): updated from the
    device headers at login and refresh, and by the client for its push token."""

    __tablename__ = "user_devices"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    device_id: Mapped[str | None] = mapped_column(String(128))
    vendor: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(64))
    os_name: Mapped[str | None] = mapped_column(String(32))
    os_version: Mapped[str | None] = mapped_column(String(32))
    client_name: Mapped[str | None] = mapped_column(String(64))
    client_version: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(32))
    push_token: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class UserLocation(Base):
    """A user's last known location (seed 001 user_location). The coordinates are sensitive
    personal information: kept only under a granted `location` consent, as ciphertext."""

    __tablename__ = "user_locations"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    coordinates_encrypted: Mapped[str | None] = mapped_column(Text)
    region_code: Mapped[str | None] = mapped_column(String(6))
    source: Mapped[str] = mapped_column(String(8))
    located_at: Mapped[datetime]
    updated_at: Mapped[datetime]
