"""Phones, e-mails, usernames and login names as the identity rules compare them."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import geocoder

from usercenter.identity.errors import EmailInvalid, UsernameInvalid, UsernameLooksLikePhone
from usercenter.identity.models import IdentityType
from usercenter.notify.errors import PhoneInvalid

USERNAME = re.compile(r"^[A-Za-z0-9_]{4,32}$")


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    e164: str
    national: str
    region: str | None


def normalize_phone(raw: str, *, field: str = "phone") -> PhoneNumber:
    """E.164 (`+86` when no country code is given); PhoneInvalid unless plausible."""
    try:
        number = phonenumbers.parse(raw.strip(), "CN")
    except phonenumbers.NumberParseException:
        raise PhoneInvalid(field=field) from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneInvalid(field=field)
    region = geocoder.description_for_number(number, "zh") if number.country_code == 86 else ""
    return PhoneNumber(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        national=str(number.national_number),
        region=region or None,
    )


def normalize_email(raw: str, *, field: str = "email") -> str:
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise EmailInvalid(field=field) from None
    return result.normalized.lower()


def normalize_username(raw: str, *, field: str = "username") -> str:
    """Lowercased; UsernameInvalid, or UsernameLooksLikePhone for digits only (a login of digits
    is read as a phone number, see `login_identifier`)."""
    if not USERNAME.fullmatch(raw.strip()):
        raise UsernameInvalid(field=field)
    if raw.strip().isdigit():
        raise UsernameLooksLikePhone(field=field)
    return raw.strip().lower()


def login_identifier(login: str) -> tuple[str, str] | None:
    """What a password login names: (identity type, normalised value), None when it is no
    phone, e-mail or username at all."""
    value = login.strip()
    if "@" in value:
        try:
            return IdentityType.EMAIL, normalize_email(value, field="login")
        except EmailInvalid:
            return None
    compact = value.replace(" ", "").replace("-", "")
    if compact.lstrip("+").isdigit():
        try:
            return IdentityType.PHONE, normalize_phone(compact, field="login").e164
        except PhoneInvalid:
            return None
    if USERNAME.fullmatch(value):
        return IdentityType.USERNAME, value.lower()
    return None
