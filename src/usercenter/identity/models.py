"""Users, their login identities and their credentials (seeds 000, 001, 003, 004 §1.2)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from usercenter.kit.models import Base, BigInt, Timestamps


class UserStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"
    DELETED = "deleted"


class IdentityType(StrEnum):
    """Ways to log in. Each is exclusive: a user holds at most one of each (per app)."""

    PHONE = "phone"
    EMAIL = "email"
    USERNAME = "username"


class User(Timestamps, Base):
    """A person: one internal id (from the id segments) and one display uid (`GD000001`)."""

    __tablename__ = "users"
    __table_args__ = (
        # Registrations per day (the statistics rollup) read a range of it.
        Index("ix_users_created_at", "created_at"),
        # The staff's nickname search is a substring match (LIKE '%x%'): on PostgreSQL a
        # trigram index answers it without walking every user; elsewhere a plain index.
        Index(
            "ix_users_nickname",
            "nickname",
            postgresql_using="gin",
            postgresql_ops={"nickname": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    uid: Mapped[str] = mapped_column(String(16), unique=True)
    nickname: Mapped[str | None] = mapped_column(String(64))
    avatar_url: Mapped[str | None] = mapped_column(String(512))
    gender: Mapped[int] = mapped_column(SmallInteger, default=0)  # 0 unknown, 1 male, 2 female
    birthday: Mapped[date | None]
    signature: Mapped[str | None] = mapped_column(String(255))
    # The GB/T 2260 county-level code only (issue 15): the province and city are its prefix's
    # and the names come from the shipped data (`platform.service.regions`), so a renamed
    # district is shown by its new name and no stored copy can disagree with the code.
    region_code: Mapped[str | None] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(16), default=UserStatus.ACTIVE, index=True)
    register_method: Mapped[str] = mapped_column(String(32))
    deleted_at: Mapped[datetime | None]


class Identity(Timestamps, Base):
    """One way to log in, pointing at its user (seed 001 user_auth, seed 003 oauths).

    `identifier_index` is what lookups use: the HMAC blind index of a phone or e-mail, the
    lower-cased username, or (third-party types) the openid. Phones and e-mails are kept for
    display only as ciphertext in `identifier_encrypted`.
    """

    __tablename__ = "identities"
    __table_args__ = (
        UniqueConstraint("type", "provider_app", "identifier_index"),
        UniqueConstraint("user_id", "type", "provider_app"),
        Index("ix_identities_union_id", "provider", "union_id"),
    )

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    # Third-party identities (issue 5): who issued it (wechat, qq…), for which app, unionid.
    provider: Mapped[str] = mapped_column(String(32), default="")
    provider_app: Mapped[str] = mapped_column(String(64), default="")
    identifier_index: Mapped[str] = mapped_column(String(128))
    identifier_encrypted: Mapped[str | None] = mapped_column(Text)
    union_id: Mapped[str | None] = mapped_column(String(128))
    verified_at: Mapped[datetime | None]


class IdentityUnion(Base):
    """Which user a provider's unionid belongs to: one row, so two first logins from two apps
    of the same open-platform account cannot make two users."""

    __tablename__ = "identity_unions"

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    union_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]


class Credential(Timestamps, Base):
    """A user's secrets (seed 000 user_securities): hashes only."""

    __tablename__ = "credentials"

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), primary_key=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_changed_at: Mapped[datetime | None]


# --- extension fields ---


class ExtendType(StrEnum):
    """What an extension field holds; its values are validated by it."""

    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    ENUM = "enum"


class ExtendKeyStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class ExtendKey(Timestamps, Base):
    """A key of the users' extension fields, declared by staff (seed 003 users_extends: the
    `field` column, with what it may hold). A disabled key keeps its values, shows none."""

    __tablename__ = "user_extend_keys"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(16))
    # The allowed values of an `enum` key (a JSON list of strings); None for the other types.
    options: Mapped[list[str] | None] = mapped_column(JSON)
    max_length: Mapped[int | None] = mapped_column(Integer)
    is_user_editable: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=ExtendKeyStatus.ACTIVE)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class UserExtend(Base):
    """One extension value of a user (seed 003 users_extends), as text in its canonical form
    (`12`, `12.50`, `true`, `2026-11-28`); typed again when the view is built."""

    __tablename__ = "user_extends"

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(1024))
    updated_at: Mapped[datetime]
