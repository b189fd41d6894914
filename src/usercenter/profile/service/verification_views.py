"""The pieces of real-name verification that hold no rule of their own: what is submitted, what
each reader is shown (masked), the checks of a name, the masks, the adult check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from usercenter.kit import clock
from usercenter.kit.client import ClientInfo
from usercenter.profile import errors
from usercenter.profile.models import UserVerification
from usercenter.profile.verification_vendor import IdCheckOutcome
from usercenter.security.documents import DocumentProblem, DocumentType, age_on
from usercenter.security.masking import mask_id_card

ADULT_AGE = 18
NAME_CONTEXT = "user_verifications.real_name"
NUMBER_CONTEXT = "user_verifications.document_number"
INDEX_CONTEXT = "user_verifications.document_index"
_NAME_SEPARATORS = frozenset(" ·•.'-")

PROBLEMS: dict[DocumentProblem, type[errors.DocumentNumberInvalid]] = {
    DocumentProblem.ID_NUMBER_INVALID: errors.IdNumberInvalid,
    DocumentProblem.ID_AREA_INVALID: errors.IdAreaInvalid,
    DocumentProblem.ID_BIRTH_DATE_INVALID: errors.IdBirthDateInvalid,
    DocumentProblem.DOCUMENT_NUMBER_INVALID: errors.DocumentFormatInvalid,
}
# The reason a vendor's "no" is stored with (shown to the user and staff).
VENDOR_REASONS = {
    IdCheckOutcome.MISMATCH: "姓名与身份证号码不一致 (the name does not match the ID number)",
    IdCheckOutcome.NO_RECORD: "证件库中无此身份证号码 (no such ID number in the register)",
}


def china_today() -> date:
    return clock.now().astimezone(clock.CHINA_TIME).date()


def mask_document_number(document_type: str, number: str) -> str:
    """`440***********1234` for an ID card (and any number of 12 or more characters); a short
    one keeps its first and last two: `1*****78`."""
    if document_type == DocumentType.ID_CARD or len(number) >= 12:
        return mask_id_card(number)
    return number[:1] + "*" * (len(number) - 3) + number[-2:]


def checked_real_name(value: str) -> str:
    """The name, trimmed: 2 to 50 letters (any script) with spaces, `·`, `.`, `'` or `-`
    between them; RealNameInvalid if not."""
    name = " ".join(value.split())
    if not 2 <= len(name) <= 50 or not any(ch.isalpha() for ch in name):
        raise errors.RealNameInvalid()
    if any(not (ch.isalpha() or ch in _NAME_SEPARATORS) for ch in name):
        raise errors.RealNameInvalid()
    return name


@dataclass(frozen=True, slots=True)
class Submission:
    """What a user (or staff, for them) submits; the photos are object keys, not images."""

    real_name: str
    document_type: DocumentType
    document_number: str
    photo_front: str | None = None
    photo_back: str | None = None
    photo_held: str | None = None
    birth_date: date | None = None  # other documents than the ID card (checked on the photo)


@dataclass(frozen=True, slots=True)
class StaffContext:
    """The staff member acting, for the history, the change log and the events."""

    staff_id: int
    client: ClientInfo


@dataclass(frozen=True, slots=True)
class VerificationView:
    """A verification as its owner sees it (and staff lists show it): masked."""

    id: int | None
    user_id: int
    status: str
    document_type: str | None = None
    real_name_masked: str | None = None
    document_number_masked: str | None = None
    sex: str | None = None
    birth_year: int | None = None
    reason: str | None = None
    decided_by: str | None = None
    vendor_result: str | None = None
    submitted_at: datetime | None = None
    decided_at: datetime | None = None

    @classmethod
    def of(cls, row: UserVerification) -> VerificationView:
        return cls(
            id=row.id,
            user_id=row.user_id,
            status=row.status,
            document_type=row.document_type,
            real_name_masked=row.real_name_masked,
            document_number_masked=row.document_number_masked,
            sex=row.sex,
            birth_year=row.birth_date.year if row.birth_date else None,
            reason=row.reason,
            decided_by=row.decided_by,
            vendor_result=row.vendor_result,
            submitted_at=row.submitted_at,
            decided_at=row.decided_at,
        )


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    action: str
    from_status: str
    to_status: str
    actor: str
    staff_id: int | None
    reason: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StaffVerificationDetail:
    """A verification for staff: masked, and whole (name, number, birth date, photo keys) only
    when a holder of `user:pii:view` asked."""

    view: VerificationView
    reviewer_id: int | None
    history: list[HistoryEntry]
    pii_revealed: bool
    real_name: str | None = None
    document_number: str | None = None
    birth_date: date | None = None
    photo_front: str | None = None
    photo_back: str | None = None
    photo_held: str | None = None


@dataclass(frozen=True, slots=True)
class VerificationForService:
    """What another service of the business may know: verified, adult, never the number."""

    verified: bool
    adult: bool
    document_type: str | None
    status: str


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    """An approved identity as the payment password needs it (in process only, never shown):
    the birth date (refused as a password) and the ID card number's last six (a reset factor)."""

    birth_date: date | None
    number_last_six: str | None


def is_adult(birth_date: date | None) -> bool:
    """18 or older today (China time); unknown birth date: not known to be an adult."""
    return birth_date is not None and age_on(birth_date, china_today()) >= ADULT_AGE
