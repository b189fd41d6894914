"""API shapes of the addresses. Coordinates leave the API as decimal strings with seven places
(`"23.1290800"`), as the wallet's amounts leave it as strings; they come in as strings or
numbers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from usercenter.identity.schemas import ResolvedRegionOut
from usercenter.kit.schemas import Schema
from usercenter.profile.service.addresses import AddressView

SEVEN_PLACES = Decimal("0.0000001")

RegionCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]


def _text(max_length: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


ReceiverName = Annotated[str, _text(50)]
ReceiverPhone = Annotated[str, _text(20)]
Street = Annotated[str, _text(50)]
Detail = Annotated[str, _text(200)]
Postcode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
Latitude = Annotated[Decimal, Field(ge=-90, le=90, max_digits=10, decimal_places=7)]
Longitude = Annotated[Decimal, Field(ge=-180, le=180, max_digits=10, decimal_places=7)]
Tag = Literal["home", "company", "other"]


def coordinate_text(value: Decimal | None) -> str | None:
    """`Decimal("23.12908")` -> `"23.1290800"`: seven places, as stored."""
    return None if value is None else format(value.quantize(SEVEN_PLACES), "f")


class AddressIn(Schema):
    receiver_name: ReceiverName = Field(description="Who receives the parcel")
    receiver_phone: ReceiverPhone = Field(description="Mainland mobile, 11 digits (+86 allowed)")
    region_code: RegionCode = Field(description="GB/T 2260 county-level code (the district)")
    street: Street | None = Field(default=None, description="Street or township")
    detail: Detail = Field(description="Road, house number, building, room")
    postcode: Postcode | None = Field(default=None, description="Six digits")
    latitude: Latitude | None = Field(
        default=None, description="Degrees, up to 7 places (string or number); with longitude"
    )
    longitude: Longitude | None = Field(
        default=None, description="Degrees, up to 7 places (string or number); with latitude"
    )
    tag: Tag | None = Field(default=None, description="home, company or other")
    is_default: StrictBool = Field(default=False, description="Make it the default at once")


# Fields an update may not clear (null): an address always has them.
_REQUIRED = ("receiver_name", "receiver_phone", "region_code", "detail")


class AddressUpdate(Schema):
    receiver_name: ReceiverName | None = None
    receiver_phone: ReceiverPhone | None = None
    region_code: RegionCode | None = None
    street: Street | None = Field(default=None, description="null clears it")
    detail: Detail | None = None
    postcode: Postcode | None = Field(default=None, description="null clears it")
    latitude: Latitude | None = Field(default=None, description="null clears it (with longitude)")
    longitude: Longitude | None = Field(default=None, description="null clears it (with latitude)")
    tag: Tag | None = Field(default=None, description="null clears it")

    @field_validator(*_REQUIRED, mode="before")
    @classmethod
    def _not_cleared(cls, value: Any) -> Any:
        if value is None:
            raise PydanticCustomError("not_nullable", "This field may be changed, not cleared")
        return value


class AddressOut(Schema):
    id: str = Field(description="Address id (a string: it may exceed 2^53)")
    receiver_name: str = Field(description="Whole for the owner and services; masked for staff")
    receiver_phone: str = Field(description="Whole for the owner and services; masked for staff")
    region_code: str = Field(description="The district's GB/T 2260 code")
    region: ResolvedRegionOut
    street: str | None
    detail: str = Field(description="Whole for the owner and services; masked for staff")
    postcode: str | None
    latitude: str | None = Field(description='Decimal string, 7 places: "23.1290800"')
    longitude: str | None = Field(description='Decimal string, 7 places: "113.2644300"')
    tag: str | None
    is_default: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: AddressView) -> AddressOut:
        region = view.region
        return cls(
            id=str(view.id),
            receiver_name=view.receiver_name,
            receiver_phone=view.receiver_phone,
            region_code=region.code,
            region=ResolvedRegionOut.model_validate(region.as_dict()),
            street=view.street,
            detail=view.detail,
            postcode=view.postcode,
            latitude=coordinate_text(view.latitude),
            longitude=coordinate_text(view.longitude),
            tag=view.tag,
            is_default=view.is_default,
            created_at=view.created_at,
            updated_at=view.updated_at,
        )


class AddressList(Schema):
    items: list[AddressOut]


class StaffAddressList(Schema):
    items: list[AddressOut] = Field(description="Masked unless revealed")
    pii_revealed: bool = Field(description="Whether the addresses are shown whole (logged)")
