"""Masked forms of personal data, as the API and the logs show them.

`138****8888` for a mobile number, `440***********1234` for an 18-digit ID card,
`6222****1234` for a bank card, `z***@example.com` for an e-mail address. `mask_text` finds
the first three inside free text (log lines).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Mainland mobile numbers: 11 digits starting 13-19, not inside a longer run of digits.
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
# Resident ID card (GB 11643): area, birth date 18xx-20xx, sequence, check digit.
_ID_CARD = re.compile(
    r"(?<![0-9A-Za-z])([1-9]\d{2})(\d{3}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])"
    r"(?:0[1-9]|[12]\d|3[01])\d{3})([\dXx])(?![0-9A-Za-z])"
)
# Bank cards: 16 to 19 digits, possibly grouped by single spaces or dashes.
_BANK_CARD = re.compile(r"(?<!\d)\d(?:[ -]?\d){15,18}(?!\d)")


# E-mail addresses with a dotted domain (`usercenter@localhost` is a sender name, not personal).
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def mask_phone(phone: str) -> str:
    """`13812348888` (or `+8613812348888`, as stored) -> `138****8888`; other lengths keep the
    first 3 and last 4 at most."""
    digits = phone.strip().removeprefix("+86")
    if len(digits) <= 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_id_card(number: str, *, compact: bool = False) -> str:
    """`440101199001011234` -> `440***********1234` (or, `compact`, `440***1234`, as seed 004
    shows payout accounts): first 3 and last 4 shown."""
    value = number.strip()
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (3 if compact else len(value) - 7) + value[-4:]


def mask_name(name: str) -> str:
    """`张三` -> `张*`, `欧阳娜娜` -> `欧***`, `Zhang San` -> `Z********`: the first character."""
    value = name.strip()
    return value[:1] + "*" * (len(value) - 1) if value else ""


def mask_address(text: str) -> str:
    """`天河路385号太古汇` -> `天河路***`: a street or an address's detail shows its first three
    characters (the road, rarely more) and hides the house, building and room."""
    value = text.strip()
    if len(value) <= 3:
        return "*" * len(value)
    return value[:3] + "***"


def mask_bank_card(number: str) -> str:
    """`6222021234561234` -> `6222****1234`: first 4 and last 4 shown."""
    digits = re.sub(r"[\s-]", "", number)
    if len(digits) <= 8:
        return "*" * len(digits)
    return f"{digits[:4]}****{digits[-4:]}"


def mask_text(text: str) -> str:
    """Mask every e-mail address, ID card, bank card and mobile number found in `text`."""
    if "@" in text:
        text = _EMAIL.sub(lambda m: mask_email(m.group(0)), text)
    if not any(ch.isdigit() for ch in text):
        return text
    text = _ID_CARD.sub(lambda m: mask_id_card(m.group(0)), text)
    text = _BANK_CARD.sub(lambda m: mask_bank_card(m.group(0)), text)
    return _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


def mask_email(email: str) -> str:
    """`zhang.san@example.com` -> `z***@example.com`; a one-letter local part -> `*@domain`."""
    local, at, domain = email.strip().rpartition("@")
    if not at:
        return "***"
    if len(local) <= 1:
        return f"*@{domain}"
    return f"{local[0]}***@{domain}"


def _mask_other(value: str) -> str:
    """An opaque identifier (an openid): the first and last 2 characters of a long one."""
    value = value.strip()
    if len(value) <= 8:
        return "****"
    return f"{value[:2]}****{value[-2:]}"


def mask_ip(address: str) -> str:
    """`10.1.2.3` -> `10.1.*.*`; an IPv6 address keeps its first two groups."""
    value = address.strip()
    if "." in value and ":" not in value:
        parts = value.split(".")
        return ".".join(parts[:2] + ["*"] * (len(parts) - 2))
    groups = value.split(":")
    return ":".join(groups[:2]) + ":*" if len(groups) > 2 else "****"


def mask_device_id(device_id: str) -> str:
    """A device id: the first and last 2 characters of a long one."""
    return _mask_other(device_id)


def mask_identifier(identity_type: str, value: str) -> str:
    """The masked form of a login identifier: phone and e-mail masked, username shown."""
    if identity_type == "phone":
        return mask_phone(value)
    if identity_type == "email":
        return mask_email(value)
    if identity_type == "username":
        return value
    return _mask_other(value)


# Keys of a request whose values the admin log never keeps, and keys that hold personal data.
_SECRET_FIELDS = ("password", "code", "token", "secret", "otp", "captcha", "ticket")
_PERSONAL_FIELDS = (
    "phone",
    "mobile",
    "id_card",
    "idcard",
    "bank",
    "card",
    "email",
    "real_name",
    "document_number",
)


def masked_copy(value: Any, key: str = "") -> Any:
    """A request as the admin log keeps it: secrets replaced, personal data masked."""
    lowered = key.lower()
    if isinstance(value, Mapping):
        return {str(k): masked_copy(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [masked_copy(item, key) for item in value]
    if value is None or isinstance(value, bool):
        return value
    if any(word in lowered for word in _SECRET_FIELDS):
        return "***"
    personal = any(word in lowered for word in _PERSONAL_FIELDS)
    if isinstance(value, int | float) and not personal:
        return value
    text = str(value)
    masked = mask_text(text)
    if personal and masked == text:
        return text[:1] + "***" if len(text) > 1 else "***"
    return masked
