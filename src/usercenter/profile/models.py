"""Tables of the profile module. Personal data is stored as ciphertext (`security.crypto`),
looked up by blind index; every per-user row carries `user_id` (the sharding key)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Computed, Date, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from usercenter.kit import clock
from usercenter.kit.models import Base, BigInt, Timestamps

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


# --- verification ---


class VerificationStatus:
    """The states of a real-name verification (seed 000 §1.9 verify_status; `none`: no row)."""

    NONE = "none"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class UserVerification(Base):
    """A user's current real-name verification (seed 000 §1.9), one row per user. The name and
    the number are stored only encrypted (`FieldCipher`, context `user_verifications.<column>`)
    and shown masked; `document_index` is the blind index of (type, number), UNIQUE so that one
    document belongs to at most one user; NULL once rejected, so a refused claim does not keep
    the document from its owner. `birth_date` (from an ID card) answers the adult check without
    decrypting anything."""

    __tablename__ = "user_verifications"

    # Seen by staff only (the queue), never by a client: an auto-increment is fine here.
    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    document_type: Mapped[str] = mapped_column(String(24))
    real_name_encrypted: Mapped[str] = mapped_column(Text)
    document_number_encrypted: Mapped[str] = mapped_column(Text)
    document_index: Mapped[str | None] = mapped_column(String(64), unique=True)
    real_name_masked: Mapped[str] = mapped_column(String(64))
    document_number_masked: Mapped[str] = mapped_column(String(32))
    birth_date: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(8))
    photo_front: Mapped[str | None] = mapped_column(String(255))
    photo_back: Mapped[str | None] = mapped_column(String(255))
    photo_held: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(200))
    vendor_result: Mapped[str | None] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(16))
    reviewer_id: Mapped[int | None] = mapped_column(BigInteger)
    submitted_at: Mapped[datetime] = mapped_column(default=clock.now)
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)

    __table_args__ = (Index("ix_user_verifications_status_id", "status", "id"),)


class VerificationHistory(Base):
    """Each transition of a verification: submitted, resubmitted, approved, rejected, changed
    by staff; who (the user, a staff member, the vendor), when and why."""

    __tablename__ = "user_verification_history"

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    verification_id: Mapped[int] = mapped_column(BigInteger, index=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    action: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


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
