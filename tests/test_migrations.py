from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from usercenter import schema
from usercenter.db import Database
from usercenter.models import metadata


def _diff(connection: Any) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


class TestMigrations:
    async def test_migrated_schema_matches_the_models(self, db: Database) -> None:
        async with db.engine.connect() as connection:
            assert await connection.run_sync(_diff) == []

    async def test_database_is_at_head(self, db: Database) -> None:
        status = await schema.schema_status(db)
        assert status.is_at_head
        assert status.current == schema.head_revisions()

    async def test_downgrade_to_base_and_up_again(self, db: Database) -> None:
        await schema.downgrade(db, "base")
        status = await schema.schema_status(db)
        assert status.current == ()
        assert not status.is_at_head
        await schema.upgrade(db)
        async with db.engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
