"""A user's last known location (seed 001 user_location): coordinates and region, where they
came from (gps, ip, manual) and when.

Precise location is sensitive personal information (PIPL art. 28): coordinates are taken only
while the user's `location` consent is given, and kept encrypted (`user_locations.coordinates`);
withdrawing the consent erases them (`ConsentService.set_consent`). A region code alone is not
precise and needs no consent. Region codes are checked by the validator the service is given
(the platform's regions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.audit import service as audit
from usercenter.kit import clock
from usercenter.kit.client import ClientInfo
from usercenter.kit.regions import RegionDirectory
from usercenter.profile.errors import (
    ConsentRequired,
    CoordinatesInvalid,
    LocationEmpty,
)
from usercenter.profile.models import UserLocation
from usercenter.profile.repository import location as repository
from usercenter.profile.service.consents import ConsentKind, ConsentService
from usercenter.security.crypto import FieldCipher

COORDINATES_CONTEXT = "user_locations.coordinates"
PLACES = Decimal("0.0000001")


class LocationSource(StrEnum):
    GPS = "gps"
    IP = "ip"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class LocationView:
    latitude: Decimal | None
    longitude: Decimal | None
    region_code: str | None
    source: str
    located_at: datetime


def _coordinates(latitude: Decimal | None, longitude: Decimal | None) -> tuple[Decimal, Decimal]:
    if latitude is None or longitude is None:
        raise CoordinatesInvalid(field="longitude" if longitude is None else "latitude")
    if not latitude.is_finite() or not -90 <= latitude <= 90:
        raise CoordinatesInvalid(field="latitude")
    if not longitude.is_finite() or not -180 <= longitude <= 180:
        raise CoordinatesInvalid(field="longitude")
    return latitude.quantize(PLACES), longitude.quantize(PLACES)


class LocationService:
    def __init__(
        self, *, cipher: FieldCipher, consents: ConsentService, regions: RegionDirectory
    ) -> None:
        self.cipher = cipher
        self.consents = consents
        self.regions = regions

    def _view(self, row: UserLocation) -> LocationView:
        latitude = longitude = None
        if row.coordinates_encrypted:
            text = self.cipher.decrypt(row.coordinates_encrypted, context=COORDINATES_CONTEXT)
            lat, _, lng = text.partition(",")
            latitude, longitude = Decimal(lat), Decimal(lng)
        return LocationView(
            latitude=latitude,
            longitude=longitude,
            region_code=row.region_code,
            source=row.source,
            located_at=row.located_at,
        )

    async def location(self, session: AsyncSession, user_id: int) -> LocationView | None:
        """The last known location; None when there is none."""
        row = await repository.location_of(session, user_id)
        if row is None or (row.coordinates_encrypted is None and row.region_code is None):
            return None
        return self._view(row)

    async def update_location(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        source: LocationSource,
        client: ClientInfo,
        latitude: Decimal | None = None,
        longitude: Decimal | None = None,
        region_code: str | None = None,
    ) -> LocationView:
        """Replace the last known location. Coordinates need the `location` consent given.
        Raises LocationEmpty, CoordinatesInvalid, RegionInvalid, ConsentRequired (nothing is
        written before every check passed)."""
        has_coordinates = latitude is not None or longitude is not None
        if not has_coordinates and region_code is None:
            raise LocationEmpty()
        encrypted = None
        if has_coordinates:
            lat, lng = _coordinates(latitude, longitude)
            if not await self.consents.is_granted(session, user_id, ConsentKind.LOCATION):
                raise ConsentRequired(field="latitude")
            encrypted = self.cipher.encrypt(f"{lat},{lng}", context=COORDINATES_CONTEXT)
        if region_code is not None:
            self.regions.resolve(region_code, field="region_code")
        now = clock.now()
        row = await repository.location_for_update(session, user_id, source.value, now)
        had_coordinates = row.coordinates_encrypted is not None
        row.coordinates_encrypted = encrypted
        row.region_code = region_code
        row.source = source.value
        row.located_at = now
        row.updated_at = now
        await session.flush()
        if has_coordinates and not had_coordinates:
            await audit.record_profile_change(
                session,
                user_id=user_id,
                action="update",
                attribute="location.coordinates",
                new_value="set",
                client=client,
            )
        return self._view(row)
