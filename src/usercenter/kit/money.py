"""Amounts between the API and the ledger: integers inside, strings outside.

Money (CNY) is kept in fen and shown as a decimal string with two places (`"12.30"`); coins and
points are whole units shown as integer strings (`"1500"`). `parse_amount` is the one way in.
"""

from __future__ import annotations

import re

_MONEY = re.compile(r"^(0|[1-9]\d{0,13})(?:\.(\d{1,2}))?$")
_UNITS = re.compile(r"^(0|[1-9]\d{0,15})$")

MONEY_ASSETS = frozenset({"CNY"})


def format_amount(asset: str, amount: int) -> str:
    """`1230` fen -> `"12.30"`; 1500 coins -> `"1500"`."""
    if asset not in MONEY_ASSETS:
        return str(amount)
    sign = "-" if amount < 0 else ""
    whole, fen = divmod(abs(amount), 100)
    return f"{sign}{whole}.{fen:02d}"


def parse_amount(asset: str, value: str | int) -> int:
    """The integer amount a client wrote: `"12.3"` -> 1230 fen for money, `"15"` or 15 ->
    15 for coins and points. ValueError (with a reason) for anything else, zero and negatives
    included."""
    text = str(value).strip() if not isinstance(value, bool) else ""
    if asset in MONEY_ASSETS:
        match = _MONEY.match(text)
        if match is None:
            raise ValueError("write money as a positive decimal with at most two places")
        amount = int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
    else:
        if _UNITS.match(text) is None:
            raise ValueError("write coins and points as a positive whole number")
        amount = int(text)
    if amount <= 0:
        raise ValueError("must be more than zero")
    return amount
