"""The events of the profile module (see `usercenter.kit.events`): masked values only."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from usercenter.kit.events import Event

# --- addresses ---


class _AddressEvent(Event):
    subject_kind: ClassVar[str] = "users"

    user_id: int
    address_id: int


class _AddressSnapshot(_AddressEvent):
    """What a consumer may know of an address without asking the API: ids, region codes and
    the receiver masked."""

    province_code: str
    city_code: str
    district_code: str
    receiver_name_masked: str = Field(description="张*")
    receiver_phone_masked: str = Field(description="139****1234")
    tag: str | None = None
    is_default: bool


class AddressAdded(_AddressSnapshot):
    event_type: ClassVar[str] = "usercenter.address.added"
    summary: ClassVar[str] = "A user saved a delivery address (the first one becomes the default)"


class AddressChanged(_AddressSnapshot):
    event_type: ClassVar[str] = "usercenter.address.changed"
    summary: ClassVar[str] = "A user changed a delivery address; `fields` names what"

    fields: list[str]


class AddressRemoved(_AddressEvent):
    event_type: ClassVar[str] = "usercenter.address.removed"
    summary: ClassVar[str] = (
        "A user deleted a delivery address; when it was the default, `new_default_id` names "
        "the address promoted in its place"
    )

    was_default: bool
    new_default_id: int | None = None


class AddressDefaultChanged(_AddressEvent):
    event_type: ClassVar[str] = "usercenter.address.default_changed"
    summary: ClassVar[str] = "Another address became the user's default (`address_id`)"

    previous_default_id: int | None = None


# --- verification ---


class _VerificationEvent(Event):
    subject_kind: ClassVar[str] = "users"

    user_id: int
    uid: str = Field(description="The display uid (GD000001)")
    verification_id: int
    document_type: str = Field(description="id_card, passport, hk_macau_permit, taiwan_permit")
    real_name_masked: str = Field(description="张*")
    document_number_masked: str = Field(description="440***********1234")


class VerificationSubmitted(_VerificationEvent):
    event_type: ClassVar[str] = "usercenter.verification.submitted"
    summary: ClassVar[str] = (
        "A user submitted (or resubmitted) a real-name verification; it waits for a decision"
    )

    resubmitted: bool = Field(description="True: after a rejection")


class VerificationApproved(_VerificationEvent):
    event_type: ClassVar[str] = "usercenter.verification.approved"
    summary: ClassVar[str] = (
        "A real-name verification was approved (by staff or the ID check vendor), or changed by "
        "staff after approval"
    )

    decided_by: str = Field(description="staff or vendor")
    staff_id: int | None = None
    adult: bool = Field(description="Whether the holder is 18 or older now (birth date known)")


class VerificationRejected(_VerificationEvent):
    event_type: ClassVar[str] = "usercenter.verification.rejected"
    summary: ClassVar[str] = "A real-name verification was rejected, with the reason"

    decided_by: str = Field(description="staff or vendor")
    staff_id: int | None = None
    reason: str


# --- payment password ---


class PaymentPasswordChanged(Event):
    event_type: ClassVar[str] = "usercenter.payment_password.changed"
    subject_kind: ClassVar[str] = "users"
    summary: ClassVar[str] = "A user's payment password was set, changed or reset (never its value)"

    user_id: int
    uid: str = Field(description="The display uid (GD000001)")
    how: Literal["set", "changed", "reset"] = Field(
        description="set: the first time (SMS code); changed: with the old one; reset: by SMS"
    )


# --- consents ---


class _ConsentEvent(Event):
    subject_kind: ClassVar[str] = "users"

    user_id: int
    kind: str = Field(description="privacy_policy, terms, location, marketing or real_name")
    version: str | None = Field(default=None, description="The policy's version (policies)")
    platform: str | None = Field(default=None, description="Where it was given: MINIAPP, APP …")


class ConsentGranted(_ConsentEvent):
    event_type: ClassVar[str] = "usercenter.consent.granted"
    summary: ClassVar[str] = "A user gave a consent (a policy version, location, marketing …)"


class ConsentWithdrawn(_ConsentEvent):
    event_type: ClassVar[str] = "usercenter.consent.withdrawn"
    summary: ClassVar[str] = (
        "A user withdrew a consent; what it covered stops (a withdrawn location consent "
        "erases the stored precise location)"
    )
