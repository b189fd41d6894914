"""Amounts between the API and the ledger: integers inside, strings outside.

Money (CNY) is kept in fen and shown as a decimal string with two places (`"12.30"`); coins and
points are whole units shown as integer strings (`"1500"`). `parse_amount` is the one way in,
`format_amount` the one way out.
"""

from __future__ import annotations

import re

from usercenter.kit.i18n import Text

_MONEY = re.compile(r"^(0|[1-9]\d{0,13})(?:\.(\d{1,2}))?$")
_UNITS = re.compile(r"^(0|[1-9]\d{0,15})$")

MONEY_ASSETS = frozenset({"CNY"})

# Why an amount is refused, in both languages (shown after "The amount is not valid: ").
MONEY_FORMAT = Text(
    "现金金额须写成正的十进制数，最多两位小数（如 12.30）",
    "write money as a positive decimal with at most two places (such as 12.30)",
)
UNITS_FORMAT = Text("币和积分须写成正整数", "write coins and points as a positive whole number")
NOT_POSITIVE = Text("须大于零", "must be more than zero")
NOT_WHOLE_POSITIVE = Text("须为大于零的整数", "must be a whole number above zero")
NOT_NEGATIVE = Text("不能为负数", "must not be negative")
NOT_ZERO = Text("须为非零整数", "must be a whole number other than zero")
WRITTEN_FORMAT = Text(
    "金额须写成十进制字符串或整数", "write the amount as a decimal string or a whole number"
)
REASONS = (
    MONEY_FORMAT,
    UNITS_FORMAT,
    NOT_POSITIVE,
    NOT_WHOLE_POSITIVE,
    NOT_NEGATIVE,
    NOT_ZERO,
    WRITTEN_FORMAT,
)


class AmountError(ValueError):
    """An amount a client wrote that is not one; `reason` says why in both languages."""

    def __init__(self, reason: Text) -> None:
        super().__init__(reason.en)
        self.reason = reason


def format_amount(asset: str, amount: int) -> str:
    """`1230` fen -> `"12.30"`; 1500 coins -> `"1500"`."""
    if asset not in MONEY_ASSETS:
        return str(amount)
    sign = "-" if amount < 0 else ""
    whole, fen = divmod(abs(amount), 100)
    return f"{sign}{whole}.{fen:02d}"


def parse_amount(asset: str, value: str | int) -> int:
    """The integer amount a client wrote: `"12.3"` -> 1230 fen for money, `"15"` or 15 ->
    15 for coins and points. AmountError (with a reason) for anything else, zero and negatives
    included."""
    text = str(value).strip() if not isinstance(value, bool) else ""
    if asset in MONEY_ASSETS:
        match = _MONEY.match(text)
        if match is None:
            raise AmountError(MONEY_FORMAT)
        amount = int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
    else:
        if _UNITS.match(text) is None:
            raise AmountError(UNITS_FORMAT)
        amount = int(text)
    if amount <= 0:
        raise AmountError(NOT_POSITIVE)
    return amount
