"""Alembic environment: runs on the connection `usercenter.schema` hands over, or on
USERCENTER_DATABASE_URL when invoked as `alembic` from the project root."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from usercenter.models import metadata

config = context.config


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_settings() -> None:
    from usercenter.config import Settings
    from usercenter.db import Database

    database = Database.from_settings(Settings())
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(run_on)
    finally:
        await database.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    run_on(connection)
elif context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them on a database")
else:
    asyncio.run(run_from_settings())
