"""Portable INSERT-unless-present for the profile's per-user rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert


def insert_ignoring_duplicates(
    session: AsyncSession, table: Table, values: dict[str, Any]
) -> Insert:
    """INSERT of one row that does nothing when its key exists (ON CONFLICT DO NOTHING; on
    MySQL and MariaDB an ON DUPLICATE KEY UPDATE of the key to itself, not INSERT IGNORE,
    which would hide other errors too)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).values(values).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).values(values).on_conflict_do_nothing()
    key = table.primary_key.columns.values()[0]
    statement = mysql.insert(table).values(values)
    return statement.on_duplicate_key_update({key.name: statement.inserted[key.name]})
