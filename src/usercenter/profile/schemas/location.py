"""API shapes of the location."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import Field

from usercenter.kit.schemas import Schema
from usercenter.profile.service.location import LocationSource, LocationView

Latitude = Annotated[Decimal, Field(ge=-90, le=90, max_digits=10, decimal_places=7)]
Longitude = Annotated[Decimal, Field(ge=-180, le=180, max_digits=10, decimal_places=7)]


class LocationUpdate(Schema):
    latitude: Latitude | None = Field(
        default=None, description="Degrees, 7 places at most; needs the location consent"
    )
    longitude: Longitude | None = Field(default=None, description="Degrees, 7 places at most")
    region_code: str | None = Field(
        default=None, min_length=6, max_length=6, description="GB/T 2260 district code"
    )
    source: LocationSource = Field(default=LocationSource.GPS, description="gps, ip or manual")


class LocationOut(Schema):
    latitude: Decimal | None = Field(description="Degrees, 7 places")
    longitude: Decimal | None = Field(description="Degrees, 7 places")
    region_code: str | None
    source: str
    located_at: datetime

    @classmethod
    def of(cls, view: LocationView) -> LocationOut:
        return cls(
            latitude=view.latitude,
            longitude=view.longitude,
            region_code=view.region_code,
            source=view.source,
            located_at=view.located_at,
        )


class LocationAnswer(Schema):
    location: LocationOut | None = Field(description="None: no location known")
