from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

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


async def _lock_two_rows(
    db: Database, first: str, second: str, both_hold_one: asyncio.Barrier, attempts: list[str]
) -> None:
    async def work(session: AsyncSession) -> None:
        attempts.append(first)
        await session.execute(
            update(IdSegment).where(IdSegment.biz_type == first).values(step=IdSegment.step + 1)
        )
        if len(attempts) <= 2:  # only the first attempts wait for each other
            await asyncio.wait_for(both_hold_one.wait(), 5)
        await session.execute(
            update(IdSegment).where(IdSegment.biz_type == second).values(step=IdSegment.step + 1)
        )

    await db.run_in_transaction(work)


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

    async def test_connections_are_set_up_for_safe_concurrent_writes(
        self, db: Database, backend_name: str
    ) -> None:
        """SQLite: WAL and a busy timeout. MariaDB/PostgreSQL: READ COMMITTED, so a read inside a
        write transaction sees the newest committed rows on both."""
        queries = {
            "sqlite": ["PRAGMA journal_mode", "PRAGMA busy_timeout"],
            "mysql": ["SELECT @@tx_isolation"],
            "postgresql": ["SHOW transaction_isolation"],
        }[backend_name]
        async with db.unit_of_work() as session:
            values = [(await session.execute(text(query))).scalar_one() for query in queries]
        expected = {
            "sqlite": ["wal", 10_000],
            "mysql": ["READ-COMMITTED"],
            "postgresql": ["read committed"],
        }[backend_name]
        assert values == expected

    async def test_deadlocked_transactions_are_run_again(
        self, db: Database, backend_name: str
    ) -> None:
        """Two transactions take two rows in opposite order. The server kills one as a deadlock
        victim; run_in_transaction runs it again, and both changes land exactly once."""
        barrier = asyncio.Barrier(2)
        attempts: list[str] = []
        if backend_name == "sqlite":
            # BEGIN IMMEDIATE lets only one writer in: no deadlock to begin with.
            barrier = asyncio.Barrier(1)
        await asyncio.gather(
            _lock_two_rows(db, "ORDER", "COIN_LOG", barrier, attempts),
            _lock_two_rows(db, "COIN_LOG", "ORDER", barrier, attempts),
        )
        async with db.read_session() as session:
            rows = (await session.execute(select(IdSegment.biz_type, IdSegment.step))).all()
        steps = {biz_type: step for biz_type, step in rows}
        assert steps["ORDER"] == 1000 + 2
        assert steps["COIN_LOG"] == 2000 + 2
        if backend_name != "sqlite":
            assert len(attempts) == 3, "the deadlock victim was not run again"

    async def test_ping_reports_the_server_version(self, db: Database, backend_name: str) -> None:
        version = await db.ping()
        expected = {"sqlite": "SQLite", "mysql": "MariaDB", "postgresql": "PostgreSQL"}
        assert expected[backend_name] in version
