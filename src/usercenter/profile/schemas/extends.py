"""API shapes of the extension fields (seed 003 users_extends)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from pydantic import Field, StrictBool, StringConstraints

from usercenter.identity.extend_values import MAX_VALUE_LENGTH
from usercenter.identity.models import ExtendKeyStatus, ExtendType
from usercenter.identity.views import ExtendKeyView, ExtendValue
from usercenter.kit.schemas import Schema

ExtendKeyName = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$", min_length=1, max_length=64)
]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Option = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Options = Annotated[list[Option], Field(min_length=1, max_length=100)]
MaxLength = Annotated[int, Field(ge=1, le=MAX_VALUE_LENGTH)]
SortOrder = Annotated[int, Field(ge=-1_000_000, le=1_000_000)]

# What a client sends for a key: a value of its type, or null to remove it.
ExtendValueIn = ExtendValue | float | None


class ExtendKeyIn(Schema):
    key: ExtendKeyName = Field(description="A slug: lower-case letters, digits, underscores")
    label: Label = Field(description="What the console and clients call it")
    type: ExtendType = Field(description="string, integer, decimal, boolean, date or enum")
    options: Options | None = Field(default=None, description="The values an enum allows")
    max_length: MaxLength | None = Field(
        default=None, description=f"Longest value in characters (at most {MAX_VALUE_LENGTH})"
    )
    is_user_editable: StrictBool = Field(default=False, description="Whether users may change it")
    sort_order: SortOrder = Field(default=0, description="Display order, smallest first")


class ExtendKeyUpdate(Schema):
    """Only the fields sent change; a key's type never does."""

    label: Label | None = Field(default=None, description="What the console and clients call it")
    options: Options | None = Field(default=None, description="The values an enum allows")
    max_length: MaxLength | None = Field(default=None, description="Longest value in characters")
    is_user_editable: StrictBool | None = Field(
        default=None, description="Whether users may change it"
    )
    status: ExtendKeyStatus | None = Field(
        default=None, description="active, or disabled (its values kept, not shown)"
    )
    sort_order: SortOrder | None = Field(default=None, description="Display order")


class ExtendKeyOut(Schema):
    key: str
    label: str
    type: str = Field(description="string, integer, decimal, boolean, date or enum")
    options: list[str] | None = Field(description="The values an enum allows")
    max_length: int | None
    is_user_editable: bool
    status: str = Field(description="active or disabled")
    sort_order: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: ExtendKeyView) -> ExtendKeyOut:
        return cls.model_validate(asdict(view))


class ExtendKeyList(Schema):
    items: list[ExtendKeyOut]


class ExtendsOut(Schema):
    extends: dict[str, ExtendValue] = Field(
        description="The values by key: strings, integers, booleans; decimals and dates as strings"
    )
