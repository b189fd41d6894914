"""Routes of devices: the user's own, and staff's view of a user's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from usercenter.access.auth import StaffActor, StaffWith
from usercenter.deps import Client, ReadSession, WriteSession, provided
from usercenter.kit.schemas import Id
from usercenter.profile.schemas.devices import DeviceList, DeviceOut, DeviceUpdate
from usercenter.profile.service.devices import DeviceService
from usercenter.tokens.auth import CurrentClaims

Devices = Annotated[DeviceService, Depends(provided(DeviceService))]

router = APIRouter(tags=["profile"])


@router.get("/v1/me/devices", summary="The latest client on each platform")
async def list_devices(claims: CurrentClaims, devices: Devices, session: ReadSession) -> DeviceList:
    return DeviceList(
        items=[DeviceOut.of(view) for view in await devices.devices(session, claims.user_id)]
    )


@router.put("/v1/me/device", summary="Tell the client's device, its push token above all")
async def update_device(
    body: DeviceUpdate,
    claims: CurrentClaims,
    devices: Devices,
    session: WriteSession,
    client: Client,
) -> DeviceOut:
    changes = body.model_dump(exclude_unset=True, exclude={"platform"})
    view = await devices.update_device(
        session, user_id=claims.user_id, platform=body.platform, changes=changes, client=client
    )
    return DeviceOut.of(view)


@router.get(
    "/v1/admin/users/{user_id}/devices",
    summary="A user's latest client on each platform (device id and push token masked)",
)
async def user_devices(
    user_id: Id,
    staff: Annotated[StaffActor, StaffWith("user:view")],
    devices: Devices,
    session: WriteSession,
) -> DeviceList:
    staff.audit.target("user", user_id)
    views = await devices.devices(session, user_id, whole=False)
    return DeviceList(items=[DeviceOut.of(view) for view in views])
