"""The cursor: what it names comes back, and nothing a BIGINT cannot hold gets through."""

from __future__ import annotations

import base64

import pytest

from usercenter.kit.errors import ValidationFailed
from usercenter.kit.pagination import decode_cursor, encode_cursor
from usercenter.kit.schemas import MAX_INT64


def raw(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize("last_id", [1, 42, MAX_INT64])
def test_a_cursor_names_the_id_it_was_made_for(last_id: int) -> None:
    assert decode_cursor(encode_cursor(last_id)) == last_id


@pytest.mark.parametrize(
    "cursor",
    [
        raw(f"v1:{MAX_INT64 + 1}"),
        raw(f"v1:{2**64}"),
        raw("v1:" + "9" * 400),
        raw("v1:0"),
        raw("v1:-1"),
        raw("v1:+5"),
        raw("v1: 5"),
        raw("v1:1_000"),
        raw("v2:5"),
        "not-a-cursor",
        "é",
    ],
)
def test_anything_else_is_refused_naming_the_cursor(cursor: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        decode_cursor(cursor)

    assert refused.value.field == "cursor"
