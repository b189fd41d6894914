"""Check digits of the numbers people type: bank cards (Luhn) and resident ID cards (GB 11643).
True or False only; the caller decides which error a wrong number is."""

from __future__ import annotations

_ID_CARD_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def luhn_ok(number: str) -> bool:
    """The Luhn check digit of a card number (ISO/IEC 7812)."""
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def bank_card_ok(number: str) -> bool:
    """A bank card number: 12 to 19 digits with a right Luhn digit."""
    return number.isdigit() and 12 <= len(number) <= 19 and luhn_ok(number)


def id_card_ok(number: str) -> bool:
    """An 18-character resident ID card number with its GB 11643 check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_CARD_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()
