"""Keyset pagination for every list: an opaque cursor naming the last row seen, newest first.

A service lists a page with `keyset_page(fetch, cursor=…, limit=…)`, where `fetch(before_id,
size)` is the repository query (`WHERE id < :before_id ORDER BY id DESC LIMIT :size`); one
more row than asked tells whether a next page exists.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from usercenter.kit.errors import ValidationFailed
from usercenter.kit.schemas import MAX_INT64

T = TypeVar("T")

MAX_PAGE_SIZE = 100

_DIGITS = re.compile(r"[0-9]{1,19}")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The id a cursor names; ValidationFailed (field `cursor`) when it is not one of ours:
    not ours in shape, or naming an id no BIGINT column holds (1 to MAX_INT64)."""
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = text.partition(":")
        if prefix != "v1" or not _DIGITS.fullmatch(value):
            raise ValueError(prefix)
        last_id = int(value)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(field="cursor") from None
    if not 1 <= last_id <= MAX_INT64:
        raise ValidationFailed(field="cursor")
    return last_id


async def keyset_page(
    fetch: Callable[[int | None, int], Awaitable[list[T]]],
    *,
    cursor: str | None,
    limit: int,
    key: Callable[[T], int] = lambda row: int(getattr(row, "id")),  # noqa: B009
) -> Page[T]:
    """One page, newest first: `fetch(before_id, size)` runs the query for up to `size` rows
    with ids below `before_id` (all, when None). Raises ValidationFailed (field `cursor`) for a
    cursor that is not one of ours."""
    rows = await fetch(decode_cursor(cursor), limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=rows, next_cursor=encode_cursor(key(rows[-1])) if more and rows else None)
