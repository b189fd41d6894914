"""API shapes shared by several modules."""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field

# The largest value a signed 64-bit column (BIGINT) holds. Every id, count or amount that reaches
# the database is bounded by it in the API, so a larger one is a 422 naming the field instead of
# an overflow inside the driver (a 500).
MAX_INT64 = 2**63 - 1

# A row id in a path, a query or a body: 1 to MAX_INT64.
Id = Annotated[int, Ge(1), Le(MAX_INT64)]
# A count or an amount in the smallest unit that a BIGINT column stores: 0 to MAX_INT64.
Int64 = Annotated[int, Ge(0), Le(MAX_INT64)]


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")


class CaptchaOut(Schema):
    captcha_id: str = Field(description="Send back with the answer")
    image: str = Field(description="data: URL of a PNG")
    expires_in: int = Field(description="Seconds the captcha stays valid")
