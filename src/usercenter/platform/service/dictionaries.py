"""The system dictionary (seed 004 §9.1): enumerations kept as data, edited by staff.

A (dict_type, dict_code) pair is unique and never changes once made (other services store the
code); everything else about an entry can. Entries may form a tree through `parent_id`; an
entry with children cannot be deleted, and no entry can become its own ancestor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.audit.service import AuditDraft
from usercenter.kit import clock
from usercenter.kit.errors import ValidationFailed
from usercenter.kit.pagination import Page, keyset_page
from usercenter.platform import repository
from usercenter.platform.errors import (
    DictCodeTaken,
    DictEntryNotFound,
    DictHasChildren,
    DictParentCycle,
    DictParentNotFound,
)
from usercenter.platform.models import SysDict

# Fields an entry always has: an update may change them, not clear them.
REQUIRED = ("dict_name", "sort_order", "is_active")
# How far up a parent chain is followed before it is called a cycle.
MAX_DEPTH = 32


@dataclass(frozen=True, slots=True)
class DictTypeCount:
    dict_type: str
    entries: int
    active_entries: int


class Dictionaries:
    async def list_entries(
        self, session: AsyncSession, *, dict_type: str | None, cursor: str | None, limit: int
    ) -> Page[SysDict]:
        """A page of entries (of one type, when given), newest first."""

        async def fetch(before_id: int | None, size: int) -> list[SysDict]:
            return await repository.dict_page(session, dict_type, before_id, size)

        return await keyset_page(fetch, cursor=cursor, limit=limit)

    async def list_types(self, session: AsyncSession) -> list[DictTypeCount]:
        return [DictTypeCount(*row) for row in await repository.dict_types(session)]

    async def create_entry(
        self, session: AsyncSession, values: dict[str, Any], audit: AuditDraft
    ) -> SysDict:
        """Add an entry. Raises DictCodeTaken, DictParentNotFound."""
        dict_type, dict_code = values["dict_type"], values["dict_code"]
        if await repository.find_dict(session, dict_type, dict_code) is not None:
            raise DictCodeTaken(dict_type=dict_type, dict_code=dict_code)
        if values.get("parent_id") is not None:
            await self._check_parent(session, None, values["parent_id"])
        now = clock.now()
        row = SysDict(**values, created_at=now, updated_at=now)
        session.add(row)
        try:
            await session.flush()
        except IntegrityError:  # added by another call since the check
            raise DictCodeTaken(dict_type=dict_type, dict_code=dict_code) from None
        audit.target("dict", row.id)
        return row

    async def update_entry(
        self, session: AsyncSession, row_id: int, changes: dict[str, Any]
    ) -> SysDict:
        """Change what the caller sent (never the type or code). Raises DictEntryNotFound,
        DictParentNotFound, DictParentCycle,
        ValidationFailed (a required field sent as null)."""
        for name in REQUIRED:
            if name in changes and changes[name] is None:
                raise ValidationFailed(field=name)
        row = await self._entry_or_raise(session, row_id, lock=True)
        if changes.get("parent_id") is not None:
            await self._check_parent(session, row.id, changes["parent_id"])
        for name, value in changes.items():
            setattr(row, name, value)
        row.updated_at = clock.now()
        await session.flush()
        return row

    async def delete_entry(self, session: AsyncSession, row_id: int) -> None:
        """Raises DictEntryNotFound, DictHasChildren."""
        row = await self._entry_or_raise(session, row_id, lock=True)
        if await repository.dict_has_children(session, row.id):
            raise DictHasChildren()
        await session.delete(row)
        await session.flush()

    async def _entry_or_raise(self, session: AsyncSession, row_id: int, *, lock: bool) -> SysDict:
        row = await repository.dict_by_id(session, row_id, lock=lock)
        if row is None:
            raise DictEntryNotFound()
        return row

    async def _check_parent(
        self, session: AsyncSession, row_id: int | None, parent_id: int
    ) -> None:
        """The parent exists, and `row_id` is not it nor above it."""
        if await repository.dict_by_id(session, parent_id) is None:
            raise DictParentNotFound()
        current: int | None = parent_id
        for _ in range(MAX_DEPTH):
            if current is None:
                return
            if current == row_id:
                raise DictParentCycle()
            current = await repository.dict_parent_of(session, current)
        raise DictParentCycle()
