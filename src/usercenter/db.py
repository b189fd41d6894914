"""Engines, sessions and the unit of work: the one place in the service that commits.

The transaction rule — every operation commits exactly once:

- **In the route's unit of work** (`Database.unit_of_work`, handed to routes as `WriteSession`):
  services take that session, `flush()` at most, and never open a transaction beside it. What
  a staff call writes and its admin-log entry commit together; a refused or failed call rolls
  back its work and commits its log entry alone (`keep_on_error`).
- **Or, for money, in the ledger posting** (`wallet.ledger`): a move commits in its batch
  transaction, which carries the operation's other rows — the admin-log entry of a staff
  action, events next — as side writes (`kit.side_rows.SideRow`), so they commit with the move
  or not at all. A posting is the operation's one commit: the route's session holds no write
  of its own beside it.
- **Background work** (the hold sweeper, the signing-key rotation, a CLI command) runs each
  step in a `unit_of_work` (or `run_in_transaction`, which retries a deadlock) of its own.
- **Allocators** keep short transactions of their own, committed before the operation that
  uses what they hand out: the id segment allocator (`ids`), and a refresh-token rotation's
  compare-and-set (`statement_connection`), whose whole point is to be atomic on its own.
  A rolled-back operation may leave a gap in ids, never a half-written change.

SQLite runs in WAL mode with a busy timeout, and its write transactions begin with
`BEGIN IMMEDIATE`: the write lock is taken at the start, so a transaction that reads and then
writes cannot fail with SQLITE_BUSY halfway through (SQLAlchemy's documented aiosqlite recipe:
the driver's own transaction handling is switched off and we emit BEGIN ourselves).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from usercenter.config import Backend, Settings, backend_of

T = TypeVar("T")

_SQLITE_BEGIN = "usercenter_sqlite_begin"
_KEEP_ON_ERROR = "usercenter_keep_on_error"

# Errors after which the whole transaction may simply be run again.
_RETRYABLE_MYSQL = {1213, 1205, 1020}  # deadlock, lock wait timeout, record changed
_RETRYABLE_SQLSTATE = {"40001", "40P01"}  # serialization failure, deadlock


def keep_on_error(session: AsyncSession) -> None:
    """Commit what `session` holds now even though its unit of work ends with an error: the
    caller has rolled the failed work back and written only what must stand (a log row)."""
    session.info[_KEEP_ON_ERROR] = True


@dataclass(frozen=True, slots=True)
class PoolStatus:
    size: int
    checked_out: int
    overflow: int


def _prepare_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_SQLITE_BEGIN, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def is_retryable(exc: BaseException) -> bool:
    """A deadlock or serialization failure: the transaction can be run again from the top."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate in _RETRYABLE_SQLSTATE:
        return True
    args: tuple[Any, ...] = tuple(getattr(orig, "args", ()))
    return bool(args) and isinstance(args[0], int) and args[0] in _RETRYABLE_MYSQL


class Database:
    """One database: its engine, a session factory for writes and one for reads."""

    def __init__(self, url: URL, *, settings: Settings) -> None:
        self.url = url
        self.backend = backend_of(url)
        kwargs: dict[str, Any] = {
            "echo": settings.database_echo,
            "pool_pre_ping": settings.database_pool_pre_ping,
        }
        if self.backend is Backend.SQLITE:
            kwargs["connect_args"] = {"timeout": settings.sqlite_busy_timeout_ms / 1000}
        else:
            kwargs.update(
                pool_size=settings.database_pool_size,
                max_overflow=settings.database_max_overflow,
                pool_timeout=settings.database_pool_timeout,
                pool_recycle=300,
            )
        if self.backend is Backend.MYSQL:
            # Reads inside a write see the latest committed rows, as on PostgreSQL.
            kwargs["isolation_level"] = "READ COMMITTED"
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        write_engine = self.engine
        if self.backend is Backend.SQLITE:
            _prepare_sqlite(self.engine, settings.sqlite_busy_timeout_ms)
            write_engine = self.engine.execution_options(**{_SQLITE_BEGIN: "IMMEDIATE"})
        self._write_engine = write_engine
        self._writer = async_sessionmaker(write_engine, expire_on_commit=False)
        self._reader = async_sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(settings.database, settings=settings)

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """A write transaction: committed when the block ends, rolled back if it raises —
        except for an error marked `keeps_changes` (a refused login whose audit row and
        counters must stand), or a session marked by `keep_on_error` (the admin-log row of a
        refused or failed staff call), which is committed and then raised."""
        async with self._writer() as session:
            try:
                yield session
            except BaseException as exc:
                if getattr(exc, "keeps_changes", False) or session.info.pop(_KEEP_ON_ERROR, False):
                    await session.commit()
                else:
                    await session.rollback()
                raise
            await session.commit()

    @asynccontextmanager
    async def statement_connection(self) -> AsyncIterator[AsyncConnection]:
        """A connection for a write that is atomic statement by statement (a compare-and-set
        UPDATE), outside any unit of work. On PostgreSQL every statement commits by itself,
        which spares the BEGIN and COMMIT round trips; elsewhere the block is one transaction,
        committed when it ends."""
        if self.backend is Backend.POSTGRESQL:
            async with self.engine.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                yield connection
            return
        async with self._write_engine.begin() as connection:
            yield connection

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction on a bare connection, for statements that need no ORM session
        (the ledger's batches): committed when the block ends, rolled back if it raises."""
        async with self._write_engine.begin() as connection:
            yield connection

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """A read-only session. Closing it ends its transaction (the pool rolls back) and
        leaves the rows it loaded readable."""
        async with self._reader() as session:
            yield session

    async def run_in_transaction(
        self, work: Callable[[AsyncSession], Awaitable[T]], *, attempts: int = 3
    ) -> T:
        """Run `work` in a unit of work, again from the top after a deadlock (bounded)."""
        for attempt in range(1, attempts + 1):
            try:
                async with self.unit_of_work() as session:
                    return await work(session)
            except DBAPIError as exc:
                if attempt == attempts or not is_retryable(exc):
                    raise
                await asyncio.sleep(0.005 * attempt)
        raise AssertionError("unreachable")

    async def ping(self) -> str:
        """Round-trip to the database; returns its version string."""
        query = {
            Backend.SQLITE: "SELECT 'SQLite ' || sqlite_version()",
            Backend.MYSQL: "SELECT VERSION()",
            Backend.POSTGRESQL: "SELECT version()",
        }[self.backend]
        async with self.engine.connect() as connection:
            return str((await connection.execute(text(query))).scalar_one())

    def pool_status(self) -> PoolStatus:
        pool: Any = self.engine.pool
        size = pool.size() if hasattr(pool, "size") else 0
        checked_out = pool.checkedout() if hasattr(pool, "checkedout") else 0
        overflow = max(pool.overflow(), 0) if hasattr(pool, "overflow") else 0
        return PoolStatus(size=size, checked_out=checked_out, overflow=overflow)

    async def dispose(self) -> None:
        await self.engine.dispose()
