"""The values of extension fields (seed 003 users_extends), apart from I/O: a value sent by a
client checked against its key's type and length and put in its canonical text form (what the
table stores), and that text typed again for the API."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from usercenter.identity.models import ExtendType
from usercenter.identity.views import ExtendValue

# The widest value a key may allow (the column holds 1024 characters).
MAX_VALUE_LENGTH = 1024
# An integer key holds what a BIGINT column would.
_INT64 = 2**63 - 1
_DECIMAL = re.compile(r"-?[0-9]{1,30}(?:\.[0-9]{1,10})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True, slots=True)
class KeyRule:
    """What one key accepts: its type, its enum options, its maximum length."""

    type: str
    options: tuple[str, ...] = ()
    max_length: int | None = None


class ValueRejected(ValueError):
    """A value its key does not accept."""


def canonical(rule: KeyRule, value: object) -> str:
    """`value` (as decoded from JSON) in the text form the table keeps. Raises ValueRejected
    for a value of the wrong type, out of range, not among the options or too long."""
    text = _canonical(rule, value)
    limit = min(rule.max_length or MAX_VALUE_LENGTH, MAX_VALUE_LENGTH)
    if len(text) > limit:
        raise ValueRejected(f"longer than {limit}")
    return text


def _canonical(rule: KeyRule, value: object) -> str:
    match rule.type:
        case ExtendType.STRING:
            if not isinstance(value, str):
                raise ValueRejected("not a string")
            return value
        case ExtendType.INTEGER:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueRejected("not an integer")
            if not -_INT64 <= value <= _INT64:
                raise ValueRejected("out of range")
            return str(value)
        case ExtendType.DECIMAL:
            return _decimal(value)
        case ExtendType.BOOLEAN:
            if not isinstance(value, bool):
                raise ValueRejected("not a boolean")
            return "true" if value else "false"
        case ExtendType.DATE:
            if not isinstance(value, str) or not _DATE.fullmatch(value):
                raise ValueRejected("not a date (YYYY-MM-DD)")
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                raise ValueRejected("no such date") from None
        case ExtendType.ENUM:
            if not isinstance(value, str) or value not in rule.options:
                raise ValueRejected("not one of the options")
            return value
    raise ValueRejected(f"unknown type {rule.type}")


def _decimal(value: object) -> str:
    """A decimal as a string (`"12.50"`) or a JSON number; kept as written, without exponent."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueRejected("not a decimal")
    text = repr(value) if isinstance(value, float) else str(value)
    if not _DECIMAL.fullmatch(text):
        raise ValueRejected("not a decimal")
    try:
        Decimal(text)
    except InvalidOperation:
        raise ValueRejected("not a decimal") from None
    return text


def typed(type_: str, text: str) -> ExtendValue:
    """A stored value as the API shows it: an integer, a boolean, else the text (decimals and
    dates stay strings, as money does)."""
    if type_ == ExtendType.INTEGER:
        return int(text)
    if type_ == ExtendType.BOOLEAN:
        return text == "true"
    return text
