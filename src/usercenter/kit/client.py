"""Who is calling from where: the platform, device and address of a request."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Platform(StrEnum):
    """Where a session lives (seed 004 wdy_user_token.platform_type)."""

    MINIAPP = "MINIAPP"
    APP = "APP"
    H5 = "H5"
    WEB = "WEB"
    ADMIN = "ADMIN"


class UserPlatform(StrEnum):
    """Where a user's session may live: every platform but ADMIN (staff sessions only)."""

    MINIAPP = "MINIAPP"
    APP = "APP"
    H5 = "H5"
    WEB = "WEB"


@dataclass(frozen=True, slots=True)
class Device:
    """What the client says about itself (seed 001 user_extra)."""

    device_id: str | None = None
    device_name: str | None = None
    vendor: str | None = None
    os_name: str | None = None
    os_version: str | None = None
    client_name: str | None = None
    client_version: str | None = None


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """The caller of one request: its address and user agent, and the device it reports."""

    ip: str | None = None
    user_agent: str | None = None
    device: Device = Device()
