"""Permissions, roles, grants (seed 000 §1.2–§1.5), staff accounts and the admin action log
(seed 004 §9.3–§9.5)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from usercenter.kit.models import Base, BigInt, Timestamps


class Status(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class PermissionKind(StrEnum):
    MENU = "menu"
    BUTTON = "button"
    API = "api"


class SubjectType(StrEnum):
    USER = "user"
    STAFF = "staff"


class ScopeType(StrEnum):
    AGENCY = "agency"
    MERCHANT = "merchant"


class RoleAudience(StrEnum):
    """Whom a role is meant for: users of the business or staff of the back office."""

    USER = "user"
    STAFF = "staff"


class Permission(Timestamps, Base):
    """One node of the permission tree: a menu, a button or an API, named by a unique code."""

    __tablename__ = "permissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    # No foreign key: MariaDB checks a self-reference row by row, so one DELETE of the whole
    # tree would fail; the service checks the parent exists.
    parent_id: Mapped[int | None] = mapped_column(Integer, index=True)
    path: Mapped[str | None] = mapped_column(String(200))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=Status.ACTIVE)


class Role(Timestamps, Base):
    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    audience: Mapped[str] = mapped_column(String(16), default=RoleAudience.USER)
    description: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=Status.ACTIVE)


class RolePermission(Base):
    __tablename__ = "role_permissions"

    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"), primary_key=True)
    permission_id: Mapped[int] = mapped_column(
        ForeignKey("permissions.id"), primary_key=True, index=True
    )
    created_at: Mapped[datetime]


class Grant(Base):
    """A user or a staff account holds a role, everywhere (`scope_type` "") or only for one
    agency or merchant. Revoking deletes the row; the admin log keeps the history."""

    __tablename__ = "grants"
    __table_args__ = (
        UniqueConstraint("subject_type", "subject_id", "role_id", "scope_type", "scope_id"),
        Index("ix_grants_role_id", "role_id"),
    )

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(BigInteger)
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"))
    scope_type: Mapped[str] = mapped_column(String(16), default="")
    scope_id: Mapped[int] = mapped_column(BigInteger, default=0)
    granted_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class AccessVersion(Base):
    """One row whose number moves with every change to roles, permissions, grants or staff
    status, in the same transaction: cached permissions are keyed by it."""

    __tablename__ = "access_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class StaffAccount(Timestamps, Base):
    """A back-office account (seed 004 wdy_admin): separate from users."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    # TOTP secret under the field cipher; `pending` until the first code confirms it.
    totp_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    totp_pending_encrypted: Mapped[str | None] = mapped_column(Text)
    totp_enabled_at: Mapped[datetime | None]
    # The last 30-second step a code was accepted for: a code is accepted once.
    totp_last_step: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default=Status.ACTIVE)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    related_partner_id: Mapped[int | None] = mapped_column(BigInteger)
    last_login_at: Mapped[datetime | None]
    last_login_ip: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(BigInteger)


class RecoveryCode(Base):
    """A one-time code that stands in for a TOTP code; only its keyed hash is stored."""

    __tablename__ = "staff_recovery_codes"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
