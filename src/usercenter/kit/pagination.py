"""Cursor pagination for logs and ledgers: an opaque cursor naming the last row seen."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Generic, TypeVar

from usercenter.errors import ValidationFailed
from usercenter.kit.schemas import MAX_INT64

T = TypeVar("T")

MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The id a cursor names; ValidationFailed (field `cursor`) when it is not one of ours."""
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = text.partition(":")
        last_id = int(value)
        if prefix != "v1" or not 1 <= last_id <= MAX_INT64:  # past it: an overflow in the driver
            raise ValueError(prefix)
        return last_id
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(field="cursor") from None
