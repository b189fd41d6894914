"""API shapes shared by several modules."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")


class CaptchaOut(Schema):
    captcha_id: str = Field(description="Send back with the answer")
    image: str = Field(description="data: URL of a PNG")
    expires_in: int = Field(description="Seconds the captcha stays valid")
