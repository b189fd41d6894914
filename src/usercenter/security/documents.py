"""Identity documents people type: the resident ID card (GB 11643-1999: area, birth date,
sequence and sex, ISO 7064 MOD 11-2 check character) and the formats of passports and of the
Hong Kong/Macau and Taiwan permits. `parse_document` normalises a number and says what is wrong
with it as a stable reason; the caller turns a reason into its own error."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from usercenter.security.validators import id_card_ok

EARLIEST_BIRTH_DATE = date(1900, 1, 1)


class DocumentType(StrEnum):
    ID_CARD = "id_card"  # 居民身份证
    PASSPORT = "passport"  # 护照
    HK_MACAU_PERMIT = "hk_macau_permit"  # 港澳居民来往内地通行证
    TAIWAN_PERMIT = "taiwan_permit"  # 台湾居民来往大陆通行证


class DocumentProblem(StrEnum):
    """Why a number was refused (the stable codes of the API's errors)."""

    ID_NUMBER_INVALID = "id_number_invalid"  # length, characters or check character
    ID_AREA_INVALID = "id_area_invalid"  # no such province (first two digits)
    ID_BIRTH_DATE_INVALID = "id_birth_date_invalid"  # no such day, future, or before 1900
    DOCUMENT_NUMBER_INVALID = "document_number_invalid"  # passport, permits: the format


# GB/T 2260 provinces (the first two digits); 71, 81, 82 and 83 are Taiwan, Hong Kong, Macau and
# the residence permits of their residents (830000). The full six-digit code is not checked:
# counties are merged and renamed while the numbers they issued stay valid for life.
_PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83}
)
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
# Chinese passports: E + 8 digits, E + a letter + 7 digits, G + 8 digits (older); other
# countries' passports: 5 to 17 letters and digits (ICAO 9303 allows up to 9 in the MRZ, some
# countries use longer ones on the page).
_PASSPORT = re.compile(r"[A-Z0-9]{5,17}")
# 港澳居民来往内地通行证 (回乡证): H (Hong Kong) or M (Macau) and 8 digits, or 10 digits on the
# cards issued before 2013.
_HK_MACAU = re.compile(r"[HM](?:[0-9]{8}|[0-9]{10})")
# 台湾居民来往大陆通行证 (台胞证): 8 digits since the 2015 card.
_TAIWAN = re.compile(r"[0-9]{8}")
_SPACES = re.compile(r"[\s\-]")


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """A document number as stored: normalised (upper case, no spaces), and what an ID card
    says about its holder (None for the other documents)."""

    document_type: DocumentType
    number: str
    birth_date: date | None = None
    sex: str | None = None  # "male" (17th digit odd) or "female"


class DocumentInvalid(ValueError):
    def __init__(self, problem: DocumentProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def normalise_number(number: str) -> str:
    """Upper case, without spaces or dashes (`11010519491231002x` -> `...002X`)."""
    return _SPACES.sub("", number).upper()


def parse_id_card(number: str, *, today: date) -> ParsedDocument:
    """An 18-character resident ID card number; DocumentInvalid with the reason if it is not
    one: its shape and check character, its province, a real birth date from 1900 to `today`."""
    value = normalise_number(number)
    if not _ID_SHAPE.fullmatch(value) or not id_card_ok(value):
        raise DocumentInvalid(DocumentProblem.ID_NUMBER_INVALID)
    if int(value[:2]) not in _PROVINCES:
        raise DocumentInvalid(DocumentProblem.ID_AREA_INVALID)
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise DocumentInvalid(DocumentProblem.ID_BIRTH_DATE_INVALID) from None
    if not EARLIEST_BIRTH_DATE <= born <= today:
        raise DocumentInvalid(DocumentProblem.ID_BIRTH_DATE_INVALID)
    sex = "male" if int(value[16]) % 2 == 1 else "female"
    return ParsedDocument(DocumentType.ID_CARD, value, born, sex)


def parse_document(document_type: DocumentType, number: str, *, today: date) -> ParsedDocument:
    """`number` checked for `document_type` and normalised; DocumentInvalid if it is not one."""
    if document_type is DocumentType.ID_CARD:
        return parse_id_card(number, today=today)
    value = normalise_number(number)
    pattern = {
        DocumentType.PASSPORT: _PASSPORT,
        DocumentType.HK_MACAU_PERMIT: _HK_MACAU,
        DocumentType.TAIWAN_PERMIT: _TAIWAN,
    }[document_type]
    if not pattern.fullmatch(value):
        raise DocumentInvalid(DocumentProblem.DOCUMENT_NUMBER_INVALID)
    return ParsedDocument(document_type, value)


def age_on(birth_date: date, today: date) -> int:
    """Whole years from `birth_date` to `today` (周岁): one year older on each birthday; a
    29 February birthday counts on 1 March in other years."""
    years = today.year - birth_date.year
    if (today.month, today.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years
