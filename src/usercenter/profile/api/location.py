"""Routes of the location: the user's own."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from usercenter.deps import Client, ReadSession, WriteSession, provided
from usercenter.kit.schemas import optional_body
from usercenter.profile.schemas.location import LocationAnswer, LocationOut, LocationUpdate
from usercenter.profile.service.location import LocationService
from usercenter.tokens.auth import CurrentClaims

Locations = Annotated[LocationService, Depends(provided(LocationService))]

router = APIRouter(tags=["profile"])


@router.get("/v1/me/location", summary="The last known location")
async def get_location(
    claims: CurrentClaims, locations: Locations, session: ReadSession
) -> LocationAnswer:
    view = await locations.location(session, claims.user_id)
    return LocationAnswer(location=LocationOut.of(view) if view else None)


@router.put(
    "/v1/me/location",
    summary="Replace the last known location (coordinates need the location consent)",
)
async def update_location(
    body: Annotated[LocationUpdate, optional_body(LocationUpdate)],
    claims: CurrentClaims,
    locations: Locations,
    session: WriteSession,
    client: Client,
) -> LocationAnswer:
    view = await locations.update_location(
        session,
        user_id=claims.user_id,
        source=body.source,
        client=client,
        latitude=body.latitude,
        longitude=body.longitude,
        region_code=body.region_code,
    )
    return LocationAnswer(location=LocationOut.of(view))
