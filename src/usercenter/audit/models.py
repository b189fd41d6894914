"""Authentication events (seed 001 user_login_log and user_register_log in one table), profile
changes and the admin log (seed 004 wdy_admin_log)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from usercenter.kit.models import Base, BigInt


class AuthEventKind(StrEnum):
    REGISTER = "register"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    PASSWORD_CHANGED = "password_changed"
    SESSION_REVOKED = "session_revoked"
    REFRESH_REUSED = "refresh_reused"


class AuthEvent(Base):
    __tablename__ = "auth_events"
    __table_args__ = (
        Index("ix_auth_events_user_id_id", "user_id", "id"),
        # Logins per day (the statistics rollup) read a range of it.
        Index("ix_auth_events_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    method: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(64))
    session_id: Mapped[str | None] = mapped_column(String(32))
    platform: Mapped[str | None] = mapped_column(String(16))
    client_version: Mapped[str | None] = mapped_column(String(32))
    device_id: Mapped[str | None] = mapped_column(String(128))
    os_name: Mapped[str | None] = mapped_column(String(32))
    os_version: Mapped[str | None] = mapped_column(String(32))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]


class ChangeActor(StrEnum):
    """Who made a change to a user's profile."""

    USER = "user"  # the user themselves
    STAFF = "staff"  # a staff member (actor_id: the staff id)
    SERVICE = "service"  # another service of the business (actor_id: its client id)
    SYSTEM = "system"  # the user center itself (a job, a vendor's verdict)


class ProfileChange(Base):
    """A change to who a user is, what they told us, or how they log in (seed 001
    user_info_update): the attribute (`nickname`, `address.detail`, `extends.level`,
    `payment_password`…), its old and new values masked (a secret: only that it changed), who
    made it and from where."""

    __tablename__ = "profile_changes"
    __table_args__ = (Index("ix_profile_changes_user_id_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    # bind, unbind, rebind, merge, update, set, add, remove, submit, approve, grant, withdraw…
    action: Mapped[str] = mapped_column(String(32))
    attribute: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(String(255))
    new_value: Mapped[str | None] = mapped_column(String(255))
    ip: Mapped[str | None] = mapped_column(String(64))
    # Rows written before who-did-it was kept have none (read as the user).
    actor: Mapped[str | None] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class AdminLog(Base):
    """One staff action (seed 004 wdy_admin_log): who, what, on what, a masked copy of the
    request, the result, from where. Written in the transaction of the action; never changed."""

    __tablename__ = "admin_log"
    __table_args__ = (
        Index("ix_admin_log_staff_id_id", "staff_id", "id"),
        Index("ix_admin_log_target", "target_type", "target_id"),
        Index("ix_admin_log_action", "action"),
        Index("ix_admin_log_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    staff_id: Mapped[int | None] = mapped_column(BigInteger)
    username: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    module: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(255))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    request: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
