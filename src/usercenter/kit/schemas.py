"""API shapes shared by several modules."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated, Any

from annotated_types import Ge, Le
from fastapi import Body
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from usercenter.kit import clock

# The largest value a signed 64-bit column (BIGINT) holds. Every id, count or amount that reaches
# the database is bounded by it in the API, so a larger one is a 422 naming the field instead of
# an overflow inside the driver (a 500).
MAX_INT64 = 2**63 - 1

# A row id in a path, a query or a body: 1 to MAX_INT64.
Id = Annotated[int, Ge(1), Le(MAX_INT64)]
# A count or an amount in the smallest unit that a BIGINT column stores: 0 to MAX_INT64.
Int64 = Annotated[int, Ge(0), Le(MAX_INT64)]


_HTTPS_URL = r"^https://[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?([/?#][!-~]*)?$"
_HTTPS_URL_RE = re.compile(_HTTPS_URL)


def _https_url(value: str) -> str:
    if not _HTTPS_URL_RE.fullmatch(value):
        raise PydanticCustomError("https_url_required", "Should be a URL starting with https://")
    return value


# A link the API hands to browsers and mini programs (avatars, images): https, a host name, no
# spaces, at most 512 characters. The pattern is published in the schema; the check is ours, so
# that the error's code says what is wrong (`https_url_required`).
HttpsUrl = Annotated[
    str,
    Field(max_length=512, json_schema_extra={"pattern": _HTTPS_URL}),
    AfterValidator(_https_url),
]

EARLIEST_BIRTHDAY = date(1900, 1, 1)


def _past_birthday(value: date) -> date:
    today = (clock.now() + timedelta(hours=14)).date()  # today somewhere: UTC+14 is the first
    if not EARLIEST_BIRTHDAY <= value <= today:
        raise PydanticCustomError(
            "date_out_of_range",
            "Should be between {earliest} and {latest}",
            {"earliest": EARLIEST_BIRTHDAY.isoformat(), "latest": today.isoformat()},
        )
    return value


def _date_text(value: object) -> object:
    # Pydantic reads a number as seconds since 1970 (`0` -> 1970-01-01): not a date to a client.
    if not isinstance(value, str | date):
        raise PydanticCustomError("date_type", "Input should be an ISO 8601 date")
    return value


# A date of birth, written `YYYY-MM-DD`: from 1900-01-01 to today (the injectable clock's).
Birthday = Annotated[date, BeforeValidator(_date_text), AfterValidator(_past_birthday)]


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")


def optional_body(model: type[BaseModel]) -> Any:
    """The body of a route whose fields are all optional: an empty body, or none at all, reads
    as `{}` instead of a 415. `body: Annotated[ProfileUpdate, optional_body(ProfileUpdate)]`."""
    return Body(default_factory=model)


class CaptchaOut(Schema):
    captcha_id: str = Field(description="Send back with the answer")
    image: str = Field(description="data: URL of a PNG")
    expires_in: int = Field(description="Seconds the captcha stays valid")
