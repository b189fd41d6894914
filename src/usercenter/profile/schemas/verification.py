"""API shapes of real-name verification: masked everywhere; whole only in the staff detail when
a holder of `user:pii:view` asked."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from usercenter.kit.schemas import Birthday, Schema
from usercenter.profile.service.verification_views import (
    StaffVerificationDetail,
    VerificationForService,
    VerificationView,
)
from usercenter.security.documents import DocumentType

_OBJECT_KEY = r"^[A-Za-z0-9][A-Za-z0-9/_.\-]{0,254}$"
_OBJECT_KEY_RE = re.compile(_OBJECT_KEY)


def _object_key(value: str) -> str:
    if not _OBJECT_KEY_RE.fullmatch(value) or ".." in value or "//" in value:
        raise PydanticCustomError(
            "object_key_invalid",
            "Should be an object key: letters, digits, '/', '_', '.', '-' (no '..'), "
            "at most 255 characters",
        )
    return value


# A photo's key in the object store the mini program uploaded it to (the user center keeps the
# reference, never the image): `verify/2026/11/abc.jpg`.
ObjectKey = Annotated[
    str,
    Field(max_length=255, json_schema_extra={"pattern": _OBJECT_KEY}),
    AfterValidator(_object_key),
]
StatusName = Literal["none", "pending", "approved", "rejected"]


class VerificationIn(Schema):
    real_name: str = Field(max_length=64, description="The name on the document: 张三")
    document_type: DocumentType = Field(
        default=DocumentType.ID_CARD,
        description="id_card, passport, hk_macau_permit or taiwan_permit",
    )
    document_number: str = Field(max_length=32, description="As printed; `x` is read as `X`")
    photo_front: ObjectKey | None = Field(default=None, description="Object key: front side")
    photo_back: ObjectKey | None = Field(default=None, description="Object key: back side")
    photo_held: ObjectKey | None = Field(default=None, description="Object key: held in hand")
    birth_date: Birthday | None = Field(
        default=None,
        description="Other documents than the ID card (whose number carries it): the holder's",
    )


class StaffVerificationChangeIn(VerificationIn):
    reason: str = Field(min_length=1, max_length=200, description="Why staff changed it (logged)")


class RejectIn(Schema):
    reason: str = Field(min_length=1, max_length=200, description="Shown to the user")


class VerificationOut(Schema):
    id: int | None = Field(description="None while nothing was submitted")
    status: StatusName = Field(description="none, pending, approved or rejected")
    document_type: str | None = Field(description="id_card, passport, …")
    real_name_masked: str | None = Field(description="张*")
    document_number_masked: str | None = Field(description="440***********1234")
    sex: str | None = Field(description="From an ID card: male or female")
    birth_year: int | None = Field(description="From an ID card (or as submitted)")
    reason: str | None = Field(description="Why it was rejected (or changed by staff)")
    decided_by: str | None = Field(description="staff or vendor")
    submitted_at: datetime | None
    decided_at: datetime | None

    @classmethod
    def of(cls, view: VerificationView) -> VerificationOut:
        return cls(
            id=view.id,
            status=view.status,
            document_type=view.document_type,
            real_name_masked=view.real_name_masked,
            document_number_masked=view.document_number_masked,
            sex=view.sex,
            birth_year=view.birth_year,
            reason=view.reason,
            decided_by=view.decided_by,
            submitted_at=view.submitted_at,
            decided_at=view.decided_at,
        )


class AdminVerificationOut(VerificationOut):
    user_id: int
    vendor_result: str | None = Field(description="What the ID check vendor said, if asked")

    @classmethod
    def of_view(cls, view: VerificationView) -> AdminVerificationOut:
        return cls(
            **VerificationOut.of(view).model_dump(),
            user_id=view.user_id,
            vendor_result=view.vendor_result,
        )


class AdminVerificationPage(Schema):
    items: list[AdminVerificationOut]
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next page")


class VerificationHistoryOut(Schema):
    action: str = Field(description="submitted, resubmitted, approved, rejected, …")
    from_status: str
    to_status: str
    actor: str = Field(description="user, staff or vendor")
    staff_id: int | None
    reason: str | None
    created_at: datetime


class AdminVerificationDetailOut(Schema):
    verification: AdminVerificationOut
    reviewer_id: int | None
    history: list[VerificationHistoryOut]
    pii_revealed: bool = Field(description="True: the fields below are whole (and logged)")
    real_name: str | None = Field(description="Whole, only when revealed")
    document_number: str | None = Field(description="Whole, only when revealed")
    birth_date: date | None = Field(description="Only when revealed")
    photo_front: str | None = Field(description="Object key, only when revealed")
    photo_back: str | None = Field(description="Object key, only when revealed")
    photo_held: str | None = Field(description="Object key, only when revealed")

    @classmethod
    def of(cls, detail: StaffVerificationDetail) -> AdminVerificationDetailOut:
        return cls(
            verification=AdminVerificationOut.of_view(detail.view),
            reviewer_id=detail.reviewer_id,
            history=[
                VerificationHistoryOut(
                    action=h.action,
                    from_status=h.from_status,
                    to_status=h.to_status,
                    actor=h.actor,
                    staff_id=h.staff_id,
                    reason=h.reason,
                    created_at=h.created_at,
                )
                for h in detail.history
            ],
            pii_revealed=detail.pii_revealed,
            real_name=detail.real_name,
            document_number=detail.document_number,
            birth_date=detail.birth_date,
            photo_front=detail.photo_front,
            photo_back=detail.photo_back,
            photo_held=detail.photo_held,
        )


class ServiceVerificationOut(Schema):
    verified: bool = Field(description="An approved verification")
    adult: bool = Field(description="Verified and 18 or older today (China time)")
    document_type: str | None
    status: StatusName

    @classmethod
    def of(cls, view: VerificationForService) -> ServiceVerificationOut:
        return cls(
            verified=view.verified,
            adult=view.adult,
            document_type=view.document_type,
            status=view.status,
        )
