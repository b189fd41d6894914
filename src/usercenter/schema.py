"""The database schema's version: upgrade it to head, or tell how far behind it is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from usercenter.config import Backend
from usercenter.db import Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    current: tuple[str, ...]
    head: tuple[str, ...]

    @property
    def is_at_head(self) -> bool:
        return set(self.current) == set(self.head)

    def describe(self) -> str:
        current = ", ".join(self.current) or "empty"
        return f"schema at {current}, head is {', '.join(self.head)}"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revisions() -> tuple[str, ...]:
    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())


async def schema_status(database: Database) -> SchemaStatus:
    def read(connection: Connection) -> tuple[str, ...]:
        return tuple(MigrationContext.configure(connection).get_current_heads())

    async with database.engine.connect() as connection:
        current = await connection.run_sync(read)
    return SchemaStatus(current=current, head=head_revisions())


async def _run_alembic(
    database: Database, step: Callable[[Config, str], None], revision: str
) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        step(config, revision)

    async with database.engine.begin() as connection:
        await connection.run_sync(run)


async def upgrade(database: Database, revision: str = "head") -> None:
    """Run the migrations up to `revision` on this database, in one connection."""
    await _run_alembic(database, command.upgrade, revision)


async def downgrade(database: Database, revision: str) -> None:
    """Undo migrations down to `revision` ("base": an empty schema)."""
    await _run_alembic(database, command.downgrade, revision)


async def drop_all_tables(database: Database) -> None:
    """Drop every table in the database, ours or not (tests and benchmarks start from here)."""

    def drop(connection: Connection) -> None:
        existing = MetaData()
        existing.reflect(connection)
        existing.drop_all(connection)

    async with database.engine.begin() as connection:
        await connection.run_sync(drop)


class SchemaBehind(Exception):
    """The database is not at the code's head revision and will not be migrated implicitly."""

    def __init__(self, status: SchemaStatus) -> None:
        self.status = status
        super().__init__(f"database {status.describe()}: run `usercenter migrate` first")


async def prepare_schema(database: Database) -> SchemaStatus:
    """At head already, or migrated now if embedded (SQLite); a server database is refused."""
    status = await schema_status(database)
    if status.is_at_head:
        return status
    if database.backend is Backend.SQLITE:
        await upgrade(database)
        return await schema_status(database)
    raise SchemaBehind(status)
