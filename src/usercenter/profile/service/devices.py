"""Devices and clients (seed 001 user_extra): the latest client of a user on each platform —
vendor, model, OS and version, client name and version, channel, push token.

Written from the device headers at login and at refresh (the `ClientRecorder` of
`kit.session_hooks`, in the login's or refresh's transaction, one upsert), and by the client
itself for its push token. A refresh whose headers say nothing the session was not opened
with writes nothing: the refresh path stays one statement (it is benchmarked), and the row
already holds what the login wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.kit import clock
from usercenter.kit.client import ClientInfo, Device
from usercenter.profile.models import UserDevice
from usercenter.profile.repository import devices as repository
from usercenter.security.masking import mask_device_id

# Device fields as the headers name them -> the row's columns.
_COLUMNS = {
    "device_id": "device_id",
    "vendor": "vendor",
    "device_name": "model",
    "os_name": "os_name",
    "os_version": "os_version",
    "client_name": "client_name",
    "client_version": "client_version",
    "channel": "channel",
}
# What a session row keeps of its device (all but the channel): compared at refresh.
_SESSION_FIELDS = tuple(name for name in _COLUMNS if name != "channel")


def _shown(value: str | None, whole: bool) -> str | None:
    return value if whole or not value else mask_device_id(value)


@dataclass(frozen=True, slots=True)
class DeviceView:
    platform: str
    device_id: str | None
    vendor: str | None
    model: str | None
    os_name: str | None
    os_version: str | None
    client_name: str | None
    client_version: str | None
    channel: str | None
    push_token: str | None
    updated_at: datetime

    @classmethod
    def of(cls, row: UserDevice, *, whole: bool) -> DeviceView:
        """`whole`: for the owner; staff see the device id and push token masked."""
        return cls(
            platform=row.platform,
            device_id=row.device_id
            if whole or not row.device_id
            else mask_device_id(row.device_id),
            vendor=row.vendor,
            model=row.model,
            os_name=row.os_name,
            os_version=row.os_version,
            client_name=row.client_name,
            client_version=row.client_version,
            channel=row.channel,
            push_token=_shown(row.push_token, whole),
            updated_at=row.updated_at,
        )


def _says_something_new(device: Device, opened_with: Device) -> bool:
    """Whether a refresh's headers name a value the session was not opened with (a channel
    sent at refresh is not compared: the session row does not keep it, and it does not change
    without a new install, which logs in)."""
    for name in _SESSION_FIELDS:
        value = getattr(device, name)
        if value is not None and value != getattr(opened_with, name):
            return True
    return False


class DeviceService:
    async def _upsert(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        platform: str,
        device: Device,
        extra: dict[str, Any] | None = None,
    ) -> None:
        now = clock.now()
        values: dict[str, Any] = {"user_id": user_id, "platform": platform}
        values.update({column: getattr(device, name) for name, column in _COLUMNS.items()})
        values.update(extra or {})
        values.update(created_at=now, updated_at=now)
        await repository.upsert_device(session, values)

    # --- the ClientRecorder of logins and refreshes ----------------------------------------

    async def record_login_client(
        self, session: AsyncSession, *, user_id: int, platform: str, client: ClientInfo
    ) -> None:
        await self._upsert(session, user_id=user_id, platform=platform, device=client.device)

    async def record_refresh_client(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        platform: str,
        client: ClientInfo,
        opened_with: Device,
    ) -> None:
        if _says_something_new(client.device, opened_with):
            await self._upsert(session, user_id=user_id, platform=platform, device=client.device)

    # --- the user's and staff's calls ------------------------------------------------------

    async def update_device(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        platform: str,
        changes: dict[str, Any],
        client: ClientInfo,
    ) -> DeviceView:
        """The client's own word on its device of `platform` (its push token above all); what
        the body leaves out comes from the headers, and what neither names stays. A push
        token sent as null is forgotten."""
        device = client.device
        values: dict[str, Any] = {
            "user_id": user_id,
            "platform": platform,
            **{column: getattr(device, name) for name, column in _COLUMNS.items()},
        }
        values.update(changes)
        now = clock.now()
        values.update(created_at=now, updated_at=now)
        # A push token sent as null is forgotten; the other fields sent as null keep theirs.
        overwrite = frozenset({"push_token"} & changes.keys())
        await repository.upsert_device(session, values, overwrite=overwrite)
        row = await repository.device_of(session, user_id, platform)
        assert row is not None
        return DeviceView.of(row, whole=True)

    async def devices(
        self, session: AsyncSession, user_id: int, *, whole: bool = True
    ) -> list[DeviceView]:
        """The user's latest client per platform, the most recent first."""
        return [
            DeviceView.of(row, whole=whole) for row in await repository.devices_of(session, user_id)
        ]
