"""GB 11643 resident ID card numbers and the other documents' formats (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.profile.verification_helpers import id_number, wrong_check
from usercenter.security.documents import (
    DocumentInvalid,
    DocumentProblem,
    DocumentType,
    age_on,
    parse_document,
    parse_id_card,
)

TODAY = date(2026, 11, 28)


def problem(number: str, document_type: DocumentType = DocumentType.ID_CARD) -> DocumentProblem:
    with pytest.raises(DocumentInvalid) as refused:
        parse_document(document_type, number, today=TODAY)
    return refused.value.problem


class TestIdCard:
    def test_the_standard_example_is_valid_with_its_x_and_says_who(self) -> None:
        parsed = parse_id_card("11010519491231002X", today=TODAY)
        assert parsed.number == "11010519491231002X"
        assert parsed.birth_date == date(1949, 12, 31)
        assert parsed.sex == "female"  # 17th digit 2: even

    def test_a_lowercase_x_is_read_as_x(self) -> None:
        assert parse_id_card("11010519491231002x", today=TODAY).number == "11010519491231002X"

    def test_an_odd_17th_digit_is_male_and_spaces_are_dropped(self) -> None:
        number = id_number("19900307", sequence="123")
        spaced = f"{number[:6]} {number[6:14]} {number[14:]}"
        parsed = parse_id_card(spaced, today=TODAY)
        assert (parsed.number, parsed.sex, parsed.birth_date) == (
            number,
            "male",
            date(1990, 3, 7),
        )

    def test_a_wrong_check_character_is_refused(self) -> None:
        assert problem(wrong_check("11010519491231002X")) is DocumentProblem.ID_NUMBER_INVALID
        assert problem("110105194912310021") is DocumentProblem.ID_NUMBER_INVALID

    @pytest.mark.parametrize("number", ["", "1101051949123100", "11010519491231002XX", "A" * 18])
    def test_wrong_lengths_and_characters_are_refused(self, number: str) -> None:
        assert problem(number) is DocumentProblem.ID_NUMBER_INVALID

    def test_an_x_anywhere_but_last_is_refused(self) -> None:
        assert problem("1101051949123X0021") is DocumentProblem.ID_NUMBER_INVALID

    @pytest.mark.parametrize(
        "birth",
        ["19990230", "19991301", "19990001", "19990132", "21000229", "20261129", "18991231"],
    )
    def test_impossible_future_or_too_old_birth_dates_are_refused(self, birth: str) -> None:
        # With a right check character, so the date alone is at fault.
        assert problem(id_number(birth)) is DocumentProblem.ID_BIRTH_DATE_INVALID

    def test_a_leap_day_and_today_are_fine(self) -> None:
        assert parse_id_card(id_number("20000229"), today=TODAY).birth_date == date(2000, 2, 29)
        assert parse_id_card(id_number("20261128"), today=TODAY).birth_date == TODAY

    def test_an_area_of_no_province_is_refused(self) -> None:
        assert problem(id_number(area="990101")) is DocumentProblem.ID_AREA_INVALID
        assert problem(id_number(area="000000")) is DocumentProblem.ID_AREA_INVALID


class TestOtherDocuments:
    @pytest.mark.parametrize(
        ("document_type", "number", "stored"),
        [
            (DocumentType.PASSPORT, "e12345678", "E12345678"),
            (DocumentType.PASSPORT, "EA1234567", "EA1234567"),
            (DocumentType.HK_MACAU_PERMIT, "H12345678", "H12345678"),
            (DocumentType.HK_MACAU_PERMIT, "m1234567890", "M1234567890"),
            (DocumentType.TAIWAN_PERMIT, "12345678", "12345678"),
        ],
    )
    def test_valid_formats(self, document_type: DocumentType, number: str, stored: str) -> None:
        parsed = parse_document(document_type, number, today=TODAY)
        assert (parsed.number, parsed.birth_date, parsed.sex) == (stored, None, None)

    @pytest.mark.parametrize(
        ("document_type", "number"),
        [
            (DocumentType.PASSPORT, "E12"),
            (DocumentType.PASSPORT, "E1234567/"),
            (DocumentType.HK_MACAU_PERMIT, "X12345678"),
            (DocumentType.HK_MACAU_PERMIT, "H1234567"),
            (DocumentType.TAIWAN_PERMIT, "1234567"),
            (DocumentType.TAIWAN_PERMIT, "T1234567"),
        ],
    )
    def test_invalid_formats(self, document_type: DocumentType, number: str) -> None:
        assert problem(number, document_type) is DocumentProblem.DOCUMENT_NUMBER_INVALID


class TestAge:
    def test_eighteen_on_the_birthday_not_the_day_before(self) -> None:
        born = date(2008, 11, 28)
        assert age_on(born, date(2026, 11, 27)) == 17
        assert age_on(born, date(2026, 11, 28)) == 18

    def test_a_leap_day_birthday_counts_on_the_first_of_march(self) -> None:
        born = date(2008, 2, 29)
        assert age_on(born, date(2026, 2, 28)) == 17
        assert age_on(born, date(2026, 3, 1)) == 18
