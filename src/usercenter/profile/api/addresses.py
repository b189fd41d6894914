"""Routes of the addresses: the owner's (`/v1/me/addresses`), the business's services'
(`/v1/users/{user_id}/addresses/…`, service credentials: an order snapshots one) and staff's
(`/v1/admin/users/{user_id}/addresses`, masked unless revealed)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from usercenter.access.auth import StaffActor, StaffWith
from usercenter.deps import Client, ReadSession, ServiceCaller, WriteSession, provided
from usercenter.kit.schemas import Id, optional_body
from usercenter.profile.schemas.addresses import (
    AddressIn,
    AddressList,
    AddressOut,
    AddressUpdate,
    StaffAddressList,
)
from usercenter.profile.service.addresses import AddressService
from usercenter.tokens.auth import CurrentClaims

router = APIRouter(tags=["addresses"])

Addresses = Annotated[AddressService, Depends(provided(AddressService))]
UserViewer = Annotated[StaffActor, StaffWith("user:view")]


@router.get("/v1/me/addresses", summary="My delivery addresses, the default first")
async def list_my_addresses(
    claims: CurrentClaims, addresses: Addresses, session: ReadSession
) -> AddressList:
    views = await addresses.list_addresses(session, claims.user_id)
    return AddressList(items=[AddressOut.of(view) for view in views])


@router.post(
    "/v1/me/addresses", status_code=201, summary="Save an address (the first is the default)"
)
async def add_my_address(
    body: AddressIn,
    claims: CurrentClaims,
    addresses: Addresses,
    session: WriteSession,
    client: Client,
) -> AddressOut:
    view = await addresses.add_address(session, claims.user_id, body.model_dump(), client)
    return AddressOut.of(view)


@router.patch("/v1/me/addresses/{address_id}", summary="Change an address (only the fields sent)")
async def update_my_address(
    address_id: Id,
    body: Annotated[AddressUpdate, optional_body(AddressUpdate)],
    claims: CurrentClaims,
    addresses: Addresses,
    session: WriteSession,
    client: Client,
) -> AddressOut:
    view = await addresses.update_address(
        session, claims.user_id, address_id, body.model_dump(exclude_unset=True), client
    )
    return AddressOut.of(view)


@router.delete(
    "/v1/me/addresses/{address_id}",
    status_code=204,
    summary="Delete an address; deleting the default promotes the latest changed other one",
)
async def delete_my_address(
    address_id: Id,
    claims: CurrentClaims,
    addresses: Addresses,
    session: WriteSession,
    client: Client,
) -> None:
    await addresses.remove_address(session, claims.user_id, address_id, client)


@router.post("/v1/me/addresses/{address_id}/default", summary="Make an address the default")
async def set_my_default_address(
    address_id: Id,
    claims: CurrentClaims,
    addresses: Addresses,
    session: WriteSession,
    client: Client,
) -> AddressOut:
    view = await addresses.set_default(session, claims.user_id, address_id, client)
    return AddressOut.of(view)


# --- services -------------------------------------------------------------------------------


@router.get(
    "/v1/users/{user_id}/addresses/default",
    summary="A user's default address, whole (for delivery)",
)
async def service_default_address(
    user_id: Id, _: ServiceCaller, addresses: Addresses, session: ReadSession
) -> AddressOut:
    return AddressOut.of(await addresses.address_for_service(session, user_id, None))


@router.get(
    "/v1/users/{user_id}/addresses/{address_id}",
    summary="One of a user's addresses, whole (for delivery: an order snapshots it)",
)
async def service_address(
    user_id: Id, address_id: Id, _: ServiceCaller, addresses: Addresses, session: ReadSession
) -> AddressOut:
    return AddressOut.of(await addresses.address_for_service(session, user_id, address_id))


# --- staff ----------------------------------------------------------------------------------


@router.get(
    "/v1/admin/users/{user_id}/addresses",
    summary="A user's addresses, masked unless revealed (user:pii:view, logged)",
)
async def staff_user_addresses(
    user_id: Id,
    staff: UserViewer,
    addresses: Addresses,
    session: WriteSession,
    reveal: Annotated[bool, Query(description="Show them whole (user:pii:view)")] = False,
) -> StaffAddressList:
    views = await addresses.addresses_for_staff(
        session,
        user_id=user_id,
        effective=staff.permissions,
        audit_draft=staff.audit,
        reveal=reveal,
    )
    return StaffAddressList(items=[AddressOut.of(view) for view in views], pii_revealed=reveal)
