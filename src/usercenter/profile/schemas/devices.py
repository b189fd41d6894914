"""API shapes of devices."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from usercenter.kit.client import UserPlatform
from usercenter.kit.schemas import Schema
from usercenter.profile.service.devices import DeviceView


class DeviceUpdate(Schema):
    """What the body leaves out comes from the device headers; what neither names stays."""

    platform: UserPlatform = Field(description="The platform the client runs on")
    push_token: str | None = Field(
        default=None, max_length=255, description="The push service's token; null forgets it"
    )
    device_id: str | None = Field(default=None, min_length=1, max_length=128)
    vendor: str | None = Field(default=None, min_length=1, max_length=64)
    model: str | None = Field(default=None, min_length=1, max_length=64)
    os_name: str | None = Field(default=None, min_length=1, max_length=32)
    os_version: str | None = Field(default=None, min_length=1, max_length=32)
    client_name: str | None = Field(default=None, min_length=1, max_length=64)
    client_version: str | None = Field(default=None, min_length=1, max_length=32)
    channel: str | None = Field(
        default=None, min_length=1, max_length=32, description="Market or channel (huawei …)"
    )


class DeviceOut(Schema):
    platform: str
    device_id: str | None = Field(description="Whole to the user, masked to staff")
    vendor: str | None
    model: str | None
    os_name: str | None
    os_version: str | None
    client_name: str | None
    client_version: str | None
    channel: str | None
    push_token: str | None = Field(description="Whole to the user, masked to staff")
    updated_at: datetime

    @classmethod
    def of(cls, view: DeviceView) -> DeviceOut:
        return cls(
            platform=view.platform,
            device_id=view.device_id,
            vendor=view.vendor,
            model=view.model,
            os_name=view.os_name,
            os_version=view.os_version,
            client_name=view.client_name,
            client_version=view.client_version,
            channel=view.channel,
            push_token=view.push_token,
            updated_at=view.updated_at,
        )


class DeviceList(Schema):
    items: list[DeviceOut]
