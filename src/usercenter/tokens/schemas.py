"""API shapes of the tokens module."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from usercenter.kit.schemas import Schema


class SessionOut(Schema):
    id: str
    platform: str
    login_method: str
    device_id: str | None
    device_name: str | None
    os_name: str | None
    os_version: str | None
    client_name: str | None
    client_version: str | None
    ip: str | None
    created_at: datetime
    last_active_at: datetime
    expires_at: datetime
    current: bool = Field(description="The session this request was made with")


class RevokedOut(Schema):
    revoked: list[str] = Field(description="Ids of the sessions that were ended")


class JwksOut(Schema):
    keys: list[dict[str, Any]]
