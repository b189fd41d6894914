"""Sessions (seed 004 wdy_user_token, one per device login) and token signing keys."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from usercenter.kit.models import Base


class SessionSubject(StrEnum):
    """Whose session it is: a user's, or a staff account's (the admin console)."""

    USER = "user"
    STAFF = "staff"


class Session(Base):
    """One login on one device. Holds the hash of its current refresh token (and the one
    before, to recognise a replay) and the client it was made from. `user_id` is the id of
    its subject: a user's, or with `subject_type` staff, a staff account's."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_user_id_platform", "user_id", "platform"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    subject_type: Mapped[str] = mapped_column(
        String(8), default=SessionSubject.USER, server_default=SessionSubject.USER.value
    )
    uid: Mapped[str] = mapped_column(String(16), default="")  # the display uid, for its tokens
    platform: Mapped[str] = mapped_column(String(16))
    login_method: Mapped[str] = mapped_column(String(32))
    device_id: Mapped[str | None] = mapped_column(String(128))
    device_name: Mapped[str | None] = mapped_column(String(64))
    vendor: Mapped[str | None] = mapped_column(String(64))
    os_name: Mapped[str | None] = mapped_column(String(32))
    os_version: Mapped[str | None] = mapped_column(String(32))
    client_name: Mapped[str | None] = mapped_column(String(64))
    client_version: Mapped[str | None] = mapped_column(String(32))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    refresh_hash: Mapped[str] = mapped_column(String(64), unique=True)
    previous_refresh_hash: Mapped[str | None] = mapped_column(String(64))
    refresh_generation: Mapped[int] = mapped_column(Integer, default=0)
    rotated_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    last_active_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(String(32))
    # A provider secret tied to this login (WeChat mini program session_key), encrypted.
    provider_secret_encrypted: Mapped[str | None] = mapped_column(Text)


class SigningKey(Base):
    """A key that signs access tokens. The private half is stored encrypted; the public half
    is published in the JWKS until the last token it signed has expired."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(32), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]
