"""Who is calling from where: the platform, device and address of a request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address


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
    # The market or channel the client was installed from (应用市场/渠道: huawei, appstore …).
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """The caller of one request: its address and user agent, and the device it reports."""

    ip: str | None = None
    user_agent: str | None = None
    device: Device = Device()


TrustedProxies = Sequence[IPv4Network | IPv6Network]


def _address(text: str) -> IPv4Address | IPv6Address | None:
    """An address as an address (IPv4-mapped IPv6 as IPv4, no zone), or None if it is not."""
    try:
        address = ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.scope_id is not None:
            return IPv6Address(str(address).split("%", 1)[0])
    return address


def _is_trusted(address: IPv4Address | IPv6Address, trusted: TrustedProxies) -> bool:
    return any(address in network for network in trusted)


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: TrustedProxies
) -> str | None:
    """The caller's address: the peer's own, unless the peer is a trusted proxy; then the
    rightmost hop of X-Forwarded-For that is not a trusted proxy (each proxy appends the
    address it was called from, so only the hops our proxies added can be believed). A hop
    that is not an address stops the walk at the last address believed. Always an address
    (or None), never the header's text."""
    current = _address(peer) if peer else None
    if current is None or not trusted or not _is_trusted(current, trusted):
        return None if current is None else str(current)
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break
        current = address
        if not _is_trusted(address, trusted):
            break
    return str(current)
