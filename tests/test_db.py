from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text, update

from usercenter.db import Database
from usercenter.ids.models import IdSegment


async def _bump_by_read_then_write(db: Database) -> None:
    """Read a value, then write it back plus one: the lost-update shape, on purpose."""
    async with db.unit_of_work() as session:
        value = await session.scalar(
            select(IdSegment.max_id).where(IdSegment.biz_type == "ORDER").with_for_update()
        )
        await asyncio.sleep(0.005)
        await session.execute(
            update(IdSegment).where(IdSegment.biz_type == "ORDER").values(max_id=(value or 0) + 1)
        )


class TestUnitOfWork:
    async def test_commits_when_the_block_ends(self, db: Database) -> None:
        async with db.unit_of_work() as session:
            await session.execute(update(IdSegment).values(step=7))
        async with db.read_session() as session:
            assert set(await session.scalars(select(IdSegment.step))) == {7}

    async def test_rolls_back_everything_when_the_block_raises(self, db: Database) -> None:
        async def fail_halfway() -> None:
            async with db.unit_of_work() as session:
                await session.execute(update(IdSegment).values(step=7))
                raise RuntimeError("halfway")

        with pytest.raises(RuntimeError):
            await fail_halfway()
        async with db.read_session() as session:
            assert 7 not in set(await session.scalars(select(IdSegment.step)))

    async def test_read_then_write_transactions_serialize_without_busy_errors(
        self, db: Database
    ) -> None:
        """On SQLite, BEGIN IMMEDIATE takes the write lock up front, so 20 concurrent
        read-then-write transactions neither fail with 'database is locked' nor lose updates;
        elsewhere SELECT ... FOR UPDATE does the same."""
        await asyncio.gather(*(_bump_by_read_then_write(db) for _ in range(20)))
        async with db.read_session() as session:
            value = await session.scalar(
                select(IdSegment.max_id).where(IdSegment.biz_type == "ORDER")
            )
        assert value == 20

    async def test_sqlite_runs_in_wal_mode(self, db: Database, backend_name: str) -> None:
        if backend_name != "sqlite":
            pytest.skip("SQLite only")
        async with db.engine.connect() as connection:
            mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
            timeout = (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one()
        assert mode == "wal"
        assert timeout > 0

    async def test_ping_reports_the_server_version(self, db: Database, backend_name: str) -> None:
        version = await db.ping()
        expected = {"sqlite": "SQLite", "mysql": "MariaDB", "postgresql": "PostgreSQL"}
        assert expected[backend_name] in version
