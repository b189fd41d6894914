"""Pydantic's validation errors, wholly in zh-CN or wholly in English: never `须为以下之一：0, 1
or 2`. Real errors of the common types are made by a model and rendered in both languages."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

import httpx
import pytest
from annotated_types import Ge, Gt, Le, Lt, MultipleOf
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from usercenter.kit.schemas import Birthday, HttpsUrl
from usercenter.kit.validation_messages import join_alternatives, known_types, validation_message


class Colour(StrEnum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


class Everything(BaseModel):
    model_config = ConfigDict(extra="forbid")

    required: str
    text: str = ""
    short: str = Field(default="", max_length=2)
    long: str = Field(default="xxx", min_length=3)
    pattern: str = Field(default="a", pattern=r"^a+$")
    integer: int = 0
    strict: StrictInt = 0
    number: float = 0.0
    flag: bool = False
    gt: Annotated[int, Gt(5)] = 6
    ge: Annotated[int, Ge(5)] = 5
    lt: Annotated[int, Lt(5)] = 4
    le: Annotated[int, Le(5)] = 5
    multiple: Annotated[int, MultipleOf(3)] = 3
    literal: Literal[0, 1, 2] = 0
    colour: Colour = Colour.RED
    items: list[int] = Field(default_factory=list, max_length=2)
    nested: dict[str, int] = Field(default_factory=dict)
    day: date = date(2000, 1, 1)
    moment: datetime = datetime(2000, 1, 1)
    ident: uuid.UUID = uuid.UUID(int=0)
    amount: Decimal = Field(default=Decimal(0), max_digits=4, decimal_places=2)
    avatar: HttpsUrl = "https://example.com/a.png"
    birthday: Birthday = date(2000, 1, 1)


BAD: dict[str, Any] = {
    "text": 5,
    "short": "abcdef",
    "long": "a",
    "pattern": "b",
    "integer": "x",
    "strict": True,
    "number": "x",
    "flag": "maybe",
    "gt": 1,
    "ge": 1,
    "lt": 9,
    "le": 9,
    "multiple": 4,
    "literal": 7,
    "colour": "pink",
    "items": [1, 2, 3],
    "nested": [],
    "day": "yesterday",
    "moment": "soon",
    "ident": "nope",
    "amount": "123.456",
    "avatar": "http://example.com/a.png",
    "birthday": "1800-01-01",
    "surprise": 1,
}

LATIN = re.compile(r"[A-Za-z]{2,}")
ENGLISH_WORD = re.compile(r"[A-Za-z]*[a-z][A-Za-z]*")
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def errors() -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        Everything(**BAD)
    found: list[dict[str, Any]] = [dict(e) for e in caught.value.errors()]
    return found


def test_the_model_makes_every_common_error_type(errors: list[dict[str, Any]]) -> None:
    types = {e["type"] for e in errors}
    assert types >= {
        "missing",
        "extra_forbidden",
        "string_type",
        "string_too_long",
        "string_too_short",
        "string_pattern_mismatch",
        "int_parsing",
        "int_type",
        "float_parsing",
        "bool_parsing",
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "multiple_of",
        "literal_error",
        "enum",
        "too_long",
        "dict_type",
        "date_from_datetime_parsing",
        "datetime_from_date_parsing",
        "uuid_parsing",
        "decimal_max_digits",
        "https_url_required",
        "date_out_of_range",
    }, types
    assert types <= known_types(), types - known_types()


def test_chinese_messages_have_no_english_words(errors: list[dict[str, Any]]) -> None:
    for error in errors:
        message = validation_message(error, "zh-CN")
        # Quoted values ('red'), the `https://` of a rule and names (ISO 8601, UUID, Unicode)
        # are not English words.
        words = ENGLISH_WORD.findall(re.sub(r"'[^']*'|https://|Unicode", "", message))
        assert not words, (error["type"], message)
        assert CJK.search(message), (error["type"], message)


def test_english_messages_have_no_chinese(errors: list[dict[str, Any]]) -> None:
    for error in errors:
        message = validation_message(error, "en")
        assert not CJK.search(message), (error["type"], message)
        assert LATIN.search(message), (error["type"], message)


def test_lists_are_joined_in_the_callers_language(errors: list[dict[str, Any]]) -> None:
    literal = next(e for e in errors if e["type"] == "literal_error")
    assert validation_message(literal, "zh-CN") == "须为以下之一：0、1 或 2"
    assert validation_message(literal, "en") == "Should be 0, 1 or 2"
    colour = next(e for e in errors if e["type"] == "enum")
    assert validation_message(colour, "zh-CN") == "须为以下之一：'red'、'green' 或 'blue'"
    assert join_alternatives(["a"], "zh-CN") == "a"


def test_an_unknown_type_is_still_chinese_under_zh() -> None:
    error = {"type": "something_new", "msg": "Something new went wrong"}
    assert validation_message(error, "zh-CN") == "取值不正确"
    assert validation_message(error, "en") == "Something new went wrong"


async def test_an_api_answer_is_wholly_chinese(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/sms/codes", json={"phone": "13800138000", "purpose": "x"})
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["field"] == "purpose"
    assert error["message"] == (
        "须为以下之一：'login'、'bind'、'reset_password'、'change_phone' 或 'payment_password'"
    )
