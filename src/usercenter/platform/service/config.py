"""Configuration entries (seed 004 §9.2): typed values other modules and clients read, changed
by staff. The migrations add the entries (a key, its group, its type, whether it is public and
whether staff may change it); staff change only values, checked against the entry's type.

Other modules read an entry with `SystemConfig.get(key)`: a read-only session of its own and a
short in-process cache of all entries (`CACHE_SECONDS`), dropped in this process when a staff
change commits; another process sees the change within `CACHE_SECONDS`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from usercenter.audit.service import AuditDraft
from usercenter.db import Database
from usercenter.kit import clock
from usercenter.kit.i18n import Text
from usercenter.kit.schemas import MAX_INT64
from usercenter.platform import repository
from usercenter.platform.errors import (
    ConfigNotFound,
    ConfigReadOnly,
    ConfigValueInvalid,
    ConfigValueTooLong,
)
from usercenter.platform.models import SysConfig

CACHE_SECONDS = 30.0
# A TEXT column holds 65,535 bytes on MySQL and MariaDB.
MAX_VALUE_BYTES = 60_000


class ValueType(StrEnum):
    STRING = "string"
    INT = "int"
    BOOL = "bool"
    JSON = "json"


_EXPECTED = {
    ValueType.STRING: Text("字符串", "a string"),
    ValueType.INT: Text(f"整数（±{MAX_INT64} 以内）", f"an integer within ±{MAX_INT64}"),
    ValueType.BOOL: Text("true 或 false", "true or false"),
    ValueType.JSON: Text("任意 JSON 值", "any JSON value"),
}


def encode_value(key: str, value_type: ValueType, value: Any) -> str:
    """`value` as the entry stores it. Raises ConfigValueInvalid, ConfigValueTooLong."""
    ok = {
        ValueType.STRING: isinstance(value, str),
        ValueType.INT: isinstance(value, int)
        and not isinstance(value, bool)
        and -MAX_INT64 <= value <= MAX_INT64,
        ValueType.BOOL: isinstance(value, bool),
        ValueType.JSON: True,
    }[value_type]
    if not ok:
        raise ConfigValueInvalid(key=key, expected=_EXPECTED[value_type])
    if value_type is ValueType.STRING:
        text = str(value)
    elif value_type is ValueType.BOOL:
        text = "true" if value else "false"
    elif value_type is ValueType.INT:
        text = str(int(value))
    else:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if len(text.encode()) > MAX_VALUE_BYTES:
        raise ConfigValueTooLong(limit=MAX_VALUE_BYTES)
    return text


def decode_value(value_type: str, text: str) -> Any:
    """The stored text read back as its type."""
    if value_type == ValueType.INT:
        return int(text)
    if value_type == ValueType.BOOL:
        return text == "true"
    if value_type == ValueType.JSON:
        return json.loads(text)
    return text


@dataclass(frozen=True, slots=True)
class ConfigEntry:
    key: str
    group: str
    value: Any
    value_type: str
    description: str | None
    is_public: bool
    is_editable: bool
    updated_by: int | None
    updated_at: datetime

    @classmethod
    def of(cls, row: SysConfig) -> ConfigEntry:
        return cls(
            key=row.config_key,
            group=row.config_group,
            value=decode_value(row.value_type, row.config_value),
            value_type=row.value_type,
            description=row.description,
            is_public=row.is_public,
            is_editable=row.is_editable,
            updated_by=row.updated_by,
            updated_at=row.updated_at,
        )


class SystemConfig:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._entries: dict[str, ConfigEntry] = {}
        self._loaded_at = 0.0
        self._loaded = False

    async def get(self, key: str, default: Any = None) -> Any:
        """The value of entry `key`, typed (`default` when there is no such entry)."""
        entry = (await self._all()).get(key)
        return default if entry is None else entry.value

    def invalidate(self) -> None:
        self._loaded = False

    async def _all(self) -> dict[str, ConfigEntry]:
        now = clock.monotonic()
        if not self._loaded or now - self._loaded_at > CACHE_SECONDS:
            async with self.database.read_session() as session:
                rows = await repository.all_config(session)
            self._entries = {row.config_key: ConfigEntry.of(row) for row in rows}
            self._loaded_at = now
            self._loaded = True
        return self._entries

    # --- staff ------------------------------------------------------------------------------

    async def list_entries(self, session: AsyncSession) -> list[ConfigEntry]:
        """Every entry, by group and key."""
        return [ConfigEntry.of(row) for row in await repository.all_config(session)]

    async def set_value(
        self, session: AsyncSession, key: str, value: Any, *, staff_id: int, audit: AuditDraft
    ) -> ConfigEntry:
        """Change the value of entry `key`. Raises ConfigNotFound, ConfigReadOnly,
        ConfigValueInvalid, ConfigValueTooLong."""
        audit.target("config", key)
        row = await repository.config_by_key(session, key, lock=True)
        if row is None:
            raise ConfigNotFound(key=key)
        if not row.is_editable:
            raise ConfigReadOnly()
        row.config_value = encode_value(key, ValueType(row.value_type), value)
        row.updated_by = staff_id
        row.updated_at = clock.now()
        await session.flush()

        def committed(_session: object) -> None:
            self.invalidate()

        event.listen(session.sync_session, "after_commit", committed, once=True)
        return ConfigEntry.of(row)
